using Azure.Data.Tables;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace OrleansVectors.Client.Hosting;

/// <summary>How a cluster's silos find each other and clients find the silos.</summary>
public enum ClusteringKind
{
    /// <summary>A development cluster on this machine: gateways on loopback ports, membership held by the primary silo.</summary>
    Localhost,

    /// <summary>Production: membership in Azure Table storage (the OrleansSiloInstances table), gateways found there.</summary>
    AzureTable,
}

/// <summary>
/// Everything a client needs to reach an OrleansVectors cluster: membership, cluster and service ids, TLS and the
/// API key. Bind it from configuration or set it in code, then call
/// <see cref="ClusterConnectionExtensions.UseOrleansVectorsCluster"/> or <see cref="ClusterConnectionExtensions.ConnectAsync"/>.
/// </summary>
public sealed class ClusterConnectionOptions
{
    /// <summary>The default cluster and service id of silos and clients.</summary>
    public const string DefaultId = "orleansvectors";

    /// <summary>How the cluster's gateways are found.</summary>
    public ClusteringKind Clustering { get; set; } = ClusteringKind.Localhost;

    /// <summary>The gateways' loopback ports (<see cref="ClusteringKind.Localhost"/>).</summary>
    public IList<int> GatewayPorts { get; set; } = [30000];

    /// <summary>The storage account holding the membership table (<see cref="ClusteringKind.AzureTable"/>); "UseDevelopmentStorage=true" for a local Azurite.</summary>
    public string? StorageConnectionString { get; set; }

    /// <summary>The cluster's id: silos and clients of one deployment share it.</summary>
    public string ClusterId { get; set; } = DefaultId;

    /// <summary>The service's id: stable across deployments of the service.</summary>
    public string ServiceId { get; set; } = DefaultId;

    /// <summary>Mutual TLS with the silos, when they require it.</summary>
    public TlsCertificateFiles Tls { get; set; } = new();

    /// <summary>The key the silos require (OrleansVectors:ApiKey), if they do.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming every setting that cannot work.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (Clustering == ClusteringKind.Localhost && (GatewayPorts.Count == 0 || GatewayPorts.Any(p => p is < 1 or > 65535)))
        {
            problems.Add($"Localhost clustering needs gateway ports (1-65535); got [{string.Join(", ", GatewayPorts)}].");
        }

        if (Clustering == ClusteringKind.AzureTable && string.IsNullOrWhiteSpace(StorageConnectionString))
        {
            problems.Add("AzureTable clustering needs the storage connection string of the membership table.");
        }

        if (string.IsNullOrWhiteSpace(ClusterId) || string.IsNullOrWhiteSpace(ServiceId))
        {
            problems.Add("ClusterId and ServiceId must not be empty.");
        }

        problems.AddRange(Tls.Problems("Tls"));
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems));
        }
    }

    /// <summary>Where the client looked, for error messages.</summary>
    internal string Describe() => Clustering == ClusteringKind.Localhost
        ? $"on localhost port {string.Join(", ", GatewayPorts)}"
        : $"among the gateways in the membership table of cluster '{ClusterId}'";
}

/// <summary>Connects Orleans clients to an OrleansVectors cluster.</summary>
public static class ClusterConnectionExtensions
{
    /// <summary>Configures membership, ids, TLS and the API key of <paramref name="connection"/>, and adds <see cref="VectorIndexClient"/>.</summary>
    public static IClientBuilder UseOrleansVectorsCluster(this IClientBuilder builder, ClusterConnectionOptions connection)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connection);
        connection.Validate();
        if (connection.Clustering == ClusteringKind.Localhost)
        {
            builder.UseLocalhostClustering([.. connection.GatewayPorts], connection.ServiceId, connection.ClusterId);
        }
        else
        {
            builder.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (connection.ClusterId, connection.ServiceId));
            builder.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(connection.StorageConnectionString));
        }

        if (connection.Tls.Enabled)
        {
            var tls = connection.Tls;
            builder.UseTls(o => tls.Configure(o));
        }

        return builder.AddOrleansVectors(connection.ApiKey);
    }

    /// <summary>
    /// Starts a client of the cluster, retrying while silos start, and gives up after <paramref name="timeout"/> with a
    /// <see cref="TimeoutException"/> that says where it looked and the last error.
    /// </summary>
    public static async Task<IHost> ConnectAsync(ClusterConnectionOptions connection, TimeSpan timeout, Action<ILoggingBuilder>? logging = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        connection.Validate();
        using var deadline = new CancellationTokenSource(timeout);
        Exception? last = null;
        while (!deadline.IsCancellationRequested)
        {
            var builder = Host.CreateApplicationBuilder();
            logging?.Invoke(builder.Logging);
            builder.UseOrleansClient(client => client.UseOrleansVectorsCluster(connection));
            var host = builder.Build();
            try
            {
                await host.StartAsync(deadline.Token);
                return host;
            }
            catch (Exception e)
            {
                last = e;
                host.Dispose();
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        throw new TimeoutException(
            $"No gateway answered {connection.Describe()} within {timeout.TotalSeconds:0} s ({(last is null or OperationCanceledException ? "no answer" : last.Message.Split('\n')[0])}). Is the cluster running?");
    }
}
