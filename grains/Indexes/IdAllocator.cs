using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Grains.Indexes;

/// <summary>
/// Hands out the ids of one index generation, knowing nothing of grains: auto-numbered ids 0, 1, 2, … in lease
/// order, or none when callers give their own (the first lease decides, for good). It stores a high-water mark
/// through its host's <c>persist</c> delegate once per block of <see cref="IdBlock"/> ids rather than once per
/// lease, and hands out no id before a stored mark covers it: an allocator made again from the stored mark (after a
/// crash) never hands an id out twice, and skips at most the rest of a block. A lease id seen again among the newest
/// <c>rememberedLeases</c> gets the same lease (a retry, or one batch sent by two fronts).
/// </summary>
/// <remarks>
/// <para>Thread-safe. Its awaits keep the caller's context, so <c>persist</c> runs where the lease was asked for (in a
/// grain, on its turn, free to touch grain state). Marks are written one at a time, and each covers every id handed
/// out before it was made.</para>
/// <para>After a failed write the allocator goes on from memory, which is then ahead of storage: the failed lease's
/// ids are skipped, never handed out, and the next lease that needs a mark (or the mode) stored writes it again.</para>
/// </remarks>
internal sealed class IdAllocator
{
    /// <summary>Auto-numbered ids covered per stored mark; a crash skips at most the rest of a block.</summary>
    public const long IdBlock = 1 << 20;

    private readonly string _index;
    private readonly Func<IdWatermark, Task> _persist;
    private readonly int _rememberedLeases;
    private readonly long _blockSize;
    private readonly Lock _sync = new();
    private readonly Dictionary<Guid, Task<IdLease>> _leases = [];
    private readonly Queue<(Guid LeaseId, Task<IdLease> Lease)> _leaseOrder = new();
    private long _next;
    private IdMode _mode;
    private IdWatermark _stored;

    // the turn of the last write asked for: each write waits for the one before (a chain, not a semaphore: nothing to
    // dispose, and a host may let an allocator go while a write is in flight)
    private Task _lastWrite = Task.CompletedTask;

    /// <summary>An allocator that goes on from a stored mark (<see cref="IdWatermark.Empty"/> for a new index).</summary>
    /// <param name="index">The index's name, for messages.</param>
    /// <param name="stored">The mark stored last: numbering resumes at its end, in its mode.</param>
    /// <param name="persist">Stores a mark durably; called one at a time, and a lease waits for it.</param>
    /// <param name="rememberedLeases">Lease ids remembered for retries (at least 1).</param>
    /// <param name="blockSize">Ids a stored mark covers ahead (default <see cref="IdBlock"/>; at least 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A bound is below 1, or the stored mark is negative.</exception>
    public IdAllocator(string index, IdWatermark stored, Func<IdWatermark, Task> persist, int rememberedLeases, long blockSize = IdBlock)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(persist);
        ArgumentOutOfRangeException.ThrowIfNegative(stored.BlockEnd, nameof(stored));
        ArgumentOutOfRangeException.ThrowIfLessThan(rememberedLeases, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        (_index, _persist, _rememberedLeases, _blockSize) = (index, persist, rememberedLeases, blockSize);
        (_next, _mode, _stored) = (stored.BlockEnd, stored.Mode, stored);
    }

    /// <summary>The next auto-numbered id and the id mode, as a snapshot's manifest records them.</summary>
    public IdProgress Progress
    {
        get
        {
            lock (_sync)
            {
                return new IdProgress(_next, _mode);
            }
        }
    }

    /// <summary>
    /// Leases ids for a batch of <paramref name="count"/> vectors: with <paramref name="callerIds"/> none (the lease's
    /// first id is -1), otherwise the next <paramref name="count"/> numbers. Returns once a stored mark covers the
    /// lease and holds the id mode. The same <paramref name="leaseId"/> again gets the same lease while remembered.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    /// <exception cref="InvalidOperationException">The index takes the other kind of ids (its first add decided).</exception>
    public Task<IdLease> LeaseAsync(Guid leaseId, int count, bool callerIds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var mode = callerIds ? IdMode.Caller : IdMode.Auto;
        IdLease lease;
        TaskCompletionSource<IdLease> leasing;
        lock (_sync)
        {
            if (_mode != IdMode.Unset && _mode != mode)
            {
                throw new InvalidOperationException(_mode == IdMode.Auto
                    ? $"Index '{_index}' numbers its vectors itself: add without ids."
                    : $"Index '{_index}' takes caller ids: give an id for every vector.");
            }

            if (_leases.TryGetValue(leaseId, out var known))
            {
                return known; // a retry, or the same batch from two fronts: one lease, stored once
            }

            lease = new IdLease(callerIds ? -1 : _next, count);
            if (!callerIds)
            {
                _next += count;
            }

            // set before any write, so that concurrent first leases agree on the mode
            _mode = mode;
            leasing = new TaskCompletionSource<IdLease>(TaskCreationOptions.RunContinuationsAsynchronously);
            RememberLease(leaseId, leasing.Task);
        }

        return CompleteLeaseAsync(leaseId, lease, leasing, mode, needed: callerIds ? 0 : lease.FirstId + count);
    }

