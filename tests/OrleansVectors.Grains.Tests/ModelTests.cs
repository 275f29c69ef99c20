using OrleansVectors.GrainInterfaces;
using OrleansVectors.Inference.Tests.Support;
using OrleansVectors.Inference;
using OrleansVectors.Inference.Faiss;
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
            Dimension = EmbeddingWidth, Model = model, InputDimension = InputWidth, ShardCount = 3, Metric = VectorMetric.InnerProduct,
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
}
