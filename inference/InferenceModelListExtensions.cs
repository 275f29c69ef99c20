namespace OrleansVectors.Inference;

/// <summary>
/// The seed's list inputs for models whose trunk takes a list of items (for example strings for a text model):
/// the list is cut into batches of <c>batchSize</c> items and each batch is handed to the trunk unchanged.
/// </summary>
public static class InferenceModelListExtensions
{
    /// <summary>Builds the knn index from the embeddings of every item.</summary>
    public static void TrainKnn<TItem>(this InferenceModel<IReadOnlyList<TItem>> model, IReadOnlyList<TItem> items, int batchSize = InferenceModel.DefaultBatchSize, IProgress<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.TrainKnn(Batches(items, batchSize), progress);
    }

    /// <summary>Adds the embeddings of every item to the knn index.</summary>
    public static void AddToKnn<TItem>(this InferenceModel<IReadOnlyList<TItem>> model, IReadOnlyList<TItem> items, int batchSize = InferenceModel.DefaultBatchSize, IProgress<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.AddToKnn(Batches(items, batchSize), progress);
    }

    /// <summary>Cuts a list into consecutive batches of at most <paramref name="batchSize"/> items.</summary>
    /// <exception cref="ArgumentException">The list is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is less than 1.</exception>
    public static IEnumerable<IReadOnlyList<TItem>> Batches<TItem>(IReadOnlyList<TItem> items, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (items.Count == 0)
        {
            throw new ArgumentException("The list of items is empty.", nameof(items));
        }

        return items.Chunk(batchSize);
    }
}
