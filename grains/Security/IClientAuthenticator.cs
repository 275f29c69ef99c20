namespace OrleansVectors.Grains.Security;

/// <summary>
/// Decides whether a call from a client may proceed: the hook for client authentication. Register one in the
/// silo's services to replace the default (<see cref="ApiKeyAuthenticator"/>, which admits everyone while
/// <c>OrleansVectors:ApiKey</c> is unset). Calls between grains are not asked.
/// </summary>
public interface IClientAuthenticator
{
    /// <summary>Null to admit the call, or why it is refused (sent back to the client).</summary>
    ValueTask<string?> AuthenticateAsync(IIncomingGrainCallContext context);
}
