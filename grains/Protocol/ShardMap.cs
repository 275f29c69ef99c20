using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Grains;

/// <summary>What the fronts, the shards and k-means need to fan out: the spec and the generation of the index (a new one after drop and create).</summary>
[GenerateSerializer, Immutable, Alias("ov.ShardMap")]
public sealed record ShardMap(
    [property: Id(0)] string Name,
    [property: Id(1)] IndexSpec Spec,
    [property: Id(2)] Guid Generation);
