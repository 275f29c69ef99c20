using OrleansVectors.Inference.Knn;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansVectors.Inference;

/// <summary>
/// The seed's <c>InferenceModel</c> for a tensor trunk. Besides batches, it takes the seed's input forms: one
/// tensor (split into batches of <c>batchSize</c> rows), a list of same-shaped tensors (stacked into one), or a
/// TorchSharp dataset (its items' input tensors stacked a batch at a time).
/// </summary>
/// <remarks>
/// Overloads: a <see cref="IReadOnlyList{T}"/> of tensors is a list of items and is stacked, as in the seed;
/// any other <see cref="IEnumerable{T}"/> of tensors is a sequence of ready-made batches.
/// </remarks>
public class InferenceModel(
    nn.IModule<Tensor, Tensor> trunk,
    nn.IModule<Tensor, Tensor>? embedder = null,
    MatchFinder? matchFinder = null,
    bool normalizeEmbeddings = true,
    IKnnFunction? knnFunc = null,
    Device? dataDevice = null,
    ScalarType? dtype = null)
    : InferenceModel<Tensor>(trunk, embedder, matchFinder, normalizeEmbeddings, knnFunc, dataDevice, dtype), IAsyncInferenceModel
{
    /// <summary>The default batch size, as the seed.</summary>
    public const int DefaultBatchSize = 64;

    /// <summary>The embeddings of all rows of <paramref name="inputs"/>, computed <paramref name="batchSize"/> rows at a time.</summary>
    public Tensor GetEmbeddings(Tensor inputs, int batchSize, IProgress<long>? progress = null) =>
        GetEmbeddings(Batches(inputs, batchSize), progress);

    /// <summary>Builds the knn index from the embeddings of every row of <paramref name="inputs"/>.</summary>
    public void TrainKnn(Tensor inputs, int batchSize = DefaultBatchSize, IProgress<long>? progress = null) =>
        TrainKnn(Batches(inputs, batchSize), progress);

    /// <summary>Builds the knn index from a list of same-shaped item tensors (stacked).</summary>
    public void TrainKnn(IReadOnlyList<Tensor> items, int batchSize = DefaultBatchSize, IProgress<long>? progress = null)
    {
        using var stacked = Stack(items);
        TrainKnn(stacked, batchSize, progress);
    }

    /// <summary>Builds the knn index from a dataset's items; <paramref name="inputKey"/> names the input tensor of each item.</summary>
    public void TrainKnn(torch.utils.data.Dataset dataset, int batchSize = DefaultBatchSize, string inputKey = "data", IProgress<long>? progress = null) =>
        TrainKnn(Batches(dataset, batchSize, inputKey), progress);

    /// <summary>Adds the embeddings of every row of <paramref name="inputs"/> to the knn index.</summary>
    public void AddToKnn(Tensor inputs, int batchSize = DefaultBatchSize, IProgress<long>? progress = null) =>
        AddToKnn(Batches(inputs, batchSize), progress);

    /// <summary>Adds a list of same-shaped item tensors (stacked) to the knn index.</summary>
    public void AddToKnn(IReadOnlyList<Tensor> items, int batchSize = DefaultBatchSize, IProgress<long>? progress = null)
    {
        using var stacked = Stack(items);
        AddToKnn(stacked, batchSize, progress);
    }

    /// <summary>Adds a dataset's items to the knn index.</summary>
    public void AddToKnn(torch.utils.data.Dataset dataset, int batchSize = DefaultBatchSize, string inputKey = "data", IProgress<long>? progress = null) =>
        AddToKnn(Batches(dataset, batchSize, inputKey), progress);

    /// <summary>The nearest neighbours of a list of same-shaped item tensors (stacked).</summary>
    public KnnResult GetNearestNeighbors(IReadOnlyList<Tensor> query, int k)
    {
        using var stacked = Stack(query);
        return GetNearestNeighbors(stacked, k);
    }

    /// <summary>The embeddings of a list of same-shaped item tensors, stacked into one batch (the seed's <c>process_if_list</c>).</summary>
    public Tensor GetEmbeddings(IReadOnlyList<Tensor> items)
    {
        using var stacked = Stack(items);
        return GetEmbeddings(stacked);
    }

    /// <summary>The seed's <c>get_matches</c> for lists of item tensors (each list stacked into one batch).</summary>
    public bool[,] GetMatches(IReadOnlyList<Tensor> query, IReadOnlyList<Tensor>? reference = null, double? threshold = null)
    {
        using var q = Stack(query);
        using var r = reference is null ? null : Stack(reference);
        return GetMatches(q, r, threshold);
    }

    /// <summary>The seed's <c>get_matches(return_tuples=True)</c> for lists of item tensors.</summary>
    public IReadOnlyList<(long Query, long Reference)> GetMatchTuples(IReadOnlyList<Tensor> query, IReadOnlyList<Tensor>? reference = null, double? threshold = null)
    {
        using var q = Stack(query);
        using var r = reference is null ? null : Stack(reference);
        return GetMatchTuples(q, r, threshold);
    }

    /// <summary>The seed's <c>is_match</c> for lists of item tensors (each list stacked into one batch).</summary>
    public bool[] IsMatch(IReadOnlyList<Tensor> x, IReadOnlyList<Tensor> y, double? threshold = null)
    {
        using var a = Stack(x);
        using var b = Stack(y);
        return IsMatch(a, b, threshold);
    }

    /// <inheritdoc/>
    Task IAsyncInferenceModel.TrainKnnAsync(Tensor inputs, int batchSize, CancellationToken cancellationToken) =>
        Task.Run(() => TrainKnn(inputs, batchSize), cancellationToken);

    /// <inheritdoc/>
    Task IAsyncInferenceModel.AddToKnnAsync(Tensor inputs, int batchSize, CancellationToken cancellationToken) =>
        Task.Run(() => AddToKnn(inputs, batchSize), cancellationToken);

    /// <inheritdoc/>
    Task<KnnResult> IAsyncInferenceModel.GetNearestNeighborsAsync(Tensor query, int k, CancellationToken cancellationToken) =>
        Task.Run(() => GetNearestNeighbors(query, k), cancellationToken);

    /// <inheritdoc/>
    Task<bool[,]> IAsyncInferenceModel.GetMatchesAsync(Tensor query, Tensor? reference, double? threshold, CancellationToken cancellationToken) =>
        Task.Run(() => GetMatches(query, reference, threshold), cancellationToken);

    /// <inheritdoc/>
    Task<bool[]> IAsyncInferenceModel.IsMatchAsync(Tensor x, Tensor y, double? threshold, CancellationToken cancellationToken) =>
        Task.Run(() => IsMatch(x, y, threshold), cancellationToken);

    /// <summary>Splits <paramref name="inputs"/> along its first dimension into batches of at most <paramref name="batchSize"/> rows.</summary>
    /// <exception cref="ArgumentException">The tensor is a scalar or has no rows.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is less than 1.</exception>
    public static IEnumerable<Tensor> Batches(Tensor inputs, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        RequireRows(inputs, nameof(inputs));
        return Iterate();

        IEnumerable<Tensor> Iterate()
        {
            var rows = inputs.shape[0];
            for (long start = 0; start < rows; start += batchSize)
            {
                using var batch = inputs.narrow(0, start, Math.Min(batchSize, rows - start));
                yield return batch;
            }
        }
    }

    /// <inheritdoc/>
    protected override Tensor Prepare(Tensor batch)
    {
        RequireRows(batch, nameof(batch));
        var onDevice = batch.to(DataDevice);
        return Dtype is { } type ? onDevice.to_type(type) : onDevice;
    }

    /// <inheritdoc/>
    protected override string Describe(Tensor batch) => $"{batch.dtype} tensor of shape [{string.Join(", ", batch.shape)}]";

    private static void RequireRows(Tensor inputs, string name)
    {
        if (inputs.ndim == 0 || inputs.shape[0] == 0)
        {
            throw new ArgumentException($"The input must have at least one row; got shape [{string.Join(", ", inputs.shape)}].", name);
        }
    }

    private static Tensor Stack(IReadOnlyList<Tensor> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0)
        {
            throw new ArgumentException("The list of items is empty.", nameof(items));
        }

        var shape = items[0].shape;
        var odd = items.Select((t, i) => (t, i)).FirstOrDefault(x => !x.t.shape.SequenceEqual(shape));
        if (odd.t is not null)
        {
            throw new ArgumentException(
                $"Items must share one shape to be stacked: item 0 is [{string.Join(", ", shape)}], item {odd.i} is [{string.Join(", ", odd.t.shape)}].", nameof(items));
        }

        return stack(items);
    }

    private static IEnumerable<Tensor> Batches(torch.utils.data.Dataset dataset, int batchSize, string inputKey)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentException.ThrowIfNullOrEmpty(inputKey);
        if (dataset.Count == 0)
        {
            throw new ArgumentException("The dataset is empty.", nameof(dataset));
        }

        return Iterate();

        IEnumerable<Tensor> Iterate()
        {
            // No dispose scope here: a scope opened in an iterator stays current while the caller works on the
            // batch and would capture the caller's results. The items belong to the dataset.
            for (long start = 0; start < dataset.Count; start += batchSize)
            {
                var items = new List<Tensor>();
                for (var i = start; i < Math.Min(start + batchSize, dataset.Count); i++)
                {
                    var item = dataset.GetTensor(i);
                    items.Add(item.TryGetValue(inputKey, out var input)
                        ? input
                        : throw new ArgumentException($"Dataset item {i} has no '{inputKey}' tensor; its keys are {string.Join(", ", item.Keys)}.", nameof(inputKey)));
                }

                using var batch = Stack(items);
                yield return batch;
            }
        }
    }
}
