using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansVectors.Client.Hosting;

namespace OrleansVectors.Cli;

/// <summary>Starts a client of the cluster: the tool's <see cref="ClusterConnectionExtensions.ConnectAsync"/>, a seam for tests.</summary>
internal delegate Task<IHost> ClusterConnector(ClusterConnectionOptions connection, TimeSpan timeout);

/// <summary>
/// One command's link to the cluster. A command reads and checks its input first and connects last, so a bad file or
/// setting fails without waiting on gateways; the client is stopped when the command ends.
/// </summary>
internal sealed class ClusterSession(ParseResult parseResult, ConnectionOptions options, ClusterConnector connect) : IDisposable
{
    private IHost? _host;

    /// <summary>The client, connecting on first use with the connection options and OVX_* variables.</summary>
    /// <exception cref="UsageException">A connection setting is wrong (nothing was tried).</exception>
    /// <exception cref="TimeoutException">No gateway answered within --connect-timeout.</exception>
    public async Task<VectorIndexClient> ConnectAsync()
    {
        _host ??= await connect(options.Read(parseResult), options.ReadConnectTimeout(parseResult));
        return _host.Services.GetRequiredService<VectorIndexClient>();
    }

    public void Dispose() => _host?.Dispose();
}
