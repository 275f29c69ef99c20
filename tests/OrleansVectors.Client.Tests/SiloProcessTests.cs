namespace OrleansVectors.Client.Tests;

/// <summary>Silo processes stopped and started again on the same data folder (the file store) lose nothing: vectors, nor k-means results.</summary>
public sealed class SiloProcessTests
{
    private const int D = 24;

    [Fact]
    public async Task Silo_processes_stopped_and_started_again_answer_identically_and_SIGTERM_of_one_loses_nothing()
    {
        await using var silos = new SiloProcesses(2);
        await silos.StartAsync(0);
        await silos.StartAsync(1);
        var client = await silos.ConnectAsync();
        await client.CreateIndexAsync("kept", new IndexSpec { Dimension = D, ShardCount = 4 });
        var vectors = TestData.Uniform(3000, D, seed: 21);
        await client.AddAsync("kept", vectors.AsMemory(0, 2000 * D), D, batchRows: 250);
        await client.SnapshotAsync("kept");
        await client.AddAsync("kept", vectors.AsMemory(2000 * D), D, batchRows: 250); // only in the log
        var queries = vectors.AsMemory(0, 30 * D);
        var before = await client.SearchAsync("kept", queries, D, 10);
        var clustered = await client.KMeansAsync("kept", 6, new FaissKMeansOptions { Iterations = 5, MinPointsPerCentroid = 1 });

        // the whole cluster down (SIGTERM, as a rolling restart does) and up again on the same storage
        await silos.TerminateAsync(1);
        await silos.TerminateAsync(0);
        await silos.StartAsync(0);
        await silos.StartAsync(1);
        client = await silos.ConnectAsync();
        Assert.Equal(3000, await client.CountAsync("kept"));
        var after = await client.SearchAsync("kept", queries, D, 10);
        Assert.Equal(before.Labels.ToArray(), after.Labels.ToArray());
        Assert.Equal(before.Distances.ToArray(), after.Distances.ToArray());
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i), after.Labels.ToArray().Where((_, j) => j % 10 == 0));

        // the k-means result is durable too: its centroids come back, and the members follow them
        var kept = await client.GetKMeansResultAsync("kept");
        Assert.NotNull(kept);
        Assert.Equal(clustered.RunId, kept.RunId);
        Assert.Equal(clustered.Centroids.Values.ToArray(), kept.Centroids.Values.ToArray());
        long members = 0;
        for (var c = 0; c < 6; c++)
        {
            members += (await client.GetClusterMembersAsync("kept", c)).Length;
        }

        Assert.Equal(3000, members);

        // one silo leaves gracefully: its shards come back on the other one, whole, and adds go on
        await silos.TerminateAsync(1);
        Assert.Equal(3000, await client.CountAsync("kept"));
        var receipts = await client.AddAsync("kept", vectors.AsMemory(0, 100 * D), D);
        Assert.Equal(3000, receipts[0].FirstId);
        Assert.Equal(3100, await client.CountAsync("kept"));
    }
}
