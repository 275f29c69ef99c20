using OrleansVectors.GrainInterfaces;
using OrleansVectors.Inference;
using OrleansVectors.Inference.Distances;
using OrleansVectors.Inference.Knn;
using static TorchSharp.torch;

namespace OrleansVectors.Client;

/// <summary>
/// The seed's InferenceModel over a cluster index: the index's model (if any) embeds on the silos, its shards
/// hold the vectors, and the query front merges their answers. <see cref="IAsyncInferenceModel.TrainKnnAsync"/>
/// replaces the index (drop, create with <see cref="Spec"/>, add), as the seed's train_knn replaces its index.
/// Matches between two batches are decided here, with <see cref="MatchFinder"/>, on embeddings from the cluster.
/// </summary>
public sealed class ClusterInferenceModel(VectorIndexClient client, string index, IndexSpec spec, MatchFinder? matchFinder = null) : IAsyncInferenceModel
{
    /// <summary>The index name.</summary>
    public string Index { get; } = index;

    /// <summary>The spec the index is created with.</summary>
    public IndexSpec Spec { get; } = spec;

    /// <summary>Decides matches; default cosine similarity at 0.9, as the seed.</summary>
    public MatchFinder MatchFinder { get; } = matchFinder ?? new MatchFinder(new CosineSimilarity(), threshold: 0.9);

    /// <inheritdoc/>
    /// <remarks>
    /// Checks first, then replaces: the rows (shape, width, finite values) and the spec (a scratch index is created
    /// and dropped when the index does not already have this spec, so a missing model or a bad factory string fails
    /// here) are checked before the index is dropped. A bad call leaves a populated index as it was.
    /// </remarks>
    public async Task TrainKnnAsync(Tensor inputs, int batchSize = InferenceModel.DefaultBatchSize, CancellationToken cancellationToken = default)
    {
        var (values, width) = TensorRows.Of(inputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var expected = Spec.InputDimension ?? Spec.Dimension;
        if (width != expected)
        {
            throw new ArgumentException($"The rows have {width} values each; index '{Index}' takes {expected} ({(Spec.InputDimension is null ? "its Dimension" : "its model's InputDimension")}). Nothing was changed.", nameof(inputs));
        }

        VectorValidation.RequireFinite(values, width, nameof(inputs));
        Spec.Validate();
        if (await client.TryGetSpecAsync(Index) != Spec)
        {
            var scratch = $"spec-check-{Guid.NewGuid():N}";
            await client.CreateIndexAsync(scratch, Spec);
            await client.DropIndexAsync(scratch);
        }

        await client.DropIndexAsync(Index);
        await client.CreateIndexAsync(Index, Spec);
        await client.AddAsync(Index, values, width, batchRows: Math.Max(batchSize, VectorIndexClient.DefaultBatchRows), cancellationToken: cancellationToken);
    }

    /// <inheritdoc/>
    public async Task AddToKnnAsync(Tensor inputs, int batchSize = InferenceModel.DefaultBatchSize, CancellationToken cancellationToken = default)
    {
        var (values, width) = TensorRows.Of(inputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        // the silos batch the model themselves; a message carries as many rows as fit
        await client.AddAsync(Index, values, width, batchRows: Math.Max(batchSize, VectorIndexClient.DefaultBatchRows), cancellationToken: cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<KnnResult> GetNearestNeighborsAsync(Tensor query, int k, CancellationToken cancellationToken = default)
    {
        var (values, width) = TensorRows.Of(query);
        var results = await client.SearchAsync(Index, values, width, k, cancellationToken: cancellationToken);
        long[] shape = [results.QueryCount, results.K];
        return new KnnResult(
            tensor(results.Distances.ToArray(), shape).to(query.device),
            tensor(results.Labels.ToArray(), shape).to(query.device));
    }

    /// <inheritdoc/>
    public async Task<bool[,]> GetMatchesAsync(Tensor query, Tensor? reference = null, double? threshold = null, CancellationToken cancellationToken = default)
    {
        using var q = await Embed(query);
        using var r = reference is null ? null : await Embed(reference);
        return MatchFinder.GetMatchingPairs(q, r ?? q, threshold);
    }

    /// <inheritdoc/>
    public async Task<bool[]> IsMatchAsync(Tensor x, Tensor y, double? threshold = null, CancellationToken cancellationToken = default)
    {
        using var a = await Embed(x);
        using var b = await Embed(y);
        return MatchFinder.IsMatch(a, b, threshold);
    }

    /// <summary>The seed's <c>get_embeddings</c> for a list of same-shaped item tensors (stacked, as the seed's process_if_list).</summary>
    public async Task<Tensor> GetEmbeddingsAsync(IReadOnlyList<Tensor> items)
    {
        using var stacked = Stack(items);
        return await Embed(stacked);
    }

    /// <summary>The seed's <c>get_matches</c> for lists of item tensors (each stacked into one batch).</summary>
    public async Task<bool[,]> GetMatchesAsync(IReadOnlyList<Tensor> query, IReadOnlyList<Tensor>? reference = null, double? threshold = null, CancellationToken cancellationToken = default)
    {
        using var q = Stack(query);
        using var r = reference is null ? null : Stack(reference);
        return await GetMatchesAsync(q, r, threshold, cancellationToken);
    }

    /// <summary>The seed's <c>is_match</c> for lists of item tensors (each stacked into one batch).</summary>
    public async Task<bool[]> IsMatchAsync(IReadOnlyList<Tensor> x, IReadOnlyList<Tensor> y, double? threshold = null, CancellationToken cancellationToken = default)
    {
        using var a = Stack(x);
        using var b = Stack(y);
        return await IsMatchAsync(a, b, threshold, cancellationToken);
    }

    /// <summary>The nearest neighbours of a list of item tensors (stacked).</summary>
    public async Task<KnnResult> GetNearestNeighborsAsync(IReadOnlyList<Tensor> query, int k, CancellationToken cancellationToken = default)
    {
        using var stacked = Stack(query);
        return await GetNearestNeighborsAsync(stacked, k, cancellationToken);
    }

    /// <summary>
    /// The seed's save_knn_func on the cluster: snapshots the index and keeps it under <paramref name="name"/>
    /// (in the cluster's storage, not a local file), past retention and drop.
    /// </summary>
    public Task<SnapshotInfo> SaveKnnFuncAsync(string name) => client.SaveAsync(Index, name);

    /// <summary>The seed's load_knn_func on the cluster: replaces the index's vectors with those saved under <paramref name="name"/>.</summary>
    public Task<SnapshotInfo> LoadKnnFuncAsync(string name) => client.LoadAsync(Index, name);

    private async Task<Tensor> Embed(Tensor inputs)
    {
        var (values, width) = TensorRows.Of(inputs);
        var embeddings = await client.EmbedAsync(Index, values, width);
        return tensor(embeddings.Values.ToArray(), [embeddings.Count, embeddings.Dimension]);
    }

    private static Tensor Stack(IReadOnlyList<Tensor> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        return items.Count == 0 ? throw new ArgumentException("The list of items is empty.", nameof(items)) : stack(items);
    }
}
