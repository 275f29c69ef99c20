using OrleansVectors.Inference.Knn;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansVectors.Inference.Tests.Inference;

/// <summary>The seed's own InferenceModel scenarios, and its bad inputs.</summary>
public sealed class InferenceModelTests : IDisposable
{
    private readonly TorchSharp.Modules.Linear _trunk;
    private readonly Tensor _items;

    public InferenceModelTests()
    {
        using var generator = new Generator(7);
        _trunk = nn.Linear(8, 16);
        using (no_grad())
        {
            _trunk.weight!.copy_(randn(16, 8, generator: generator));
        }

        _items = randn(200, 8, generator: generator);
    }

    [Fact]
    public void An_untrained_models_neighbour_query_fails_clearly()
    {
        using var model = new InferenceModel(_trunk, dataDevice: CPU);

        var error = Assert.Throws<InvalidOperationException>(() => model.GetNearestNeighbors(_items.narrow(0, 0, 1), 10));
        Assert.Contains("TrainKnn", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_save_load_in_a_new_model_and_item_0_is_its_own_nearest_neighbour()
    {
        var file = Path.Combine(Path.GetTempPath(), $"ovf-knn-{Guid.NewGuid():N}.faiss");
        try
        {
            using (var model = new InferenceModel(_trunk, dataDevice: CPU))
            {
                var progress = new List<long>();
                model.TrainKnn(_items, batchSize: 64, new SyncProgress(progress));
                Assert.Equal(new long[] { 64, 128, 192, 200 }, progress);
                model.SaveKnnFunc(file);
            }

            using var loaded = new InferenceModel(_trunk, dataDevice: CPU);
            loaded.LoadKnnFunc(file);
            using var result = loaded.GetNearestNeighbors(_items.narrow(0, 0, 1), 10);

            Assert.Equal(new long[] { 1, 10 }, result.Indices.shape);
            Assert.Equal(new long[] { 1, 10 }, result.Distances.shape);
            Assert.Equal(0, result.IndicesArray()[0, 0]);
            Assert.Equal(0f, result.DistancesArray()[0, 0], 5);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Adding_to_an_existing_index_numbers_new_items_after_the_old()
    {
        using var model = new InferenceModel(_trunk, dataDevice: CPU);
        model.TrainKnn(_items.narrow(0, 0, 150));
        model.AddToKnn(_items.narrow(0, 150, 50), batchSize: 16);

        using var result = model.GetNearestNeighbors(_items.narrow(0, 150, 50), 1);

        Assert.Equal(Enumerable.Range(150, 50).Select(i => (long)i), Golden.Longs(result.Indices));
        Assert.Equal(200, ((FaissKnn)model.KnnFunc).Count);
    }

    [Fact]
    public void Lists_of_tensors_are_stacked_and_datasets_read_a_batch_at_a_time()
    {
        var rows = Enumerable.Range(0, 40).Select(i => _items[i]).ToList();
        using var fromList = new InferenceModel(_trunk, dataDevice: CPU);
        fromList.TrainKnn(rows, batchSize: 7);
        using var fromDataset = new InferenceModel(_trunk, dataDevice: CPU);
        fromDataset.TrainKnn(new RowsDataset(_items.narrow(0, 0, 40)), batchSize: 9);

        using var a = fromList.GetNearestNeighbors(rows.Take(5).ToList(), 3);
        using var b = fromDataset.GetNearestNeighbors(_items.narrow(0, 0, 5), 3);

        Assert.Equal(Golden.Longs(a.Indices), Golden.Longs(b.Indices));
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, Golden.Longs(a.Indices.select(1, 0)));
    }

    [Fact]
    public void Matches_use_the_match_finder_and_embeddings_are_normalized()
    {
        using var model = new InferenceModel(_trunk, dataDevice: CPU);
        using var batch = _items.narrow(0, 0, 6);

        var matches = model.GetMatches(batch);
        var withReference = model.GetMatches(batch, _items.narrow(0, 0, 3), threshold: 0.999);
        var tuples = model.GetMatchTuples(batch, _items.narrow(0, 0, 3), threshold: 0.999);
        var paired = model.IsMatch(batch, batch);
        using var embeddings = model.GetEmbeddings(batch);

        Assert.All(Enumerable.Range(0, 6), i => Assert.True(matches[i, i]));
        Assert.Equal(new (long, long)[] { (0, 0), (1, 1), (2, 2) }, tuples);
        Assert.True(withReference[2, 2]);
        Assert.Equal(Enumerable.Repeat(true, 6), paired);
        Golden.AssertClose(ones(6), embeddings.norm(1));
    }

    [Fact]
    public void Dtype_casts_inputs_and_models_run_without_gradients()
    {
        using var model = new InferenceModel(_trunk, dataDevice: CPU, dtype: ScalarType.Float32);
        using var doubles = _items.narrow(0, 0, 4).to_type(ScalarType.Float64);

        using var embeddings = model.GetEmbeddings(doubles);

        Assert.Equal(ScalarType.Float32, embeddings.dtype);
        Assert.False(embeddings.requires_grad);
        Assert.False(_trunk.training);
    }

    [Fact]
    public void A_text_trunk_is_fed_lists_of_strings()
    {
        string[] corpus = ["kitten", "sitting", "mitten", "bitten", "orleans", "vectors", "faiss", "torch", "search", "cluster"];
        using var model = new InferenceModel<IReadOnlyList<string>>(new CharacterHistogram(), dataDevice: CPU);
        model.TrainKnn(corpus, batchSize: 3);

        using var result = model.GetNearestNeighbors(["vectors", "kitten", "clusters"], 2);
        var matches = model.GetMatches(["kitten"], corpus, threshold: 0.999);

        var indices = result.IndicesArray();
        Assert.Equal(5, indices[0, 0]);
        Assert.Equal(0, indices[1, 0]);
        Assert.Equal(9, indices[2, 0]);
        Assert.True(matches[0, 0]);
        Assert.False(matches[0, 2]);
    }

    [Fact]
    public void Bad_inputs_get_specific_exceptions()
    {
        using var model = new InferenceModel(_trunk, dataDevice: CPU);
        model.TrainKnn(_items.narrow(0, 0, 20));
        using var nan = full(2, 8, float.NaN);
        using var wrongWidth = randn(2, 5);
        using var empty = zeros(0, 8);
        using var ints = ones(2, 8, ScalarType.Int64);
        using var query = _items.narrow(0, 0, 2);

        Assert.Throws<ArgumentOutOfRangeException>(() => model.GetNearestNeighbors(query, 0));
        using (var padded = model.GetNearestNeighbors(query, 21)) // one more than the 20 indexed: padded, as the seed's FaissKNN
        {
            Assert.Equal(-1L, padded.Indices[0, 20].item<long>());
            Assert.Equal(float.MaxValue, padded.Distances[0, 20].item<float>());
        }

        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => model.GetNearestNeighbors(nan, 1)).Message, StringComparison.Ordinal);
        Assert.Contains("model failed", Assert.Throws<InvalidOperationException>(() => model.GetEmbeddings(wrongWidth)).Message, StringComparison.Ordinal);
        Assert.Contains("model failed", Assert.Throws<InvalidOperationException>(() => model.GetEmbeddings(ints)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => model.GetEmbeddings(empty));
        Assert.Throws<ArgumentException>(() => model.TrainKnn(Array.Empty<Tensor>().AsEnumerable()));
        Assert.Throws<ArgumentException>(() => model.TrainKnn(new List<Tensor> { randn(8), randn(7) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.TrainKnn(_items, batchSize: 0));
        Assert.Throws<FileNotFoundException>(() => model.LoadKnnFunc(Path.Combine(Path.GetTempPath(), "no-such-index.faiss")));
        Assert.Equal(20, ((FaissKnn)model.KnnFunc).Count); // nothing above changed the index

        using var noThreshold = new InferenceModel(_trunk, matchFinder: new MatchFinder(new CosineSimilarity()), dataDevice: CPU);
        Assert.Throws<InvalidOperationException>(() => noThreshold.GetMatches(query));

        using var custom = new InferenceModel(_trunk, knnFunc: new CustomKnn(new CosineSimilarity()), dataDevice: CPU);
        Assert.Throws<InvalidOperationException>(() => custom.TrainKnn(_items));
        using var selfSearch = custom.GetNearestNeighbors(query, 1); // CustomKnn without a reference searches the query itself
        Assert.Equal(new long[] { 0, 1 }, Golden.Longs(selfSearch.Indices));

        using var flat = new InferenceModel(nn.Flatten(0), dataDevice: CPU); // returns 1-D
        Assert.Contains("2-D", Assert.Throws<InvalidOperationException>(() => flat.GetEmbeddings(query)).Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _trunk.Dispose();
        _items.Dispose();
    }

    /// <summary>A text "model": counts of each letter a–z, so words with the same letters embed alike.</summary>
    private sealed class CharacterHistogram : nn.Module<IReadOnlyList<string>, Tensor>
    {
        public CharacterHistogram()
            : base(nameof(CharacterHistogram))
        {
        }

        public override Tensor forward(IReadOnlyList<string> input)
        {
            var counts = new float[input.Count * 26];
            for (var i = 0; i < input.Count; i++)
            {
                foreach (var c in input[i].Where(char.IsAsciiLetterLower))
                {
                    counts[(i * 26) + (c - 'a')]++;
                }
            }

            return tensor(counts, [input.Count, 26]);
        }
    }

    private sealed class RowsDataset(Tensor rows) : torch.utils.data.Dataset
    {
        public override long Count => rows.shape[0];

        public override Dictionary<string, Tensor> GetTensor(long index) => new() { ["data"] = rows[index], ["label"] = tensor(index) };
    }

    private sealed class SyncProgress(List<long> reports) : IProgress<long>
    {
        public void Report(long value) => reports.Add(value);
    }
}
