using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Hosting;

namespace OrleansVectors.Grains.Security;

/// <summary>
/// The embedded authentication: with <see cref="OrleansVectorsOptions.ApiKey"/> set, a client call must carry the
/// same key (<see cref="ClientCredentials.ApiKeyHeader"/>, compared in constant time); unset, every client is admitted.
/// </summary>
public sealed class ApiKeyAuthenticator(IOptions<OrleansVectorsOptions> options) : IClientAuthenticator
{
    /// <inheritdoc/>
    public ValueTask<string?> AuthenticateAsync(IIncomingGrainCallContext context)
    {
        var expected = options.Value.ApiKey;
        if (string.IsNullOrEmpty(expected))
        {
            return ValueTask.FromResult<string?>(null);
        }

        var given = RequestContext.Get(ClientCredentials.ApiKeyHeader) as string ?? "";
        return ValueTask.FromResult(CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected))
            ? null
            : given.Length == 0
                ? "this cluster requires an API key: configure the client with AddOrleansVectors(apiKey)"
                : "the API key is not the cluster's");
    }
}
