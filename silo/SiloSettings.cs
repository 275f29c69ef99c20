using Microsoft.Extensions.Options;

namespace OrleansVectors.Silo;

/// <summary>How this silo joins its cluster (configuration section "Silo"; environment variables Silo__SiloPort, …).</summary>
public sealed class SiloSettings
{
    /// <summary>The silo's name in logs and membership.</summary>
    public string Name { get; set; } = "silo-0";

    /// <summary>"localhost": a development cluster on this machine whose membership the primary silo holds.</summary>
    public string Clustering { get; set; } = "localhost";

    /// <summary>Port for silo-to-silo traffic.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port clients connect to.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The primary silo's port; equal to <see cref="SiloPort"/> on the primary itself.</summary>
    public int PrimarySiloPort { get; set; } = 11111;

    /// <summary>
    /// Where everything durable is kept when <see cref="StorageConnectionString"/> is empty (grain state, shard logs,
    /// snapshots), and where the silo writes its ready file; shared by the silos of one machine.
    /// </summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// An Azure Storage connection string (or "UseDevelopmentStorage=true" for a local Azurite): when set, grain
    /// state, shard logs and snapshots all go to that account; when empty (the default), to files under
    /// <see cref="DataDirectory"/>.
    /// </summary>
    public string? StorageConnectionString { get; set; }

    /// <summary>The blob container for shard logs and snapshots when <see cref="StorageConnectionString"/> is set.</summary>
    public string StorageContainer { get; set; } = "orleansvectors";
}

/// <summary>Rejects settings the silo cannot start with, naming the setting.</summary>
public sealed class SiloSettingsValidator : IValidateOptions<SiloSettings>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, SiloSettings options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.Clustering != "localhost")
        {
            failures.Add($"Silo:Clustering must be \"localhost\"; got \"{options.Clustering}\".");
        }

        foreach (var (setting, port) in new[] { ("SiloPort", options.SiloPort), ("GatewayPort", options.GatewayPort), ("PrimarySiloPort", options.PrimarySiloPort) })
        {
            if (port is < 1 or > 65535)
            {
                failures.Add($"Silo:{setting} must be a TCP port (1-65535); got {port}.");
            }
        }

        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            failures.Add("Silo:DataDirectory must name a directory.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
