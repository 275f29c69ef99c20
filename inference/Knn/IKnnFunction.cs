using static TorchSharp.torch;

namespace OrleansVectors.Inference.Knn;

/// <summary>A k-nearest-neighbour function, as the seed's knn functions (<c>FaissKNN</c>, <c>CustomKNN</c>).</summary>
public interface IKnnFunction
{
    /// <summary>
    /// The <paramref name="k"/> nearest reference rows of each query row.
    /// </summary>
    /// <param name="query">Query embeddings (rows × dimension), floating point.</param>
    /// <param name="k">Neighbours per query, at least 1 and at most the number of reference rows (minus one when the reference includes the query).</param>
    /// <param name="reference">Reference embeddings; null to search what the function already holds (or the query itself, for functions that hold nothing).</param>
    /// <param name="referenceIncludesQuery">
    /// The query rows are the first rows of the reference: k+1 neighbours are fetched and each row's own index is
    /// dropped — or, where it is not among them, the last one — exactly as the seed does.
    /// </param>
    /// <returns>Distances and indices into the reference, each query rows × k, on the query's device.</returns>
    KnnResult Search(Tensor query, int k, Tensor? reference = null, bool referenceIncludesQuery = false);
}

/// <summary>A knn function that holds an index: it can be trained, added to, saved and loaded.</summary>
public interface ITrainableKnn : IKnnFunction
{
    /// <summary>Replaces the index with a new one holding <paramref name="embeddings"/>.</summary>
    void Train(Tensor embeddings);

    /// <summary>Adds <paramref name="embeddings"/> to the index; they get the next indices.</summary>
    void Add(Tensor embeddings);

    /// <summary>Writes the index to a file.</summary>
    void Save(string path);

    /// <summary>Replaces the index with one read from a file.</summary>
    void Load(string path);

    /// <summary>Drops the index.</summary>
    void Reset();
}
