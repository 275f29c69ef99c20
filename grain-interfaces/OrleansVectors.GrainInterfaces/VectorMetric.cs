namespace OrleansVectors.GrainInterfaces;

/// <summary>How an index compares vectors.</summary>
[GenerateSerializer]
public enum VectorMetric
{
    /// <summary>Squared Euclidean distance: smaller is closer.</summary>
    L2 = 1,

    /// <summary>Inner product: larger is closer (cosine similarity for normalized vectors).</summary>
    InnerProduct = 0,
}
