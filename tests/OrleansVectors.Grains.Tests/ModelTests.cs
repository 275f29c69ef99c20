using OrleansVectors.Inference;
using OrleansVectors.Inference.Models;
using static TorchSharp.torch;

namespace OrleansVectors.Grains.Tests;

/// <summary>An index with a TorchScript model embeds raw inputs on the silos.</summary>
[Collection(SharedCluster.Name)]
public sealed class ModelTests(ClusterFixture fixture)
{
    private const int InputWidth = 8;
    private const int EmbeddingWidth = 16;

    [Fact]
    public async Task Raw_inputs_and_raw_queries_give_what_embedding_in_process_then_searching_gives()
    {
        var model = Path.Combine(AppContext.BaseDirectory, "Fixtures", "trunk.pt");
        var inputs = TestData.Uniform(300, InputWidth, seed: 11);
        var queries = TestData.Uniform(12, InputWidth, seed: 12);
        var index = fixture.Index("with-model");
        await index.CreateAsync(new IndexSpec
        {
            Dimension = EmbeddingWidth, Model = "trunk.pt", InputDimension = InputWidth, ShardCount = 3, Metric = VectorMetric.InnerProduct,
        });
        await TestVectors.AddAll(fixture, index, inputs, InputWidth, batchSize: 40);

        var cluster = await fixture.Query.SearchAsync("with-model", VectorBatch.FromRows(queries, InputWidth), 5);

        using var trunk = TorchScriptModel.Load(model, CPU);
        using var inProcess = new InferenceModel(trunk, dataDevice: CPU);
        using var embeddedInputs = inProcess.GetEmbeddings(tensor(inputs, [300L, InputWidth]));
        using var embeddedQueries = inProcess.GetEmbeddings(tensor(queries, [12L, InputWidth]));
        using var reference = FaissIndex.Create(EmbeddingWidth, "Flat", FaissMetric.InnerProduct);
        reference.Add(embeddedInputs.data<float>().ToArray());
        var expected = reference.Search(embeddedQueries.data<float>().ToArray(), 5);

        Assert.Equal(expected.Labels, cluster.Labels.ToArray());
        for (var i = 0; i < expected.Distances.Length; i++)
        {
            Assert.True(Math.Abs(expected.Distances[i] - cluster.Distances[i]) <= 1e-5, $"distance {i}");
        }

        var wrongWidth = VectorBatch.FromRows(TestData.Uniform(2, EmbeddingWidth, seed: 13), EmbeddingWidth);
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.Query.SearchAsync("with-model", wrongWidth, 1));
    }

    [Fact]
    public async Task Models_are_named_files_in_the_model_folder_and_nothing_else_is_opened()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Fixtures");
        var empty = Path.Combine(folder, "empty.pt");
        var garbage = Path.Combine(folder, "garbage.pt");
        var link = Path.Combine(folder, "link.pt");
        var fifo = Path.Combine(folder, "fifo.pt");
        File.WriteAllBytes(empty, []);
        File.WriteAllText(garbage, "not a TorchScript archive");
        File.Delete(link);
        File.CreateSymbolicLink(link, "/etc/passwd");
        File.Delete(fifo);
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo))
        {
            await mkfifo.WaitForExitAsync();
        }

        try
        {
            Task<IndexDescription> Create(string model) =>
                fixture.Index($"model-{Guid.NewGuid():N}").CreateAsync(new IndexSpec { Dimension = EmbeddingWidth, Model = model, InputDimension = InputWidth });

            // paths are not names
            foreach (var path in new[] { "/etc/shadow", "../trunk.pt", "Fixtures/trunk.pt", "..", "bad\nname.pt" })
            {
                Assert.Contains("model folder", (await Assert.ThrowsAsync<ArgumentException>(() => Create(path))).Message, StringComparison.Ordinal);
            }

            // a missing file, an empty one, a link out of the folder, a FIFO (opening it would hang): refused alike,
            // without saying where the folder is
            foreach (var name in new[] { "missing.pt", "empty.pt", "link.pt", "fifo.pt" })
            {
                var error = await Assert.ThrowsAsync<ArgumentException>(() => Create(name)).WaitAsync(TimeSpan.FromSeconds(30));
                Assert.Contains($"Model '{name}' is not one this cluster serves", error.Message, StringComparison.Ordinal);
                Assert.DoesNotContain(folder, error.Message, StringComparison.Ordinal);
            }

            // a file that is not TorchScript: created (it is a regular file), and loading it fails in one line
            var index = fixture.Index("garbage-model");
            await index.CreateAsync(new IndexSpec { Dimension = EmbeddingWidth, Model = "garbage.pt", InputDimension = InputWidth });
            var load = await Assert.ThrowsAnyAsync<Exception>(() => fixture.Query.SearchAsync("garbage-model", VectorBatch.FromRows(TestData.Uniform(1, InputWidth, seed: 1), InputWidth), 1));
            Assert.Contains("Model 'garbage.pt' could not be loaded as TorchScript", load.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', load.Message);
            Assert.DoesNotContain(folder, load.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(empty);
            File.Delete(garbage);
            File.Delete(link);
            File.Delete(fifo);
        }
    }
}
