namespace OrleansVectors.Inference.Faiss;

/// <summary>How an index compares vectors. Values match <c>faiss::MetricType</c>.</summary>
public enum FaissMetric
{
    /// <summary>Inner product: larger is closer. With normalized vectors this is cosine similarity.</summary>
    InnerProduct = 0,

    /// <summary>Squared Euclidean distance: smaller is closer. faiss reports squared distances.</summary>
    L2 = 1,
}
