using OrleansVectors.Grains.Indexes;

namespace OrleansVectors.Grains.Tests.Indexes;

/// <summary>The index's id allocator without a cluster: numbering, retries, crashes, the id mode and concurrent leases.</summary>
public sealed class IdAllocatorTests
{
    [Fact]
    public async Task Auto_ids_are_contiguous_in_lease_order_and_one_stored_mark_covers_a_block()
    {
        var marks = new StoredMarks();
        var ids = marks.NewAllocator();
        Guid[] leaseIds = [Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()];

        Assert.Equal(new IdLease(0, 3), await ids.LeaseAsync(leaseIds[0], 3, callerIds: false));
        Assert.Equal(new IdLease(3, 5), await ids.LeaseAsync(leaseIds[1], 5, callerIds: false));
        Assert.Equal(new IdLease(8, 2), await ids.LeaseAsync(leaseIds[2], 2, callerIds: false));
        Assert.Equal(new IdProgress(10, IdMode.Auto), ids.Progress);

        // the first lease stored a mark a block ahead, with the mode; the others were covered by it
        Assert.Equal([new IdWatermark(3 + IdAllocator.IdBlock, IdMode.Auto)], marks.Written);
    }

    [Fact]
    public async Task A_retried_lease_id_gets_the_same_lease_while_it_is_remembered()
    {
        var marks = new StoredMarks();
        var ids = marks.NewAllocator(rememberedLeases: 2);
        Guid[] leaseIds = [Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()];
        var first = await ids.LeaseAsync(leaseIds[0], 4, callerIds: false);
        var second = await ids.LeaseAsync(leaseIds[1], 4, callerIds: false);

        // concurrent retries of one lease id share the lease and take no new ids
        var retries = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => ids.LeaseAsync(leaseIds[1], 4, callerIds: false))));
        Assert.All(retries, retry => Assert.Equal(second, retry));
        Assert.Equal(8, ids.Progress.NextId);

        // a third lease pushes the oldest lease id out of the window of two: it leases anew
        var third = await ids.LeaseAsync(leaseIds[2], 4, callerIds: false);
        Assert.Equal(third, await ids.LeaseAsync(leaseIds[2], 4, callerIds: false));
        Assert.Equal(new IdLease(0, 4), first);
        Assert.Equal(new IdLease(12, 4), await ids.LeaseAsync(leaseIds[0], 4, callerIds: false));
    }

    [Fact]
    public async Task After_a_crash_no_id_is_handed_out_twice_and_at_most_the_rest_of_a_block_is_skipped()
    {
        const long Block = 100;
        var marks = new StoredMarks();
        var random = new Random(7);
        var handedOut = new List<IdLease>();
        long end = 0;
        for (var crash = 0; crash < 20; crash++)
        {
            // a new activation from what was stored, which takes some leases and dies without giving anything back
            var ids = marks.NewAllocator(blockSize: Block);
            var leases = random.Next(1, 6);
            for (var n = 0; n < leases; n++)
            {
                // contiguous within an activation; after a crash, past every id handed out and at most a block further
                var lease = await ids.LeaseAsync(Guid.NewGuid(), random.Next(1, 80), callerIds: false);
                Assert.InRange(lease.FirstId, end, n == 0 ? end + Block : end);
                end = lease.FirstId + lease.Count;
                handedOut.Add(lease);
            }
        }

        AssertDisjoint(handedOut);
        Assert.True(end > handedOut.Sum(l => l.Count), "the crashes skipped ids: the test exercised a resumption past a block's rest");
    }

    [Fact]
    public async Task A_graceful_stop_gives_back_the_rest_of_the_block_so_numbering_stays_dense()
    {
        var marks = new StoredMarks();
        var ids = marks.NewAllocator();
        await ids.LeaseAsync(Guid.NewGuid(), 7, callerIds: false);
        await ids.GiveBackUnusedAsync();
        Assert.Equal(new IdWatermark(7, IdMode.Auto), marks.Last);

        var restarted = marks.NewAllocator();
        Assert.Equal(new IdLease(7, 3), await restarted.LeaseAsync(Guid.NewGuid(), 3, callerIds: false));
    }

    [Fact]
    public async Task The_first_lease_decides_the_id_mode_and_stores_it_before_answering()
    {
        var marks = new StoredMarks();
        var callers = marks.NewAllocator("by-caller");
        Assert.Equal(new IdLease(-1, 5), await callers.LeaseAsync(Guid.NewGuid(), 5, callerIds: true));
        Assert.Equal(IdMode.Caller, marks.Last.Mode);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => callers.LeaseAsync(Guid.NewGuid(), 5, callerIds: false));
        Assert.Equal("Index 'by-caller' takes caller ids: give an id for every vector.", refused.Message);

        // the stored mode outlives the allocator
        refused = await Assert.ThrowsAsync<InvalidOperationException>(() => marks.NewAllocator("by-caller").LeaseAsync(Guid.NewGuid(), 5, callerIds: false));
        Assert.Equal("Index 'by-caller' takes caller ids: give an id for every vector.", refused.Message);

        var autoMarks = new StoredMarks();
        var auto = autoMarks.NewAllocator("numbered");
        await auto.LeaseAsync(Guid.NewGuid(), 5, callerIds: false);
        refused = await Assert.ThrowsAsync<InvalidOperationException>(() => auto.LeaseAsync(Guid.NewGuid(), 5, callerIds: true));
        Assert.Equal("Index 'numbered' numbers its vectors itself: add without ids.", refused.Message);

        // a retried lease id in the other mode is refused too: the mode is the index's, not the lease's
        var leaseId = Guid.NewGuid();
        await auto.LeaseAsync(leaseId, 1, callerIds: false);
        await Assert.ThrowsAsync<InvalidOperationException>(() => auto.LeaseAsync(leaseId, 1, callerIds: true));
    }

    [Fact]
    public async Task Concurrent_first_leases_of_both_modes_agree_on_one()
    {
        var marks = new StoredMarks(yieldOnWrite: true);
        var ids = marks.NewAllocator();
        var leases = Enumerable.Range(0, 16).Select(i => Task.Run(() => ids.LeaseAsync(Guid.NewGuid(), 2, callerIds: i % 2 == 0))).ToList();
        try
        {
            await Task.WhenAll(leases);
        }
        catch (InvalidOperationException)
        {
            // the leases of the mode that lost; checked one by one below
        }

        var mode = ids.Progress.Mode;
        Assert.NotEqual(IdMode.Unset, mode);
        var answered = leases.Where(l => l.IsCompletedSuccessfully).Select(l => l.Result).ToList();
        Assert.All(answered, lease => Assert.Equal(mode == IdMode.Caller, lease.FirstId == -1));
        Assert.All(leases.Where(l => l.IsFaulted), l => Assert.IsType<InvalidOperationException>(l.Exception!.InnerException));
        Assert.Equal(mode, marks.Last.Mode);
    }

    [Fact]
    public async Task Many_concurrent_leases_get_disjoint_ranges_each_covered_by_a_stored_mark_when_answered()
    {
        const long Block = 64;
        var marks = new StoredMarks(yieldOnWrite: true);
        var ids = marks.NewAllocator(blockSize: Block);
        var leases = await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(async () =>
        {
            var lease = await ids.LeaseAsync(Guid.NewGuid(), 1 + (i % 37), callerIds: false);
            Assert.True(marks.Last.BlockEnd >= lease.FirstId + lease.Count, $"lease {lease} was answered before a stored mark covered it");
            return lease;
        })));

        AssertDisjoint(leases);
        var total = Enumerable.Range(0, 400).Sum(i => 1 + (i % 37));
        Assert.Equal(0, leases.Min(l => l.FirstId));
        Assert.Equal(total, leases.Max(l => l.FirstId + l.Count)); // contiguous: no gap and no overlap
        Assert.Equal(total, ids.Progress.NextId);

        // marks are written one at a time, each covering more
        Assert.Equal(marks.Written.OrderBy(m => m.BlockEnd), marks.Written);
        Assert.InRange(marks.Written.Count, 1, (total / Block) + 1);
    }

    [Fact]
    public async Task A_failed_write_answers_no_lease_and_the_retry_leases_ids_the_write_covers()
    {
        var marks = new StoredMarks { FailNextWrite = true };
        var ids = marks.NewAllocator(blockSize: 10);
        var leaseId = Guid.NewGuid();
        await Assert.ThrowsAsync<IOException>(() => ids.LeaseAsync(leaseId, 4, callerIds: false));
        Assert.Empty(marks.Written);

        // ids of the failed lease are skipped, never handed out
        var retried = await ids.LeaseAsync(leaseId, 4, callerIds: false);
        Assert.Equal(new IdLease(4, 4), retried);
        Assert.True(marks.Last.BlockEnd >= 8);
        Assert.Equal(IdMode.Auto, marks.Last.Mode);
    }

    [Fact]
    public async Task Loading_a_snapshot_moves_numbering_past_it_and_takes_its_mode_when_none_is_set()
    {
        var marks = new StoredMarks();
        var ids = marks.NewAllocator();
        await ids.AdvanceAsync(500, IdMode.Auto);
        Assert.Equal(new IdWatermark(500, IdMode.Auto), marks.Last);
        Assert.Equal(new IdLease(500, 1), await ids.LeaseAsync(Guid.NewGuid(), 1, callerIds: false));

        // numbering never goes back, nor does a decided mode change
        var written = marks.Written.Count;
        await ids.AdvanceAsync(100, IdMode.Caller);
        Assert.Equal(written, marks.Written.Count);
        Assert.Equal(new IdProgress(501, IdMode.Auto), ids.Progress);
    }

    [Fact]
    public async Task Bad_bounds_are_refused_naming_the_argument()
    {
        Assert.Equal("rememberedLeases", Assert.Throws<ArgumentOutOfRangeException>(() => new IdAllocator("i", IdWatermark.Empty, _ => Task.CompletedTask, 0)).ParamName);
        Assert.Equal("blockSize", Assert.Throws<ArgumentOutOfRangeException>(() => new IdAllocator("i", IdWatermark.Empty, _ => Task.CompletedTask, 1, 0)).ParamName);
        var ids = new IdAllocator("i", IdWatermark.Empty, _ => Task.CompletedTask, 1);
        Assert.Equal("count", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => ids.LeaseAsync(Guid.NewGuid(), 0, callerIds: false))).ParamName);
    }

    private static void AssertDisjoint(IEnumerable<IdLease> leases)
    {
        var ordered = leases.OrderBy(l => l.FirstId).ToList();
        for (var i = 1; i < ordered.Count; i++)
        {
            Assert.True(ordered[i - 1].FirstId + ordered[i - 1].Count <= ordered[i].FirstId, $"{ordered[i - 1]} overlaps {ordered[i]}");
        }
    }

    /// <summary>The grain state's part that the allocator writes, kept in memory: what each new allocator starts from.</summary>
    private sealed class StoredMarks(bool yieldOnWrite = false)
    {
        private readonly Lock _sync = new();
        private readonly List<IdWatermark> _written = [];
        private int _writing;

        /// <summary>Fails the next write with an <see cref="IOException"/>, as a storage outage would.</summary>
        public bool FailNextWrite { get; set; }

        public IReadOnlyList<IdWatermark> Written
        {
            get
            {
                lock (_sync)
                {
                    return [.. _written];
                }
            }
        }

        public IdWatermark Last
        {
            get
            {
                lock (_sync)
                {
                    return _written.Count == 0 ? IdWatermark.Empty : _written[^1];
                }
            }
        }

        public IdAllocator NewAllocator(string index = "ids", int rememberedLeases = 1000, long blockSize = IdAllocator.IdBlock) =>
            new(index, Last, PersistAsync, rememberedLeases, blockSize);

        private async Task PersistAsync(IdWatermark mark)
        {
            Assert.Equal(1, Interlocked.Increment(ref _writing)); // never two writes at once
            try
            {
                if (yieldOnWrite)
                {
                    await Task.Yield();
                }

                if (FailNextWrite)
                {
                    FailNextWrite = false;
                    throw new IOException("the store is down");
                }

                lock (_sync)
                {
                    _written.Add(mark);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _writing);
            }
        }
    }
}
