using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Durability;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains.Shards;

/// <summary>
/// Which shard a <see cref="ShardCore"/> holds (index, generation, shard number), the spec the index was created
/// with, and the faiss index type each shard starts from. The host derives it from the index's shard map; the core
/// derives its storage paths from it (<see cref="StorageLayout"/>).
/// </summary>
/// <param name="Index">The index name.</param>
/// <param name="Generation">The generation of the index (a new one on every create).</param>
/// <param name="Shard">The shard number.</param>
/// <param name="Spec">The index spec: the dimension, the metric, the model that embeds raw inputs.</param>
/// <param name="FaissFactory">The faiss factory string of the shard's index (one that keeps global ids).</param>
/// <param name="FaissMetric">The faiss metric of the shard's index.</param>
internal sealed record ShardLocation(string Index, Guid Generation, int Shard, IndexSpec Spec, string FaissFactory, FaissMetric FaissMetric)
{
    /// <summary>The prefix of every object of this generation of the index.</summary>
    public string GenerationPrefix => StorageLayout.Generation(Index, Generation);

    /// <summary>The shard's log folder.</summary>
    public string LogFolder => StorageLayout.Log(GenerationPrefix, Shard);

    /// <summary>A new, empty faiss index of the shard.</summary>
    public FaissIndex CreateFaissIndex() => FaissIndex.Create(Spec.Dimension, FaissFactory, FaissMetric);
}
