using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using OrleansVectors.Connections;

namespace OrleansVectors.Client.Hosting;

/// <summary>
/// Everything a client needs to reach an OrleansVectors cluster: the <see cref="ClusterSettings"/> it shares with the
/// silos, the gateways' ports on this machine and the API key. Bind it from configuration section
/// <see cref="SectionName"/> or set it in code, then call <see cref="ClusterConnectionExtensions.UseOrleansVectorsCluster(IClientBuilder, string)"/>
/// or <see cref="ClusterConnectionExtensions.ConnectAsync"/>; bad settings stop the client at start, naming the setting.
/// </summary>
public sealed class ClusterConnectionOptions : ClusterSettings
{
    /// <summary>The configuration section a client's connection is bound from by default.</summary>
    public const string SectionName = "OrleansVectors:Cluster";

    /// <summary>The gateways' loopback ports (<see cref="ClusteringKind.Localhost"/>; default <see cref="ClusterSettings.DefaultGatewayPort"/>).</summary>
    public IList<int> GatewayPorts { get; set; } = [DefaultGatewayPort];

    /// <summary>The key the silos require (OrleansVectors:ApiKey), if they do.</summary>
    public string? ApiKey { get; set; }

    /// <inheritdoc/>
    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var result in base.Validate(validationContext))
        {
            yield return result;
        }

        if (Clustering == ClusteringKind.Localhost && (GatewayPorts.Count == 0 || GatewayPorts.Any(p => p is < 1 or > 65535)))
        {
            yield return new ValidationResult($"must hold TCP ports (1-65535) with Localhost clustering; got [{string.Join(", ", GatewayPorts)}]", [nameof(GatewayPorts)]);
        }
    }

    /// <summary>Where the client looked, for error messages.</summary>
    internal string Describe() => Clustering == ClusteringKind.Localhost
        ? $"on localhost port {string.Join(", ", GatewayPorts)}"
        : $"among the gateways in the membership table of cluster '{ClusterId}'";

    /// <summary>Copies these settings into options the host creates (a connection given in code).</summary>
    internal void CopyTo(ClusterConnectionOptions target)
    {
        (target.Clustering, target.StorageConnectionString, target.ClusterId, target.ServiceId, target.Tls) = (Clustering, StorageConnectionString, ClusterId, ServiceId, Tls);
        (target.GatewayPorts, target.ApiKey) = (GatewayPorts, ApiKey);
    }
}

/// <summary>Validates <see cref="ClusterConnectionOptions"/> when the client starts (generated from its rules).</summary>
[OptionsValidator]
public sealed partial class ClusterConnectionOptionsValidator : IValidateOptions<ClusterConnectionOptions>;
