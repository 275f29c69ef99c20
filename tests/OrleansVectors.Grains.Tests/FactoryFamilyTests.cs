namespace OrleansVectors.Grains.Tests;

/// <summary>Every family of the factory grammar works as a cluster spec: created, trained where it must be, filled, searched, restarted.</summary>
public sealed class FactoryFamilyTests
{
    private const int D = 64; // PQ8 and OPQ8 need a dimension divisible by 8, PCA32 one of at least 32

    /// <summary>One of each family the grammar accepts; the names are index names.</summary>
    private static readonly (string Name, string Factory)[] Families =
    [
        ("flat", "Flat"),
        ("pca-flat", "PCA32,Flat"),
        ("ivf-flat", "IVF64,Flat"),
        ("opq-ivf-pq", "OPQ8,IVF64,PQ8np"),
        ("ivf-sq", "IVF64,SQ8"),
        ("hnsw", "HNSW16"),
        ("pq", "PQ8np"),
        ("sq", "SQ8"),
        ("idmap2-flat", "IDMap2,Flat"),
    ];

    [Fact]
    public async Task Every_family_creates_adds_searches_and_answers_the_same_after_the_cluster_restarts()
    {
        var root = Directory.CreateTempSubdirectory("ovf-families-").FullName;
        await using var cluster = await DurableCluster.StartAsync(silo => silo.AddOrleansVectorsFileStorage(root), () => Directory.Delete(root, recursive: true));
        var sample = TestData.Blobs(3000, D, 32, seed: 40); // faiss asks for 39 points per IVF list (2,496 for 64): enough
        var vectors = TestData.Blobs(3000, D, 32, seed: 41);
        var queries = TestVectors.Batch(vectors, D, 0, 20);
        var before = new Dictionary<string, NeighborResults>();
        foreach (var (name, factory) in Families)
        {
            var index = cluster.Index(name);
            await index.CreateAsync(new IndexSpec { Dimension = D, Factory = factory, ShardCount = 2 });
            using (var probe = FaissIndex.Create(D, factory))
            {
                if (!probe.IsTrained)
                {
                    await index.TrainAsync(VectorBatch.FromRows(sample, D));
                }
            }

            // a snapshot, then a log after it: a restart restores the one and replays the other
            await LeasedAdds.AddAsync(cluster.Client, name, vectors.AsSpan(0, 2000 * D).ToArray(), D, batchRows: 500);
            await index.SnapshotAsync();
            await LeasedAdds.AddAsync(cluster.Client, name, vectors.AsSpan(2000 * D).ToArray(), D, batchRows: 250);

            Assert.Equal(3000, await index.CountAsync());
            var found = before[name] = await cluster.Query.SearchAsync(name, queries, 10);
            for (var q = 0; q < queries.Count; q++)
            {
                var labels = found.LabelsOf(q).ToArray();
                Assert.True(labels.All(l => l is >= 0 and < 3000) && labels.Distinct().Count() == labels.Length, $"{factory}: query {q} found [{string.Join(", ", labels)}]");
            }

            if (factory is "Flat" or "IDMap2,Flat")
            {
                Assert.Equal(Enumerable.Range(0, queries.Count).Select(i => (long)i), Enumerable.Range(0, queries.Count).Select(q => found.LabelsOf(q)[0]));
            }
        }

        await cluster.Cluster.StopAllSilosAsync();
        await cluster.Cluster.StartSilosAsync(3);
        await cluster.Cluster.InitializeClientAsync();

        foreach (var (name, factory) in Families)
        {
            Assert.Equal(3000, await DurableCluster.RetryWhileRecoveringAsync(() => cluster.Index(name).CountAsync()));
            var after = await cluster.Query.SearchAsync(name, queries, 10);
            Assert.True(before[name].Labels.SequenceEqual(after.Labels), $"{factory}: other neighbours after the restart");
            Assert.True(before[name].Distances.SequenceEqual(after.Distances), $"{factory}: other distances after the restart");
        }
    }
}
