namespace OrleansVectors.GrainInterfaces;

/// <summary>Where a client's credentials travel with each call: the Orleans request context.</summary>
public static class ClientCredentials
{
    /// <summary>The request-context key of the API key a client sends (see <c>AddOrleansVectors(apiKey)</c>).</summary>
    public const string ApiKeyHeader = "ov-api-key";
}
