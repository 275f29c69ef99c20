namespace OrleansVectors.Client.Tests;

/// <summary>An index exported to one faiss file and imported from one, through the cluster.</summary>
public sealed class ExportImportTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>, IDisposable
{
    private const int D = 12;
    private readonly string _folder = Directory.CreateTempSubdirectory("ovf-export-").FullName;

    [Fact]
    public async Task An_exported_file_holds_every_vector_with_its_id_and_imports_into_an_equal_index()
    {
        var client = new VectorIndexClient(fixture.Client);
        await client.CreateIndexAsync("export-source", new IndexSpec { Dimension = D, ShardCount = 3 });
        var vectors = TestData.Uniform(700, D, seed: 31);
        await client.AddAsync("export-source", vectors, D, batchRows: 100);
        await client.AddAsync("export-source", vectors.AsMemory(0, 50 * D), D, batchRows: 25); // ids 700 … 749
        var path = Path.Combine(_folder, "source.faiss");

        Assert.Equal(750, await client.ExportAsync("export-source", path));

        // the file is faiss's own: every vector under its id, searchable as the cluster is
        var queries = TestData.Uniform(15, D, seed: 32);
        using (var file = FaissIndex.Load(path))
        {
            Assert.Equal(750, file.Count);
            Assert.True(file.HasIdMap);
            var fromFile = file.Search(queries, 10);
            var fromCluster = await client.SearchAsync("export-source", queries, D, 10);
            Assert.Equal(fromCluster.Labels.ToArray(), fromFile.Labels);
        }

        Assert.Empty(Directory.GetFiles(_folder, "*.part"));
        Assert.Equal(750, await client.ImportAsync("export-copy", path));
        Assert.Equal(750, await client.CountAsync("export-copy"));
        var source = await client.SearchAsync("export-source", queries, D, 10);
        var copy = await client.SearchAsync("export-copy", queries, D, 10);
        Assert.Equal(source.Labels.ToArray(), copy.Labels.ToArray());
        Assert.Equal(source.Distances.ToArray(), copy.Distances.ToArray());
    }

    [Fact]
    public async Task A_file_without_ids_is_numbered_and_an_IVF_index_says_why_it_cannot_be_exported()
    {
        var client = new VectorIndexClient(fixture.Client);
        var vectors = TestData.Uniform(300, D, seed: 33);
        var path = Path.Combine(_folder, "plain.faiss");
        using (var plain = FaissIndex.Create(D))
        {
            plain.Add(vectors);
            plain.Save(path);
        }

        Assert.Equal(300, await client.ImportAsync("import-plain", path, new IndexSpec { Dimension = D, ShardCount = 2 }));
        var self = await client.SearchAsync("import-plain", vectors.AsMemory(0, 5 * D), D, 1);
        Assert.Equal([0L, 1, 2, 3, 4], self.Labels.ToArray());

        await client.CreateIndexAsync("export-ivf", new IndexSpec { Dimension = D, ShardCount = 2, Factory = "IVF4,Flat" });
        await client.AddAsync("export-ivf", vectors, D, batchRows: 100);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => client.ExportAsync("export-ivf", Path.Combine(_folder, "ivf.faiss")));
        Assert.Contains("cannot be exported", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_folder, "ivf.faiss")));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