    /// <summary>
    /// Moves numbering past <paramref name="nextId"/> and, while the mode is not decided, takes <paramref name="mode"/>
    /// (a loaded snapshot's), storing the mark when either changes. Ids already handed out stay handed out.
    /// </summary>
    public async Task AdvanceAsync(long nextId, IdMode mode)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nextId);
        lock (_sync)
        {
            if (!(mode != IdMode.Unset && _mode == IdMode.Unset) && nextId <= _next)
            {
                return;
            }

            _next = Math.Max(_next, nextId);
            _mode = _mode == IdMode.Unset ? mode : _mode;
        }

        await WriteAsync(stored => new IdWatermark(Math.Max(stored.BlockEnd, _next), _mode));
    }

    /// <summary>
    /// Stores the mark at the next unused id, giving back the rest of the block so that numbering stays dense after
    /// a graceful stop. Safe at any time: the lower mark counts as stored before it is written, so a lease meanwhile
    /// waits for a mark that covers it.
    /// </summary>
    public Task GiveBackUnusedAsync() => WriteAsync(stored => _next < stored.BlockEnd ? new IdWatermark(_next, _mode) : null);

    /// <summary>Completes a new lease once a stored mark covers it; a lease that fails is forgotten, so a retry leases again.</summary>
    private async Task<IdLease> CompleteLeaseAsync(Guid leaseId, IdLease lease, TaskCompletionSource<IdLease> leasing, IdMode mode, long needed)
    {
        try
        {
            await CoverAsync(mode, needed);
            leasing.SetResult(lease);
        }
        catch (Exception e)
        {
            lock (_sync)
            {
                if (_leases.TryGetValue(leaseId, out var remembered) && remembered == leasing.Task)
                {
                    _leases.Remove(leaseId);
                }
            }

            leasing.SetException(e);
        }

        return await leasing.Task;
    }

    /// <summary>Stores a mark that covers auto ids below <paramref name="needed"/> and the mode, unless one does already.</summary>
    private async Task CoverAsync(IdMode mode, long needed)
    {
        bool Covered(IdWatermark stored) => stored.Mode == mode && needed <= stored.BlockEnd;

        lock (_sync)
        {
            if (Covered(_stored))
            {
                return;
            }
        }

        // several leases of one block wait here for one write; the first covers the others
        await WriteAsync(stored => Covered(stored) ? null : new IdWatermark(Math.Max(stored.BlockEnd, _next + _blockSize), _mode));
    }

    /// <summary>Stores the mark <paramref name="next"/> makes of the stored one (null: none needed), one write at a time.</summary>
    private async Task WriteAsync(Func<IdWatermark, IdWatermark?> next)
    {
        var turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task previous;
        lock (_sync)
        {
            (previous, _lastWrite) = (_lastWrite, turn.Task);
        }

        try
        {
            await previous; // turns only ever complete successfully
            IdWatermark? mark;
            lock (_sync)
            {
                mark = next(_stored);
            }

            if (mark is { } write)
            {
                var lowering = write.BlockEnd < _stored.BlockEnd;
                if (lowering)
                {
                    // a lease during the write must not count the higher mark as covering it
                    lock (_sync)
                    {
                        _stored = write;
                    }
                }

                await _persist(write);
                lock (_sync)
                {
                    _stored = write;
                }
            }
        }
        finally
        {
            turn.SetResult();
        }
    }

    private void RememberLease(Guid leaseId, Task<IdLease> lease)
    {
        _leases[leaseId] = lease;
        _leaseOrder.Enqueue((leaseId, lease));
        while (_leaseOrder.Count > _rememberedLeases)
        {
            // a lease id leased again after a failure is queued twice: its older entry must not forget the newer lease
            var (oldest, oldLease) = _leaseOrder.Dequeue();
            if (_leases.TryGetValue(oldest, out var remembered) && remembered == oldLease)
            {
                _leases.Remove(oldest);
            }
        }
    }
}

/// <summary>
/// What an <see cref="IdAllocator"/> stores: auto-numbered ids below <paramref name="BlockEnd"/> may have been handed
/// out (after a crash, numbering resumes there), and the id mode the first lease decided.
/// </summary>
internal readonly record struct IdWatermark(long BlockEnd, IdMode Mode)
{
    /// <summary>The mark of an index nothing was added to.</summary>
    public static IdWatermark Empty => default;
}

/// <summary>The next auto-numbered id an allocator would hand out, and its id mode.</summary>
internal readonly record struct IdProgress(long NextId, IdMode Mode);
