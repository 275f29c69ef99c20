using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansVectors.Connections;
using OrleansVectors.Grains.Hosting;

namespace OrleansVectors.Silo;

/// <summary>
/// How this silo joins its cluster and where it keeps its data (configuration section <see cref="SectionName"/>;
/// environment variables Silo__SiloPort, …), besides the clustering, ids and TLS it shares with clients
/// (<see cref="ClusterSettings"/>). Validated when the silo starts by <see cref="SiloSettingsValidator"/>.
/// </summary>
public sealed class SiloSettings : ClusterSettings
{
    /// <summary>The configuration section these settings are bound from.</summary>
    public const string SectionName = "Silo";

    /// <summary>The silo's name unless configured.</summary>
    public const string DefaultName = "silo-0";

    /// <summary>The silo's name in logs, membership and metrics (on Kubernetes: the pod's name).</summary>
    [Required(ErrorMessage = "must not be empty")]
    public string Name { get; set; } = DefaultName;

    /// <summary>Port for silo-to-silo traffic.</summary>
    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port clients connect to.</summary>
    [Range(1, 65535)]
    public int GatewayPort { get; set; } = DefaultGatewayPort;

    /// <summary>Port of the HTTP endpoints: /healthz/live, /healthz/ready and /metrics (Prometheus).</summary>
    [Range(1, 65535)]
    public int HttpPort { get; set; } = 8080;

    /// <summary>The primary silo's port, with localhost clustering; equal to <see cref="SiloPort"/> on the primary itself.</summary>
    [Range(1, 65535)]
    public int PrimarySiloPort { get; set; } = 11111;

    /// <summary>
    /// The address other silos and clients reach this one at (AzureTable clustering). Empty: the POD_IP environment
    /// variable (Kubernetes' downward API) when set, else the host's own address.
    /// </summary>
    public string? AdvertisedIPAddress { get; set; }

    /// <summary>
    /// Where everything durable is kept when <see cref="ClusterSettings.StorageConnectionString"/> is empty (grain state,
    /// shard logs, snapshots), and where the silo writes its ready file; shared by the silos of one machine.
    /// </summary>
    [Required(ErrorMessage = "must name a directory")]
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// The blob container for shard logs and snapshots when <see cref="ClusterSettings.StorageConnectionString"/> is set
    /// (grain state goes to this name with "-grains" appended).
    /// </summary>
    [Required(ErrorMessage = "must name a blob container")]
    [RegularExpression("^(?=.{3,56}$)[a-z0-9]+(-[a-z0-9]+)*$",
        ErrorMessage = "must be a blob container name: 3-56 lowercase letters, digits and single hyphens, starting and ending with a letter or digit (\"-grains\" is appended for grain state)")]
    public string StorageContainer { get; set; } = OrleansVectorsSiloBuilderExtensions.DefaultContainer;

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

    /// <summary><see cref="DataDirectory"/> as a full path (relative to the working directory).</summary>
    public string DataPath => Path.GetFullPath(DataDirectory);

    /// <summary>The address to advertise: <see cref="AdvertisedIPAddress"/>, POD_IP, or null for the host's own.</summary>
    public IPAddress? AdvertisedAddress() => AdvertisedAddressText() is { Length: > 0 } text ? IPAddress.Parse(text) : null;

    /// <inheritdoc/>
    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var result in base.Validate(validationContext))
        {
            yield return result;
        }

        if (AdvertisedAddressText() is { Length: > 0 } address && !IPAddress.TryParse(address, out _))
        {
            yield return new ValidationResult($"(or POD_IP) must be an IP address; got '{address}'", [nameof(AdvertisedIPAddress)]);
        }
    }

    /// <summary>
    /// This silo's endpoints: on loopback with Localhost clustering; otherwise listening on every address and
    /// advertising <see cref="AdvertisedAddress"/> (null lets Orleans take the host's own).
    /// </summary>
    internal void ConfigureEndpoints(EndpointOptions options)
    {
        (options.SiloPort, options.GatewayPort) = (SiloPort, GatewayPort);
        if (Clustering == ClusteringKind.Localhost)
        {
            options.AdvertisedIPAddress = IPAddress.Loopback;
            return;
        }

        if (AdvertisedAddress() is { } address)
        {
            options.AdvertisedIPAddress = address;
        }

        options.SiloListeningEndpoint = new IPEndPoint(IPAddress.Any, SiloPort);
        options.GatewayListeningEndpoint = new IPEndPoint(IPAddress.Any, GatewayPort);
    }

    private string? AdvertisedAddressText() =>
        string.IsNullOrWhiteSpace(AdvertisedIPAddress) ? Environment.GetEnvironmentVariable("POD_IP") : AdvertisedIPAddress;
}

/// <summary>Rejects settings the silo cannot start with, naming the setting (generated from the rules of <see cref="SiloSettings"/>).</summary>
/// <remarks>
/// The generator validates [Range] with its own copy of the attribute, which ignores ErrorMessage: a range failure reads
/// "The field Type.Setting must be between min and max.", so range rules carry no message of their own.
/// </remarks>
[OptionsValidator]
public sealed partial class SiloSettingsValidator : IValidateOptions<SiloSettings>;
