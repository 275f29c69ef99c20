using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OrleansVectors.Grains.Hosting;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains.Threading;

/// <summary>
/// A fixed set of long-lived threads for faiss calls. faiss parallelises with OpenMP, and OpenMP keeps a thread
/// team per calling thread: calling from ever-changing thread-pool threads builds and wakes new teams and was
/// measured ~50% slower for single queries than calling from one thread. Work queued here runs on the same few
/// threads, off the grain scheduler.
/// </summary>
public sealed class FaissWorkers : TaskScheduler, IDisposable
{
    private readonly BlockingCollection<Task> _queue = [];
    private readonly Thread[] _threads;

    /// <summary>
    /// Starts one worker thread per core and sets the OpenMP threads of each faiss call to
    /// <see cref="OrleansVectorsOptions.FaissThreads"/> (a process-wide setting of the faiss library).
    /// </summary>
    public FaissWorkers(IOptions<OrleansVectorsOptions> options)
        : this()
    {
        ArgumentNullException.ThrowIfNull(options);
        FaissLibrary.ThreadCount = options.Value.FaissThreads;
    }

    /// <summary>Starts <paramref name="threadCount"/> worker threads (default: the core count).</summary>
    internal FaissWorkers(int threadCount = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threadCount);
        _threads = new Thread[threadCount == 0 ? Environment.ProcessorCount : threadCount];
        for (var i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"faiss-{i}" };
            _threads[i].Start();
        }
    }

    /// <inheritdoc/>
    public override int MaximumConcurrencyLevel => _threads.Length;

    /// <summary>Runs <paramref name="work"/> on a worker thread; if <paramref name="cancellationToken"/> is cancelled before it starts, it never runs.</summary>
    public Task<T> Run<T>(Func<T> work, CancellationToken cancellationToken = default) =>
        Task.Factory.StartNew(work, cancellationToken, TaskCreationOptions.DenyChildAttach, this);

    /// <inheritdoc/>
    public void Dispose() => _queue.CompleteAdding();

    /// <inheritdoc/>
    protected override void QueueTask(Task task) => _queue.Add(task);

    /// <inheritdoc/>
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    /// <inheritdoc/>
    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    private void Work()
    {
        foreach (var task in _queue.GetConsumingEnumerable())
        {
            TryExecuteTask(task);
        }
    }
}
