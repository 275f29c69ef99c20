using OrleansVectors.Inference.Knn;
using static TorchSharp.torch;

namespace OrleansVectors.Inference;

/// <summary>
/// The seed's InferenceModel methods as awaitables, so a service can swap an in-process
/// <see cref="InferenceModel"/> for a cluster-backed model (OrleansVectors.Client.Inference's ClusterInferenceModel) by
/// changing one registration. Inputs are what the model takes (rows of raw inputs, or embeddings when there is
/// no model); results are as <see cref="InferenceModel"/>'s.
/// </summary>
public interface IAsyncInferenceModel
{
    /// <summary>Builds the knn index from the embeddings of every row of <paramref name="inputs"/>, replacing what it held.</summary>
    Task TrainKnnAsync(Tensor inputs, int batchSize = InferenceModel.DefaultBatchSize, CancellationToken cancellationToken = default);

    /// <summary>Adds the embeddings of every row of <paramref name="inputs"/> to the knn index.</summary>
    Task AddToKnnAsync(Tensor inputs, int batchSize = InferenceModel.DefaultBatchSize, CancellationToken cancellationToken = default);

    /// <summary>The <paramref name="k"/> nearest indexed items of each query row.</summary>
    Task<KnnResult> GetNearestNeighborsAsync(Tensor query, int k, CancellationToken cancellationToken = default);

    /// <summary>Which query rows match which reference rows (the reference defaults to the query).</summary>
    Task<bool[,]> GetMatchesAsync(Tensor query, Tensor? reference = null, double? threshold = null, CancellationToken cancellationToken = default);

    /// <summary>Whether each row of <paramref name="x"/> matches the same row of <paramref name="y"/>.</summary>
    Task<bool[]> IsMatchAsync(Tensor x, Tensor y, double? threshold = null, CancellationToken cancellationToken = default);
}
