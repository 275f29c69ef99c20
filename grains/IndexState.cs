using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Grains;

/// <summary>How an index's vectors get their ids: decided by its first add.</summary>
[GenerateSerializer]
public enum IdMode
{
    /// <summary>Nothing added yet.</summary>
    Unset,

    /// <summary>The index numbers vectors 0, 1, 2, … in lease (input) order.</summary>
    Auto,

    /// <summary>Callers give every vector its id.</summary>
    Caller,
}

/// <summary>
/// The small, persisted state of an index grain: never the vectors (the shards' logs and snapshots), nor the snapshot
/// versions (the current manifest in the durable store is their one record).
/// </summary>
[GenerateSerializer, Alias("ov.IndexState")]
public sealed class IndexState
{
    /// <summary>The spec; null when the index does not exist.</summary>
    [Id(0)] public IndexSpec? Spec { get; set; }

    /// <summary>Changes on every create, so shards and query fronts can tell a re-created index apart.</summary>
    [Id(1)] public Guid Generation { get; set; }

    /// <summary>
    /// Auto-numbered ids below this may have been handed out: the mark of the index's
    /// <see cref="Indexes.IdAllocator"/>, written once per block of ids rather than once per batch; after a crash,
    /// numbering resumes here.
    /// </summary>
    [Id(2)] public long IdBlockEnd { get; set; }

    /// <summary>How ids are given: decided by the first add, and stored before that add's lease is answered.</summary>
    [Id(3)] public IdMode Mode { get; set; }
}
