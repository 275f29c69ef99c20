using System.Net;
using Microsoft.Extensions.Options;
using OrleansVectors.Client.Hosting;

namespace OrleansVectors.Silo;

/// <summary>How this silo joins its cluster and where it keeps its data (configuration section "Silo"; environment variables Silo__SiloPort, …).</summary>
public sealed class SiloSettings
{
    /// <summary>The silo's name in logs, membership and metrics (on Kubernetes: the pod's name).</summary>
    public string Name { get; set; } = "silo-0";

    /// <summary>
    /// <see cref="ClusteringKind.Localhost"/> (the embedded default: a development cluster on this machine whose
    /// membership the primary silo holds) or <see cref="ClusteringKind.AzureTable"/> (production: membership in the
    /// storage account of <see cref="StorageConnectionString"/>).
    /// </summary>
    public ClusteringKind Clustering { get; set; } = ClusteringKind.Localhost;

    /// <summary>The cluster's id: the silos and clients of one deployment share it.</summary>
    public string ClusterId { get; set; } = ClusterConnectionOptions.DefaultId;

    /// <summary>The service's id: stable across deployments (grain state is keyed by it).</summary>
    public string ServiceId { get; set; } = ClusterConnectionOptions.DefaultId;

    /// <summary>Port for silo-to-silo traffic.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port clients connect to.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Port of the HTTP endpoints: /healthz/live, /healthz/ready and /metrics (Prometheus).</summary>
    public int HttpPort { get; set; } = 8080;

    /// <summary>The primary silo's port, with localhost clustering; equal to <see cref="SiloPort"/> on the primary itself.</summary>
    public int PrimarySiloPort { get; set; } = 11111;

    /// <summary>
    /// The address other silos and clients reach this one at (AzureTable clustering). Empty: the POD_IP environment
    /// variable (Kubernetes' downward API) when set, else the host's own address.
    /// </summary>
    public string? AdvertisedIPAddress { get; set; }

    /// <summary>
    /// Where everything durable is kept when <see cref="StorageConnectionString"/> is empty (grain state, shard logs,
    /// snapshots), and where the silo writes its ready file; shared by the silos of one machine.
    /// </summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// An Azure Storage connection string (or "UseDevelopmentStorage=true" for a local Azurite): when set, grain
    /// state, shard logs and snapshots all go to that account, and so does membership with AzureTable clustering;
    /// when empty (the default), storage is files under <see cref="DataDirectory"/>.
    /// </summary>
    public string? StorageConnectionString { get; set; }

    /// <summary>The blob container for shard logs and snapshots when <see cref="StorageConnectionString"/> is set.</summary>
    public string StorageContainer { get; set; } = "orleansvectors";

    /// <summary>
    /// On Kubernetes: Orleans' Kubernetes hosting (names and ids from the pod, and silos whose pods are gone are
    /// declared dead at once). Needs the pod permissions of k8s/base (see the README).
    /// </summary>
    public bool KubernetesHosting { get; set; }

    /// <summary>
    /// With <see cref="KubernetesHosting"/>: also delete the pods of silos the cluster declared dead (Orleans'
    /// DeleteDefunctSiloPods; needs the delete verb on pods, k8s/components/delete-defunct-pods).
    /// </summary>
    public bool KubernetesDeleteDefunctSiloPods { get; set; }

    /// <summary>Mutual TLS between silos and with clients (certificate, key and CA as PEM files).</summary>
    public TlsCertificateFiles Tls { get; set; } = new();

    /// <summary>The address to advertise: <see cref="AdvertisedIPAddress"/>, POD_IP, or null for the host's own.</summary>
    public IPAddress? AdvertisedAddress() =>
        (string.IsNullOrWhiteSpace(AdvertisedIPAddress) ? Environment.GetEnvironmentVariable("POD_IP") : AdvertisedIPAddress) is { Length: > 0 } text
            ? IPAddress.Parse(text)
            : null;
}

/// <summary>Rejects settings the silo cannot start with, naming the setting.</summary>
public sealed class SiloSettingsValidator : IValidateOptions<SiloSettings>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, SiloSettings options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!Enum.IsDefined(options.Clustering))
        {
            failures.Add($"Silo:Clustering must be Localhost or AzureTable; got {options.Clustering}.");
        }

        if (options.Clustering == ClusteringKind.AzureTable && string.IsNullOrWhiteSpace(options.StorageConnectionString))
        {
            failures.Add("Silo:Clustering AzureTable keeps membership in the storage account: set Silo:StorageConnectionString.");
        }

        foreach (var (setting, port) in new[] { ("SiloPort", options.SiloPort), ("GatewayPort", options.GatewayPort), ("PrimarySiloPort", options.PrimarySiloPort), ("HttpPort", options.HttpPort) })
        {
            if (port is < 1 or > 65535)
            {
                failures.Add($"Silo:{setting} must be a TCP port (1-65535); got {port}.");
            }
        }

        if (string.IsNullOrWhiteSpace(options.ClusterId) || string.IsNullOrWhiteSpace(options.ServiceId))
        {
            failures.Add("Silo:ClusterId and Silo:ServiceId must not be empty.");
        }

        var address = string.IsNullOrWhiteSpace(options.AdvertisedIPAddress) ? Environment.GetEnvironmentVariable("POD_IP") : options.AdvertisedIPAddress;
        if (!string.IsNullOrWhiteSpace(address) && !IPAddress.TryParse(address, out _))
        {
            failures.Add($"Silo:AdvertisedIPAddress (or POD_IP) must be an IP address; got '{address}'.");
        }

        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            failures.Add("Silo:DataDirectory must name a directory.");
        }

        failures.AddRange(options.Tls.Problems("Silo:Tls"));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
