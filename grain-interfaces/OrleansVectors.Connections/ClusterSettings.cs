using System.ComponentModel.DataAnnotations;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace OrleansVectors.Connections;

/// <summary>
/// What the silos of one cluster and its clients must agree on: how membership is kept (<see cref="Clustering"/>),
/// the storage account that keeps it, the cluster and service ids, and mutual TLS. The silo host's settings and the
/// client's connection options both extend it, so each setting has one name and one rule on both sides;
/// <see cref="ClusterBuilderExtensions"/> applies it.
/// </summary>
public abstract class ClusterSettings : IValidatableObject
{
    /// <summary>The cluster id silos and clients use unless configured otherwise.</summary>
    public const string DefaultClusterId = "orleansvectors";

    /// <summary>The service id silos and clients use unless configured otherwise (grain state is keyed by it).</summary>
    public const string DefaultServiceId = "orleansvectors";

    /// <summary>The gateway port of a silo, and of a local cluster's first silo for a client (default of both).</summary>
    public const int DefaultGatewayPort = 30000;

    /// <summary>
    /// <see cref="ClusteringKind.Localhost"/> (the default: a development cluster on this machine) or
    /// <see cref="ClusteringKind.AzureTable"/> (production: membership in the account of <see cref="StorageConnectionString"/>).
    /// </summary>
    [EnumDataType(typeof(ClusteringKind), ErrorMessage = "must be Localhost or AzureTable")]
    public ClusteringKind Clustering { get; set; } = ClusteringKind.Localhost;

    /// <summary>
    /// An Azure Storage connection string ("UseDevelopmentStorage=true" for a local Azurite): the membership table with
    /// <see cref="ClusteringKind.AzureTable"/> clustering (silos also keep their data there when it is set).
    /// </summary>
    public string? StorageConnectionString { get; set; }

    /// <summary>The cluster's id: the silos and clients of one deployment share it.</summary>
    [Required(ErrorMessage = "must not be empty")]
    public string ClusterId { get; set; } = DefaultClusterId;

    /// <summary>The service's id: stable across deployments (grain state is keyed by it).</summary>
    [Required(ErrorMessage = "must not be empty")]
    public string ServiceId { get; set; } = DefaultServiceId;

    /// <summary>Mutual TLS between silos and with clients (certificate, key and CA as PEM files).</summary>
    [ValidateObjectMembers]
    public TlsCertificateFiles Tls { get; set; } = new();

    /// <inheritdoc/>
    public virtual IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Clustering == ClusteringKind.AzureTable && string.IsNullOrWhiteSpace(StorageConnectionString))
        {
            yield return new ValidationResult(
                "must be set with AzureTable clustering: the membership table is kept in that storage account", [nameof(StorageConnectionString)]);
        }

        if (!string.IsNullOrWhiteSpace(StorageConnectionString) && ConnectionStringProblem(StorageConnectionString) is { } problem)
        {
            // parsed now, so a malformed string stops the host at start rather than at the first table or blob call
            yield return new ValidationResult($"must be an Azure Storage connection string ({problem})", [nameof(StorageConnectionString)]);
        }
    }

    /// <summary>Why the Azure SDK refuses <paramref name="connectionString"/>, or null when it parses (nothing is contacted).</summary>
    private static string? ConnectionStringProblem(string connectionString)
    {
        try
        {
            _ = new TableServiceClient(connectionString);
            return null;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            return e.Message;
        }
    }

    /// <summary>Sets the cluster and service ids on Orleans' options.</summary>
    internal void ApplyIds(ClusterOptions options) => (options.ClusterId, options.ServiceId) = (ClusterId, ServiceId);

    /// <summary>The table service of the membership table (<see cref="ClusteringKind.AzureTable"/>).</summary>
    internal TableServiceClient CreateTableServiceClient() => new(StorageConnectionString);
}
