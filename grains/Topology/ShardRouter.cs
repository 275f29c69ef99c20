namespace OrleansVectors.Grains.Topology;

/// <summary>
/// Which shard of an index each vector of an add goes to: the only place that decides it (the ingest front asks it
/// through <see cref="ShardTopology.Router"/>; clients send batches to the front and route nothing).
/// </summary>
/// <remarks>
/// <para>A batch whose ids are fixed by its request (caller ids, or automatic ids from the first id of the caller's
/// lease) is split by <see cref="ShardOfId"/>: every id has one home shard, so a caller id's uniqueness is checked
/// there alone, and a retry (same batch id, same ids) meets exactly the shards that may already hold its parts, each
/// of which stores its part once.</para>
/// <para>A batch whose ids the front leases for it goes whole to <see cref="ShardOfBatch"/>. The index grain keeps a
/// lease by batch id only while it stays active: a retry after it moved may get other ids, and must still meet the
/// shard that holds the first attempt, so here the batch id decides, not the ids. Such batches spread at random,
/// even only over many batches; a client that leases its whole input first (the client library does) is spread
/// evenly and keeps its ids in input order.</para>
/// </remarks>
public sealed class ShardRouter
{
    /// <summary>A router over <paramref name="shardCount"/> shards.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shardCount"/> is less than 1.</exception>
    public ShardRouter(int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        ShardCount = shardCount;
    }

    /// <summary>The number of shards.</summary>
    public int ShardCount { get; }

    /// <summary>
    /// The home shard of an id. Ids are taken in aligned blocks of <see cref="ShardCount"/>, and each block is
    /// rotated by a hash of its number: a run of consecutive ids (an index's own numbering, or consecutive caller ids)
    /// spreads evenly to within two ids per shard (a partial block at either end), and ids with a stride (every tenth,
    /// multiples of the shard count) spread as hashed.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is negative.</exception>
    public int ShardOfId(long id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        var count = (ulong)ShardCount;
        var (block, offset) = Math.DivRem((ulong)id, count);
        return (int)((offset + (Mix(block) % count)) % count);
    }

    /// <summary>The shard of a batch whose ids are leased by the front: a function of its batch id alone.</summary>
    public int ShardOfBatch(Guid batchId)
    {
        Span<byte> bytes = stackalloc byte[16];
        batchId.TryWriteBytes(bytes);
        var hash = Mix(BitConverter.ToUInt64(bytes) ^ Mix(BitConverter.ToUInt64(bytes[8..])));
        return (int)(hash % (ulong)ShardCount);
    }

    /// <summary>
    /// Splits an add batch into its parts, one per shard it goes to, in shard order (see the remarks for which rule
    /// applies when).
    /// </summary>
    /// <param name="batchId">The batch id.</param>
    /// <param name="ids">The id of each row.</param>
    /// <param name="idsFromRequest">Whether the request fixed the ids (caller ids, or a first id from the caller's lease).</param>
    public IReadOnlyList<BatchPart> Route(Guid batchId, ReadOnlySpan<long> ids, bool idsFromRequest)
    {
        if (ids.IsEmpty)
        {
            throw new ArgumentException("A batch has at least one row.", nameof(ids));
        }

        if (!idsFromRequest || ShardCount == 1)
        {
            return [new BatchPart(idsFromRequest ? 0 : ShardOfBatch(batchId), [.. Enumerable.Range(0, ids.Length)])];
        }

        var rows = new List<int>?[ShardCount];
        for (var row = 0; row < ids.Length; row++)
        {
            (rows[ShardOfId(ids[row])] ??= []).Add(row);
        }

        return [.. rows.Select((r, shard) => (Rows: r, Shard: shard)).Where(p => p.Rows is not null).Select(p => new BatchPart(p.Shard, [.. p.Rows!]))];
    }

    /// <summary>SplitMix64's finalizer: a fixed, well-mixed 64-bit hash, the same in every process and version.</summary>
    private static ulong Mix(ulong value)
    {
        value += 0x9E3779B97F4A7C15UL;
        value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9UL;
        value = (value ^ (value >> 27)) * 0x94D049BB133111EBUL;
        return value ^ (value >> 31);
    }
}

/// <summary>The rows of an add batch that go to one shard, in input order.</summary>
/// <param name="Shard">The shard.</param>
/// <param name="Rows">The batch's row numbers, ascending.</param>
public sealed record BatchPart(int Shard, int[] Rows);
