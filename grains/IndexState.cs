using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Grains;

/// <summary>How an index's vectors get their ids: decided by its first add.</summary>
[GenerateSerializer]
public enum IdMode
{
    /// <summary>Nothing added yet.</summary>
    Unset,

    /// <summary>The index numbers vectors 0, 1, 2, … in acknowledgement order.</summary>
    Auto,

    /// <summary>Callers give every vector its id.</summary>
    Caller,
}

/// <summary>The small, persisted state of an index grain (never the vectors).</summary>
[GenerateSerializer, Alias("ov.IndexState")]
public sealed class IndexState
{
    /// <summary>The spec; null when the index does not exist.</summary>
    [Id(0)] public IndexSpec? Spec { get; set; }

    /// <summary>Changes on every create, so shards and query fronts can tell a re-created index apart.</summary>
    [Id(1)] public Guid Generation { get; set; }

    /// <summary>The next id an auto-numbered add assigns.</summary>
    [Id(2)] public long NextId { get; set; }

    /// <summary>How ids are given.</summary>
    [Id(3)] public IdMode Mode { get; set; }

    /// <summary>Vectors acknowledged per shard.</summary>
    [Id(4)] public long[] ShardCounts { get; set; } = [];
}
