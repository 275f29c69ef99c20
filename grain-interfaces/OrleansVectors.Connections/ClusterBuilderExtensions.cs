using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Connections.Security;

namespace OrleansVectors.Connections;

/// <summary>
/// The one place that applies <see cref="ClusterSettings"/>: the Localhost / AzureTable membership switch, the cluster and
/// service ids, and mutual TLS, for a silo and for a client.
/// </summary>
/// <remarks>
/// Which membership provider is added is decided as the host is built (the <c>clustering</c> argument of each method);
/// every value the providers use is read from <c>IOptions&lt;TSettings&gt;</c> when Orleans first asks for it, so a
/// setting that breaks its rule stops the host at start with the validator's message, before any value is used.
/// </remarks>
public static class ClusterBuilderExtensions
{
    /// <summary>
    /// Joins a silo to the cluster that <typeparamref name="TSettings"/> (registered options, validated at start) describe.
    /// With <see cref="ClusteringKind.Localhost"/> the primary silo keeps membership at <paramref name="primarySilo"/>
    /// (this silo's own endpoint on the primary); the silo's endpoints are the host's to configure.
    /// </summary>
    public static ISiloBuilder UseOrleansVectorsCluster<TSettings>(this ISiloBuilder builder, ClusteringKind clustering, Func<TSettings, IPEndPoint> primarySilo)
        where TSettings : ClusterSettings
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(primarySilo);
        ConfigureIds<TSettings>(builder.Services);
        if (clustering == ClusteringKind.Localhost)
        {
            builder.UseDevelopmentClustering(membership =>
                membership.Configure<IOptions<TSettings>>((o, settings) => o.PrimarySiloEndpoint = primarySilo(settings.Value)));
        }
        else
        {
            builder.UseAzureStorageClustering(membership =>
                membership.Configure<IOptions<TSettings>>((o, settings) => o.TableServiceClient = settings.Value.CreateTableServiceClient()));
        }

        builder.Services.AddOptions<SiloConnectionOptions>().Configure<IOptions<TSettings>>((connections, settings) =>
        {
            if (ToTlsOptions(settings.Value) is { } tls)
            {
                connections.ConfigureSiloInboundConnection(connection => connection.UseServerTls(tls));
                connections.ConfigureGatewayInboundConnection(connection => connection.UseServerTls(tls));
                connections.ConfigureSiloOutboundConnection(connection => connection.UseClientTls(tls));
            }
        });
        return builder;
    }

    /// <summary>
    /// Connects a client to the cluster that <typeparamref name="TSettings"/> (registered options, validated at start)
    /// describe. With <see cref="ClusteringKind.Localhost"/> the client knows the gateways by their loopback
    /// <paramref name="gatewayPorts"/>; with <see cref="ClusteringKind.AzureTable"/> it finds them in the membership table.
    /// </summary>
    public static IClientBuilder UseOrleansVectorsCluster<TSettings>(this IClientBuilder builder, ClusteringKind clustering, Func<TSettings, IEnumerable<int>> gatewayPorts)
        where TSettings : ClusterSettings
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(gatewayPorts);
        ConfigureIds<TSettings>(builder.Services);
        if (clustering == ClusteringKind.Localhost)
        {
            builder.UseStaticClustering(gateways => gateways.Configure<IOptions<TSettings>>((o, settings) =>
                o.Gateways = [.. gatewayPorts(settings.Value).Select(port => new IPEndPoint(IPAddress.Loopback, port).ToGatewayUri())]));
        }
        else
        {
            builder.UseAzureStorageClustering(gateways =>
                gateways.Configure<IOptions<TSettings>>((o, settings) => o.TableServiceClient = settings.Value.CreateTableServiceClient()));
        }

        builder.Services.AddOptions<ClientConnectionOptions>().Configure<IOptions<TSettings>>((connections, settings) =>
        {
            if (ToTlsOptions(settings.Value) is { } tls)
            {
                connections.ConfigureConnection(connection => connection.UseClientTls(tls));
            }
        });
        return builder;
    }

    /// <summary>The cluster and service ids, from the validated settings, for silo and client alike.</summary>
    private static void ConfigureIds<TSettings>(IServiceCollection services)
        where TSettings : ClusterSettings =>
        services.AddOptions<ClusterOptions>().Configure<IOptions<TSettings>>((o, settings) => settings.Value.ApplyIds(o));

    private static TlsOptions? ToTlsOptions(ClusterSettings settings)
    {
        if (!settings.Tls.Enabled)
        {
            return null;
        }

        var tls = new TlsOptions();
        settings.Tls.Configure(tls);
        return tls;
    }
}
