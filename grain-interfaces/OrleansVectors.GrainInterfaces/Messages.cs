namespace OrleansVectors.GrainInterfaces;

/// <summary>How a query fans out.</summary>
[GenerateSerializer, Immutable, Alias("ov.QueryOptions")]
public sealed record QueryOptions
{
    /// <summary>Answer with the shards that did answer when some fail or time out, flagged in the result; default false: fail the query.</summary>
    [Id(0)] public bool AllowPartial { get; init; }

    /// <summary>How long each shard may take (default 10 s; keep it below the client's 30 s response timeout so a slow shard is reported, not the whole call).</summary>
    [Id(1)] public TimeSpan ShardTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>IVF shards: lists probed, 1 to <see cref="Limits.MaxLists"/>, or null for the index's own setting.</summary>
    [Id(2)] public int? NProbe { get; init; }

    /// <summary>HNSW shards: candidate list size, 1 to <see cref="Limits.MaxEfSearch"/>, or null for the index's own setting.</summary>
    [Id(3)] public int? EfSearch { get; init; }

    /// <summary>Shards queried at once (default 16).</summary>
    [Id(4)] public int MaxConcurrency { get; init; } = 16;

    /// <summary>The defaults.</summary>
    public static QueryOptions Default { get; } = new();

    /// <summary>The largest k a cluster query accepts (faiss's GPU limit): results stay well inside a message.</summary>
    public const int MaxK = 2048;

    /// <summary>The longest <see cref="ShardTimeout"/>.</summary>
    public static readonly TimeSpan MaxShardTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The most shards queried at once.</summary>
    public const int MaxMaxConcurrency = 1024;

    /// <summary>
    /// The largest reply a query may have, in bytes (12 a neighbour or match): a third of Orleans' 100 MB message
    /// limit. Larger replies are refused with <see cref="ReplyTooLargeException"/> before they are sent.
    /// </summary>
    public const int MaxReplyBytes = 32 << 20;

    /// <summary>Throws unless every option is within the range that works.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of its range (the message names it).</exception>
    public void Validate()
    {
        if (ShardTimeout <= TimeSpan.Zero || ShardTimeout > MaxShardTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(ShardTimeout), ShardTimeout, $"ShardTimeout must be positive and at most {MaxShardTimeout.TotalMinutes:0} minutes.");
        }

        if (MaxConcurrency is < 1 or > MaxMaxConcurrency)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrency), MaxConcurrency, $"MaxConcurrency must be between 1 and {MaxMaxConcurrency}.");
        }

        if (NProbe is < 1 or > Limits.MaxLists)
        {
            throw new ArgumentOutOfRangeException(nameof(NProbe), NProbe, $"NProbe must be between 1 and {Limits.MaxLists} (the most IVF lists an index has).");
        }

        if (EfSearch is < 1 or > Limits.MaxEfSearch)
        {
            throw new ArgumentOutOfRangeException(nameof(EfSearch), EfSearch, $"EfSearch must be between 1 and {Limits.MaxEfSearch}.");
        }
    }
}

/// <summary>Where an index's shards are and how full they are.</summary>
[GenerateSerializer, Immutable, Alias("ov.IndexDescription")]
public sealed record IndexDescription(
    [property: Id(0)] string Name,
    [property: Id(1)] IndexSpec Spec,
    [property: Id(2)] long Count,
    [property: Id(3)] IReadOnlyList<ShardDescription> Shards);

/// <summary>
/// One shard: its number, vector count, silo, and the engine answering its searches ("cpu (fused AVX2/FMA)",
/// "gpu (…)", "faiss", with the reason when a preferred engine is not in use).
/// </summary>
[GenerateSerializer, Immutable, Alias("ov.ShardDescription")]
public sealed record ShardDescription(
    [property: Id(0)] int Shard,
    [property: Id(1)] long Count,
    [property: Id(2)] string Silo,
    [property: Id(3)] string Engine);

/// <summary>
/// What an acknowledged add assigned: ids FirstId … FirstId+Count−1 when the index numbers vectors (FirstId −1 for the
/// caller's ids), and the shard that holds its first row (a batch split over shards has parts on others too).
/// </summary>
[GenerateSerializer, Immutable, Alias("ov.AddReceipt")]
public sealed record AddReceipt(
    [property: Id(0)] long FirstId,
    [property: Id(1)] int Count,
    [property: Id(2)] int Shard);

/// <summary>
/// What an input of <see cref="Count"/> vectors was given: ids FirstId … FirstId+Count−1 when the index numbers
/// vectors (FirstId −1 for caller ids). Which shard a vector goes to is the ingest front's to decide, not the lease's.
/// </summary>
[GenerateSerializer, Immutable, Alias("ov.IdLease")]
public sealed record IdLease(
    [property: Id(0)] long FirstId,
    [property: Id(1)] int Count);

/// <summary>
/// One add batch for <see cref="IIngestGrain"/>: its vectors (embeddings, or raw inputs when the index has a model)
/// and batch id, with either the caller's <see cref="Ids"/>, or the <see cref="FirstId"/> from a lease of the whole
/// input (<see cref="IIndexGrain.LeaseIdsAsync"/>), or neither (the front leases ids for the batch).
/// </summary>
[GenerateSerializer, Immutable, Alias("ov.AddRequest")]
public sealed record AddRequest(
    [property: Id(0)] Guid BatchId,
    [property: Id(1)] VectorBatch Vectors)
{
    /// <summary>One id per vector, given by the caller; null when the index numbers its vectors.</summary>
    [Id(2)] public long[]? Ids { get; init; }

    /// <summary>The batch's first id from a lease of the whole input, so ids follow input order; the same on every retry.</summary>
    [Id(3)] public long? FirstId { get; init; }
}

/// <summary>An index written as one faiss file in the cluster's storage, waiting to be downloaded.</summary>
[GenerateSerializer, Immutable, Alias("ov.ExportInfo")]
public sealed record ExportInfo(
    [property: Id(0)] string Id,
    [property: Id(1)] long Bytes,
    [property: Id(2)] long Count);

/// <summary>A committed snapshot of an index: a numbered version, or a saved (named) one.</summary>
[GenerateSerializer, Immutable, Alias("ov.SnapshotInfo")]
public sealed record SnapshotInfo(
    [property: Id(0)] long Version,
    [property: Id(1)] string? Name,
    [property: Id(2)] DateTimeOffset Created,
    [property: Id(3)] long Count,
    [property: Id(4)] long Bytes);
