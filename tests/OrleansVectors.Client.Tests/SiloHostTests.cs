using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using OrleansVectors.Connections;

namespace OrleansVectors.Client.Tests;

/// <summary>The silo host as deployed: its health endpoints, its metrics and TLS, on real silo processes.</summary>
public sealed partial class SiloHostTests
{
    private const int D = 16;

    [Fact]
    public async Task Readiness_is_false_until_every_shard_is_restored_and_metrics_show_the_service_after_a_search()
    {
        var azurite = new AzuriteFixture(); // its own: this test freezes it
        await azurite.InitializeAsync();
        try
        {
            await using var silos = new SiloProcesses(1, new SiloClusterSetup { Arguments = ["--Silo:StorageConnectionString", azurite.ConnectionString] });
            await silos.StartAsync(0);
            await silos.WaitReadyAsync(0, TimeSpan.FromSeconds(60));
            var client = await silos.ConnectAsync();
            await client.CreateIndexAsync("ready", new IndexSpec { Dimension = D, ShardCount = 4 });
            var vectors = TestData.Uniform(20_000, D, seed: 5);
            await client.AddAsync("ready", vectors.AsMemory(0, 19_000 * D), D, batchRows: 5000);
            await client.SnapshotAsync("ready");
            await client.AddAsync("ready", vectors.AsMemory(19_000 * D), D); // only in the log
            await silos.TerminateAsync(0);

            // storage frozen: the silo lives but is not ready (it cannot join or restore anything)
            await azurite.PauseAsync();
            silos.Launch(0);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while ((await silos.GetAsync(0, "/healthz/live")).Status != HttpStatusCode.OK)
            {
                Assert.True(DateTime.UtcNow < deadline, $"/healthz/live did not answer:\n{silos.Output(0)}");
                await Task.Delay(200);
            }

            for (var i = 0; i < 10; i++)
            {
                var (status, body) = await silos.GetAsync(0, "/healthz/ready");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
                Assert.StartsWith("Unhealthy: ", body, StringComparison.Ordinal);
                await Task.Delay(300);
            }

            // storage back: once ready, every shard is restored, before any client asked for anything
            await azurite.ResumeAsync();
            await silos.WaitReadyAsync(0, TimeSpan.FromSeconds(120));
            var metrics = (await silos.GetAsync(0, "/metrics")).Body;
            Assert.Equal(20_000, Samples(metrics, "orleansvectors_shard_vectors").Sum());
            Assert.Equal(4, Samples(metrics, "orleansvectors_shard_vectors").Count);
            Assert.Equal([0], Samples(metrics, "orleansvectors_shards_restoring"));

            // the service's meters after a search (and Orleans' own)
            client = await silos.ConnectAsync();
            var found = await client.SearchAsync("ready", vectors.AsMemory(0, 3 * D), D, 5);
            Assert.Equal(0, found.Labels[0]);
            await client.AddAsync("ready", vectors.AsMemory(0, 10 * D), D);
            metrics = await ScrapeUntilAsync(silos, "orleansvectors_search_duration_milliseconds_count");
            Assert.Contains("orleansvectors_search_duration_milliseconds_bucket{", metrics, StringComparison.Ordinal);
            Assert.Contains("index=\"ready\"", metrics, StringComparison.Ordinal);
            Assert.Equal(10, Samples(metrics, "orleansvectors_vectors_added_total").Sum());
            Assert.Contains("orleans_", metrics, StringComparison.Ordinal);
            Assert.DoesNotContain("AccountKey", metrics, StringComparison.Ordinal);
        }
        finally
        {
            await azurite.DisposeAsync();
        }
    }

    [Fact]
    public async Task With_TLS_on_only_a_client_with_a_certificate_from_the_cluster_CA_connects()
    {
        var folder = Directory.CreateTempSubdirectory("ovf-tls-").FullName;
        try
        {
            using var authority = DevelopmentCertificates.CreateAuthority("OrleansVectors test CA");
            using var strangers = DevelopmentCertificates.CreateAuthority("Someone else's CA");
            var silo = DevelopmentCertificates.Write(folder, "silo", authority);
            var client = DevelopmentCertificates.Write(folder, "client", authority);
            var stranger = DevelopmentCertificates.Write(Directory.CreateDirectory(Path.Combine(folder, "elsewhere")).FullName, "stranger", strangers);

            // two silos: silo-to-silo traffic is under TLS too
            await using var silos = new SiloProcesses(2, new SiloClusterSetup { Arguments = DevelopmentCertificates.SiloArguments(silo) });
            await silos.StartAsync(0);
            await silos.StartAsync(1);

            var plain = silos.Connection();
            await Assert.ThrowsAsync<TimeoutException>(() => ClusterConnectionExtensions.ConnectAsync(plain, TimeSpan.FromSeconds(5), Quiet));
            var foreign = silos.Connection();
            foreign.Tls = new TlsCertificateFiles { Enabled = true, CertificateFile = stranger.CertificateFile, KeyFile = stranger.KeyFile, CaFile = client.CaFile };
            await Assert.ThrowsAsync<TimeoutException>(() => ClusterConnectionExtensions.ConnectAsync(foreign, TimeSpan.FromSeconds(5), Quiet));

            var trusted = silos.Connection();
            trusted.Tls = client;
            var vectors = await silos.ConnectAsync(trusted);
            await vectors.CreateIndexAsync("tls", new IndexSpec { Dimension = D, ShardCount = 4 });
            await vectors.AddAsync("tls", TestData.Uniform(400, D, seed: 3), D);
            Assert.Equal(400, await vectors.CountAsync("tls"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_certificate_chains_only_to_its_own_authority()
    {
        using var authority = DevelopmentCertificates.CreateAuthority("A");
        using var other = DevelopmentCertificates.CreateAuthority("B");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var leaf = DevelopmentCertificates.Issue(authority, key, "leaf");
        Assert.True(TlsCertificateFiles.ChainsTo(leaf, authority));
        Assert.False(TlsCertificateFiles.ChainsTo(leaf, other));
        Assert.False(TlsCertificateFiles.ChainsTo(other, authority));
    }

    /// <summary>Clients expected to fail keep their connection errors to themselves.</summary>
    private static void Quiet(ILoggingBuilder logging) => logging.ClearProviders();

    /// <summary>The values of every sample of <paramref name="metric"/> in a Prometheus scrape.</summary>
    private static List<double> Samples(string scrape, string metric) =>
        [.. scrape.Split('\n')
            .Where(line => line.StartsWith(metric + "{", StringComparison.Ordinal) || line.StartsWith(metric + " ", StringComparison.Ordinal))
            .Select(line => double.Parse(SampleValue().Match(line).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];

    private static async Task<string> ScrapeUntilAsync(SiloProcesses silos, string metric)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var body = (await silos.GetAsync(0, "/metrics")).Body;
            if (body.Contains(metric, StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                return body;
            }

            await Task.Delay(300);
        }
    }

    [GeneratedRegex(@"\}?\s(\S+)(\s\d+)?$")]
    private static partial Regex SampleValue();
}
