using static OrleansVectors.Bench.Measurements;
using System.Runtime.InteropServices;
using OrleansVectors.Inference;
using OrleansVectors.Inference.Distances;
using OrleansVectors.Inference.Knn;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansVectors.Bench;

/// <summary>
/// The overhead of <see cref="InferenceModel"/>: GetNearestNeighbors against running the same trunk and
/// <see cref="FaissIndex"/> by hand (embed, normalize, search), in one run, for batches and single queries; and
/// <see cref="CustomKnn"/> (torch top-k) against <see cref="FaissKnn"/> on the same embeddings.
/// </summary>
internal static class InferenceBenchmark
{
    public static int Run(string[] args)
    {
        var options = new Options(args);
        var count = options.Int("base", 50_000);
        var inputDim = options.Int("input-dim", 64);
        var d = options.Int("dim", 128);
        var queryCount = options.Int("queries", 1000);
        var k = options.Int("k", 10);
        var reps = Math.Max(1, options.Int("reps", 5));

        torch.manual_seed(1);
        using var trunk = nn.Sequential(nn.Linear(inputDim, 256), nn.ReLU(), nn.Linear(256, d));
        trunk.eval();
        using var items = randn(count, inputDim);
        using var queries = randn(queryCount, inputDim);
        using var model = new InferenceModel(trunk, dataDevice: CPU);
        model.TrainKnn(items, batchSize: 1024);

        // the same index, built by hand
        using var index = FaissIndex.Create(d);
        using (no_grad())
        {
            using var embedded = nn.functional.normalize(trunk.call(items), 2, 1).contiguous();
            index.Add(MemoryMarshal.Cast<byte, float>(embedded.bytes));
        }

        Console.WriteLine($"InferenceModel overhead: trunk {inputDim}→256→{d} (CPU), Flat L2 over {count:N0} items, k={k}, {FaissLibrary.ThreadCount} threads, median of {reps}");
        var report = new Report("inference", "measure", "baseline", "measured", "ratio (measured / baseline time)", "target");

        var (byHandBatch, modelBatch) = Interleaved(reps, () => ByHand(trunk, index, queries, k), () => model.GetNearestNeighbors(queries, k).Dispose());
        report.Add($"batch of {queryCount:N0}: ms (by hand → InferenceModel)", byHandBatch * 1e3, modelBatch * 1e3, modelBatch / byHandBatch, "<= 1.05");

        var singles = Math.Min(200, queryCount);
        var single = Enumerable.Range(0, singles).Select(i => queries.narrow(0, i, 1)).ToArray();
        var (byHandSingle, modelSingle) = Interleaved(
            reps,
            () => Array.ForEach(single, q => ByHand(trunk, index, q, k)),
            () => Array.ForEach(single, q => model.GetNearestNeighbors(q, k).Dispose()));
        report.Add("single query: µs (by hand → InferenceModel)", byHandSingle * 1e6 / singles, modelSingle * 1e6 / singles, modelSingle / byHandSingle, "<= 1.05");

        // CustomKnn vs FaissKnn over the same embeddings
        var referenceCount = Math.Min(count, 20_000);
        using var reference = model.GetEmbeddings(items.narrow(0, 0, referenceCount), 1024);
        using var queryEmbeddings = model.GetEmbeddings(queries);
        using var faissKnn = new FaissKnn();
        var custom = new CustomKnn(new LpDistance(power: 2, normalizeEmbeddings: false), batchSize: 256);
        var (faissTime, customTime) = Interleaved(reps, () => faissKnn.Search(queryEmbeddings, k, reference).Dispose(), () => custom.Search(queryEmbeddings, k, reference).Dispose());
        report.Add($"{referenceCount:N0} refs: ms (FaissKnn → CustomKnn, batches of 256)", faissTime * 1e3, customTime * 1e3, customTime / faissTime, "report");

        Console.WriteLine();
        Console.WriteLine($"\nwritten to {report.Write()}");
        return 0;
    }

    private static void ByHand(nn.Module<Tensor, Tensor> trunk, FaissIndex index, Tensor queries, int k)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var embedded = nn.functional.normalize(trunk.call(queries), 2, 1).contiguous();
        index.Search(MemoryMarshal.Cast<byte, float>(embedded.bytes), k);
    }
}
