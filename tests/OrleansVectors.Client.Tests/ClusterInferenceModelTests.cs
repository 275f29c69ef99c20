using OrleansVectors.Inference;
using OrleansVectors.Inference.Models;
using static TorchSharp.torch;

namespace OrleansVectors.Client.Tests;

/// <summary>The cluster-backed model answers as the in-process InferenceModel over the same TorchScript model.</summary>
public sealed class ClusterInferenceModelTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly string ModelPath = Path.Combine(AppContext.BaseDirectory, "Fixtures", "trunk.pt");

    [Fact]
    public async Task Cluster_and_in_process_models_give_the_same_neighbours_and_matches()
    {
        using var trunk = TorchScriptModel.Load(ModelPath, CPU);
        using var local = new InferenceModel(trunk, dataDevice: CPU);
        var client = new VectorIndexClient(fixture.Client);
        IAsyncInferenceModel remote = new ClusterInferenceModel(
            client, "model-index", new IndexSpec { Dimension = 16, Model = "trunk.pt", InputDimension = 8, ShardCount = 3 });
        IAsyncInferenceModel inProcess = local;
        var generator = new Generator(3);
        using var items = randn(250, 8, generator: generator);
        using var queries = randn(20, 8, generator: generator);

        await remote.TrainKnnAsync(items, batchSize: 50);
        await inProcess.TrainKnnAsync(items, batchSize: 50);
        await remote.TrainKnnAsync(items, batchSize: 50); // training again replaces the index
        using var fromCluster = await remote.GetNearestNeighborsAsync(queries, 7);
        using var fromProcess = await inProcess.GetNearestNeighborsAsync(queries, 7);

        Assert.Equal(250, await client.CountAsync("model-index"));
        Assert.Equal(fromProcess.Indices.data<long>().ToArray(), fromCluster.Indices.data<long>().ToArray());
        var expected = fromProcess.Distances.data<float>().ToArray();
        var actual = fromCluster.Distances.data<float>().ToArray();
        Assert.All(expected.Zip(actual), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-5));

        Assert.Equal(
            (await inProcess.GetMatchesAsync(queries, items, threshold: 0.8)).Cast<bool>(),
            (await remote.GetMatchesAsync(queries, items, threshold: 0.8)).Cast<bool>());
        Assert.Equal(await inProcess.IsMatchAsync(queries, queries), await remote.IsMatchAsync(queries, queries));

        await remote.AddToKnnAsync(queries);
        using var self = await remote.GetNearestNeighborsAsync(queries, 1);
        Assert.Equal(Enumerable.Range(250, 20).Select(i => (long)i), self.Indices.data<long>().ToArray());

        // lists of row tensors are stacked, as the seed's process_if_list, here and in-process
        List<Tensor> rows = [.. Enumerable.Range(0, 6).Select(i => queries[i])];
        Assert.Equal(local.IsMatch(rows[..3], rows[3..]), await ((ClusterInferenceModel)remote).IsMatchAsync(rows[..3], rows[3..]));
        Assert.Equal(local.GetMatches(rows).Cast<bool>(), (await ((ClusterInferenceModel)remote).GetMatchesAsync(rows)).Cast<bool>());

        // k above the index's size pads as faiss does
        using var padded = await ((ClusterInferenceModel)remote).GetNearestNeighborsAsync(rows, 300);
        Assert.Equal(-1L, padded.Indices[0, 299].item<long>());
        Assert.Equal(float.MaxValue, padded.Distances[0, 299].item<float>());
    }

    [Fact]
    public async Task A_bad_train_call_leaves_a_populated_index_as_it_was()
    {
        var client = new VectorIndexClient(fixture.Client);
        var spec = new IndexSpec { Dimension = 4, ShardCount = 2 };
        var model = new ClusterInferenceModel(client, "train-checked", spec);
        using var items = randn(40, 4, generator: new Generator(5));
        await model.TrainKnnAsync(items);
        using var query = randn(3, 4, generator: new Generator(6));
        using var before = await model.GetNearestNeighborsAsync(query, 5);

        using var nan = items.clone();
        nan[7, 2] = tensor(float.NaN);
        using var wide = randn(40, 5, generator: new Generator(7));
        var missingModel = new ClusterInferenceModel(client, "train-checked", spec with { Dimension = 4, Model = "no-such-model.pt", InputDimension = 4 });

        Assert.Contains("NaN", (await Assert.ThrowsAnyAsync<ArgumentException>(() => model.TrainKnnAsync(nan))).Message, StringComparison.Ordinal);
        Assert.Contains("Nothing was changed", (await Assert.ThrowsAnyAsync<ArgumentException>(() => model.TrainKnnAsync(wide))).Message, StringComparison.Ordinal);
        Assert.Contains("model", (await Assert.ThrowsAnyAsync<ArgumentException>(() => missingModel.TrainKnnAsync(items))).Message, StringComparison.Ordinal);

        Assert.Equal(40, await client.CountAsync("train-checked"));
        using var after = await model.GetNearestNeighborsAsync(query, 5);
        Assert.Equal(before.Indices.data<long>().ToArray(), after.Indices.data<long>().ToArray());
    }

    [Fact]
    public async Task An_add_is_checked_whole_first_and_a_later_failure_names_the_rows_stored()
    {
        var client = new VectorIndexClient(fixture.Client);
        await client.CreateIndexAsync("add-checked", new IndexSpec { Dimension = 4, ShardCount = 2 });
        await client.AddAsync("add-checked", TestData.Uniform(5, 4, seed: 1), 4, ids: [100, 101, 102, 103, 104]);
        var values = TestData.Uniform(30, 4, seed: 2);
        var ids = Enumerable.Range(0, 30).Select(i => (long)i).ToArray();

        // a duplicate within the input, a NaN, the wrong width: refused before any message, nothing added
        var duplicate = (long[])ids.Clone();
        duplicate[25] = 3;
        Assert.Contains("Rows 3 and 25 have the same id 3", (await Assert.ThrowsAsync<ArgumentException>(() => client.AddAsync("add-checked", values, 4, duplicate, batchRows: 10))).Message, StringComparison.Ordinal);
        var nan = (float[])values.Clone();
        nan[50] = float.NaN;
        await Assert.ThrowsAsync<ArgumentException>(() => client.AddAsync("add-checked", nan, 4, ids, batchRows: 10));
        Assert.Contains("takes 4", (await Assert.ThrowsAsync<ArgumentException>(() => client.AddAsync("add-checked", values.AsMemory(0, 30 * 3), 3, ids, batchRows: 10))).Message, StringComparison.Ordinal);
        Assert.Equal(5, await client.CountAsync("add-checked"));

        // an id the index holds, in the second message: the first was stored, and the error says so
        var clash = (long[])ids.Clone();
        clash[15] = 102;
        var incomplete = await Assert.ThrowsAsync<AddIncompleteException>(() => client.AddAsync("add-checked", values, 4, clash, batchRows: 10, maxInFlight: 1));
        Assert.Equal([new Range(0, 10)], incomplete.StoredRows);
        Assert.Contains("10 of 30 rows were stored (rows 0–9)", incomplete.Message, StringComparison.Ordinal);
        Assert.Equal(15, await client.CountAsync("add-checked"));
    }

    [Fact]
    public async Task Save_and_load_knn_func_keep_and_bring_back_the_index_by_name()
    {
        var client = new VectorIndexClient(fixture.Client);
        var model = new ClusterInferenceModel(client, "knn-func", new IndexSpec { Dimension = 4, ShardCount = 2 });
        using var items = randn(30, 4, generator: new Generator(8));
        using var more = randn(10, 4, generator: new Generator(9));
        using var query = randn(3, 4, generator: new Generator(10));
        await model.TrainKnnAsync(items);
        using var before = await model.GetNearestNeighborsAsync(query, 5);

        Assert.Equal(30, (await model.SaveKnnFuncAsync("first")).Count);
        await model.AddToKnnAsync(more);
        Assert.Equal(40, await client.CountAsync("knn-func"));

        Assert.Equal(30, (await model.LoadKnnFuncAsync("first")).Count);
        Assert.Equal(30, await client.CountAsync("knn-func"));
        using var after = await model.GetNearestNeighborsAsync(query, 5);
        Assert.Equal(before.Indices.data<long>().ToArray(), after.Indices.data<long>().ToArray());
    }

    [Fact]
    public async Task The_client_cuts_inputs_into_batches_and_reports_progress()
    {
        var client = new VectorIndexClient(fixture.Client);
        await client.CreateIndexAsync("batched", new IndexSpec { Dimension = 4, ShardCount = 2 });
        var values = Enumerable.Range(0, 4 * 25).Select(i => (float)Math.Sin(i)).ToArray();
        var reports = new List<long>();

        var receipts = await client.AddAsync("batched", values, 4, batchRows: 10, progress: new SyncProgress(reports));

        Assert.Equal(new[] { 0L, 10, 20 }, receipts.Select(r => r.FirstId));
        // batches run side by side: one report per acknowledged batch, growing to the total
        Assert.Equal(3, reports.Count);
        Assert.Equal(reports.Order(), reports);
        Assert.Equal(25, reports[^1]);
        Assert.Equal(25, await client.CountAsync("batched"));

        // a batch is split over the shards by the home shard of its ids: counts differ by at most one batch
        await client.AddAsync("batched", values, 4, batchRows: 5);
        var shards = (await client.DescribeIndexAsync("batched")).Shards;
        Assert.Equal(50, shards.Sum(s => s.Count));
        Assert.True(shards.Max(s => s.Count) - shards.Min(s => s.Count) <= 10, "counts differ by at most one batch");
        await Assert.ThrowsAsync<ArgumentException>(() => client.AddAsync("batched", values, 4, ids: [1, 2]));
        await Assert.ThrowsAsync<ArgumentException>(() => client.AddAsync("batched", values.AsMemory(0, 7), 4));
        Assert.Equal(50, await client.CountAsync("batched"));
    }

    private sealed class SyncProgress(List<long> reports) : IProgress<long>
    {
        public void Report(long value) => reports.Add(value);
    }
}
