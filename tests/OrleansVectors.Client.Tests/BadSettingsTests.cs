using Microsoft.Extensions.Options;

namespace OrleansVectors.Client.Tests;

/// <summary>
/// A setting that breaks its rule stops the process that reads it at start, naming the setting and the rule: a silo
/// process for each of its options types (the silo's own settings, the connection and TLS settings it shares with
/// clients, the grains' options), and a client before it tries any gateway.
/// </summary>
public sealed class BadSettingsTests
{
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(60);

    /// <summary>The setting, its bad value, and what the silo must print: the setting's name and the rule it broke.</summary>
    public static TheoryData<string, string, string, string> BadSiloSettings => new()
    {
        // SiloSettings
        { "Silo:SiloPort", "0", "Silo:SiloPort", "between 1 and 65535" },
        { "Silo:HttpPort", "70000", "Silo:HttpPort", "between 1 and 65535" },
        { "Silo:DataDirectory", "", "Silo:DataDirectory", "must name a directory" },
        { "Silo:StorageContainer", "Bad_Name", "Silo:StorageContainer", "must be a blob container name" },
        { "Silo:AdvertisedIPAddress", "not-an-address", "Silo:AdvertisedIPAddress", "must be an IP address" },

        // the connection settings silos and clients share (ClusterSettings)
        { "Silo:Clustering", "AzureTable", "Silo:StorageConnectionString", "must be set with AzureTable clustering" },
        { "Silo:Clustering", "7", "Silo:Clustering", "must be Localhost or AzureTable" },
        { "Silo:ServiceId", "", "Silo:ServiceId", "must not be empty" },
        { "Silo:StorageConnectionString", "not-a-connection-string", "Silo:StorageConnectionString", "must be an Azure Storage connection string" },

        // TLS (TlsCertificateFiles)
        { "Silo:Tls:Enabled", "true", "Silo:Tls:CertificateFile", "must name a PEM file when Tls:Enabled is true" },

        // OrleansVectorsOptions
        { "OrleansVectors:FaissThreads", "-1", "OrleansVectors:FaissThreads", "between 0 and" },
        { "OrleansVectors:RetainSnapshots", "0", "OrleansVectors:RetainSnapshots", "between 1 and 1000" },
        { "OrleansVectors:RestoreWait", "00:00:00", "OrleansVectors:RestoreWait", "between 00:00:00 exclusive and 01:00:00" },
        { "OrleansVectors:SearchEngine", "9", "OrleansVectors:SearchEngine", "must be Auto, Faiss, Cpu or Gpu" },

        // values that are not of their setting's type
        { "Silo:Clustering", "Azure", "Silo:Clustering", "Failed to convert configuration value" },
        { "Silo:GatewayPort", "abc", "Silo:GatewayPort", "Failed to convert configuration value" },
        { "OrleansVectors:RestoreWait", "5s", "OrleansVectors:RestoreWait", "Failed to convert configuration value" },
    };

    [Theory]
    [MemberData(nameof(BadSiloSettings))]
    public async Task A_silo_with_a_bad_setting_exits_at_start_naming_the_setting_and_the_rule(string setting, string value, string named, string rule)
    {
        await using var silos = new SiloProcesses(1, new SiloClusterSetup { Arguments = [$"--{setting}", value] });
        var started = Stopwatch.StartNew();
        var process = silos.Launch(0);
        await process.WaitForExitAsync().WaitAsync(StartBound);

        var output = silos.Output(0);
        Assert.True(process.ExitCode != 0, $"exit code 0 after {started.Elapsed.TotalSeconds:0.0} s:\n{output}");
        Assert.Contains($"{named}: ", output, StringComparison.Ordinal);
        Assert.Contains(rule, output, StringComparison.Ordinal);

        // it never started: no ready file, and no port left to answer
        Assert.False(File.Exists(Path.Combine(silos.DataDirectory, "silo-0.ready")), output);
    }

    [Fact]
    public async Task A_client_with_a_bad_setting_fails_at_once_naming_the_setting_and_the_rule()
    {
        var started = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ClusterConnectionExtensions.ConnectAsync(new ClusterConnectionOptions { GatewayPorts = [0] }, StartBound));
        Assert.Contains("GatewayPorts: must hold TCP ports (1-65535)", error.Message, StringComparison.Ordinal);

        // not after the retries of an unreachable cluster
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(20), $"took {started.Elapsed.TotalSeconds:0.0} s");
    }
}
