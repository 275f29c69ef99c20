using OrleansVectors.Inference.Engines;

namespace OrleansVectors.Client.Tests;

/// <summary>
/// A cluster whose silos search with different engines — faiss, the fused CPU engine, and the GPU engine's kernels on
/// ILGPU's CPU accelerator — answers as one faiss Flat index over all the vectors: the merge is exact whatever
/// engine each shard runs.
/// </summary>
public sealed class MixedEngineClusterTests
{
    private const int D = 24;

    private static readonly string[][] Engines =
    [
        ["--OrleansVectors:SearchEngine", "Faiss"],
        ["--OrleansVectors:SearchEngine", "Cpu"],
        ["--OrleansVectors:SearchEngine", "Gpu", "--OrleansVectors:GpuDevice", "Cpu"],
    ];

    [Fact]
    public async Task Silos_on_faiss_the_fused_engine_and_the_GPU_kernels_merge_exactly()
    {
        await using var silos = new SiloProcesses(3, new SiloClusterSetup { ArgumentsOf = i => Engines[i] });
        for (var i = 0; i < 3; i++)
        {
            await silos.StartAsync(i);
        }

        var client = await silos.ConnectAsync();
        await client.CreateIndexAsync("mixed", new IndexSpec { Dimension = D, ShardCount = 6 });

        // random vectors, and a tie-heavy tail: whole-number coordinates with duplicates across shards
        var vectors = TestData.Uniform(4000, D, seed: 51).Concat(TestData.TieHeavy(2000, D, seed: 52)).ToArray();
        await client.AddAsync("mixed", vectors, D, batchRows: 250);
        var description = await client.DescribeIndexAsync("mixed");
        var engines = description.Shards.Select(s => s.Engine).ToArray();
        Assert.Contains(engines, e => e == "faiss");
        Assert.Contains(engines, e => e.StartsWith("cpu (", StringComparison.Ordinal));
        Assert.Contains(engines, e => e.StartsWith("gpu (CPU", StringComparison.OrdinalIgnoreCase));

        using var reference = FaissIndex.Create(D);
        reference.UseSearchEngine(SearchEngineOptions.FaissOnly);
        reference.Add(vectors);
        var queries = TestData.Uniform(150, D, seed: 53).Concat(TestData.TieHeavy(50, D, seed: 54)).ToArray();
        foreach (var (batch, k) in new[] { (200, 10), (200, 100), (1, 2048) })
        {
            var q = queries.AsMemory(0, batch * D);
            var expected = reference.Search(q.Span, k);
            var actual = await client.SearchAsync("mixed", q, D, k);
            Assert.False(actual.IsPartial);
            EngineAssert.SameAsFaiss(expected.Distances, expected.Labels, actual.Distances, actual.Labels, k, vectors, null, q.ToArray(), D, FaissMetric.L2);
        }

        const float Radius = 9f;
        var matchQueries = queries.AsMemory(0, 40 * D);
        var expectedRange = reference.RangeSearch(matchQueries.Span, Radius);
        var matches = await client.MatchAsync("mixed", matchQueries, D, Radius);
        Assert.True(expectedRange.Labels.Length > 40, "the radius should catch several vectors a query");
        EngineAssert.SameRangeAsFaiss(expectedRange.Offsets, expectedRange.Distances, expectedRange.Labels, matches.Offsets, matches.Distances, matches.Labels, Radius);
    }
}
