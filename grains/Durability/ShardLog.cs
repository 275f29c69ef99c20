using OrleansVectors.Grains.Storage;

namespace OrleansVectors.Grains.Durability;

/// <summary>
/// A shard's write-ahead log: numbered segments, appended to one at a time. Appends that arrive while a write is
/// in flight are written together by the next one (group commit), so concurrent batches share an fsync or a
/// blob append. An append that fails fails every record of its group and moves the log on to a fresh segment,
/// so a torn record can only ever be a segment's last. Thread-safe.
/// </summary>
internal sealed class ShardLog(IDurableStore store, string directory, long segment) : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private List<(byte[] Frame, TaskCompletionSource Done)> _pending = [];
    private Task _writer = Task.CompletedTask;
    private bool _writing;
    private ILogAppender? _appender;
    private long _segment = segment;
    private bool _segmentUsed;

    /// <summary>Appends a record frame; completes once it is durable.</summary>
    public Task AppendAsync(byte[] frame)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _pending.Add((frame, done));
            if (!_writing)
            {
                // the flag, not the task's state: a writer that found nothing pending clears it under this lock
                _writing = true;
                _writer = Task.Run(WriteGroupsAsync);
            }
        }

        return done.Task;
    }

    /// <summary>
    /// Waits for every append made so far, then starts a new segment; returns its number. Every record appended
    /// before the call is in a segment below it.
    /// </summary>
    public async Task<long> RollAsync()
    {
        Task writer;
        lock (_lock)
        {
            writer = _writer;
        }

        await writer.ConfigureAwait(false);
        ILogAppender? closing;
        long next;
        lock (_lock)
        {
            closing = _appender;
            _appender = null;
            if (_segmentUsed)
            {
                _segment++;
                _segmentUsed = false;
            }

            next = _segment;
        }

        if (closing is not null)
        {
            await closing.DisposeAsync().ConfigureAwait(false);
        }

        return next;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        Task writer;
        lock (_lock)
        {
            writer = _writer;
        }

        await writer.ConfigureAwait(false);
        if (_appender is not null)
        {
            await _appender.DisposeAsync().ConfigureAwait(false);
            _appender = null;
        }
    }

    private async Task WriteGroupsAsync()
    {
        while (true)
        {
            List<(byte[] Frame, TaskCompletionSource Done)> group;
            lock (_lock)
            {
                if (_pending.Count == 0)
                {
                    _writing = false;
                    return;
                }

                group = _pending;
                _pending = [];
            }

            try
            {
                var appender = _appender ??= await store.CreateAppendOnlyAsync(StorageLayout.LogSegment(directory, _segment)).ConfigureAwait(false);
                lock (_lock)
                {
                    _segmentUsed = true;
                }

                await appender.AppendAsync([.. group.Select(g => (ReadOnlyMemory<byte>)g.Frame)]).ConfigureAwait(false);
                foreach (var (_, done) in group)
                {
                    done.SetResult();
                }
            }
            catch (Exception e)
            {
                await MoveToNextSegmentAsync().ConfigureAwait(false);
                foreach (var (_, done) in group)
                {
                    done.SetException(e);
                }
            }
        }
    }

    private async Task MoveToNextSegmentAsync()
    {
        var broken = _appender;
        lock (_lock)
        {
            _appender = null;
            _segment++;
            _segmentUsed = false;
        }

        if (broken is not null)
        {
            try
            {
                await broken.DisposeAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // the segment is abandoned either way
            }
        }
    }
}
