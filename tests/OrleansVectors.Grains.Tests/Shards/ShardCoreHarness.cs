using Microsoft.Extensions.Logging.Abstractions;
using OrleansVectors.Grains.Models;
using OrleansVectors.Grains.Shards;
using OrleansVectors.Grains.Threading;

namespace OrleansVectors.Grains.Tests.Shards;

/// <summary>
/// Shard cores over a <see cref="FileDurableStore"/> in a temporary folder, as a silo runs them but with no cluster:
/// each <see cref="OpenAsync"/> is a fresh core (a restarted activation) over the same store.
/// </summary>
internal sealed class ShardCoreHarness : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"shardcore-{Guid.NewGuid():N}");
    private readonly FaissWorkers _workers = new(threadCount: 2);
    private readonly List<ShardCore> _cores = [];
    private readonly ShardCoreOptions _options;

    /// <param name="faissFactory">The shard's faiss index: one that keeps global ids (an id map, or IVF).</param>
    /// <param name="dimension">The vector dimension.</param>
    /// <param name="wrapStore">Wraps the file store (to hold writes), or null.</param>
    /// <param name="options">The cores' options (default: the silo's).</param>
    public ShardCoreHarness(string faissFactory = "IDMap,Flat", int dimension = 8, Func<IDurableStore, IDurableStore>? wrapStore = null, ShardCoreOptions? options = null)
    {
        _options = options ?? new ShardCoreOptions();
        Files = new FileDurableStore(_root);
        Store = wrapStore?.Invoke(Files) ?? Files;
        var spec = new IndexSpec { Dimension = dimension };
        Location = new ShardLocation("core-test", Guid.NewGuid(), 0, spec, faissFactory, FaissMetric.L2);
    }

    /// <summary>The store under the cores (the file store, or what wraps it).</summary>
    public IDurableStore Store { get; }

    /// <summary>The file store itself, for rewriting objects behind a core's back.</summary>
    public FileDurableStore Files { get; }

    public ShardLocation Location { get; }

    public Guid Generation => Location.Generation;

    public int Dimension => Location.Spec.Dimension;

    /// <summary>A new core that loads the shard from <paramref name="snapshot"/> (null: from nothing) and the log after it.</summary>
    public async Task<ShardCore> OpenAsync(ShardSnapshotInfo? snapshot = null)
    {
        var core = NewCore();
        await core.LoadAsync(Location, snapshot);
        return core;
    }

    /// <summary>A new core that loads the shard from its newest committed snapshot (the index's manifest) and the log after it.</summary>
    public async Task<ShardCore> OpenNewestAsync()
    {
        var core = NewCore();
        await core.LoadAsync(Location);
        return core;
    }

    /// <summary>The shard's log segments, oldest first.</summary>
    public Task<IReadOnlyList<string>> LogSegmentsAsync() => Store.ListAsync(Location.LogFolder);

    /// <summary>Adds rows start … start+count−1 of <paramref name="values"/> under ids firstId … (default: start …).</summary>
    public Task<ShardAddResult> AddAsync(ShardCore core, float[] values, int start, int count, Guid? batchId = null, long? firstId = null, bool callerIds = false) =>
        core.AddAsync(Generation, batchId ?? Guid.NewGuid(), Rows(values, start, count), Ids(firstId ?? start, count), callerIds);

    /// <summary>Writes a snapshot of <paramref name="core"/> where the index would put version 1's.</summary>
    public async Task<ShardSnapshotInfo> SnapshotAsync(ShardCore core) =>
        (await core.SnapshotAsync(Generation, StorageLayout.Snapshot(Location.GenerationPrefix, 1, Location.Shard, Guid.NewGuid()))).Info;

    /// <summary>Deletes the log segments <paramref name="snapshot"/> covers, so that only the snapshot can stand for them.</summary>
    public async Task DeleteLogCoveredByAsync(ShardSnapshotInfo snapshot)
    {
        foreach (var segment in (await LogSegmentsAsync()).Where(p => StorageLayout.SegmentOf(p) < snapshot.LogFromSegment))
        {
            await Store.DeleteAsync(segment);
        }
    }

    /// <summary>Rows <paramref name="start"/> … start+count−1 of <paramref name="values"/> as a batch.</summary>
    public VectorBatch Rows(float[] values, int start, int count) => TestVectors.Batch(values, Dimension, start, count);

    /// <summary>Seeded vectors.</summary>
    public float[] Vectors(int count, int seed) => TestData.Uniform(count, Dimension, seed);

    /// <summary>Ids start … start+count−1.</summary>
    public static long[] Ids(long start, int count) => [.. Enumerable.Range(0, count).Select(i => start + i)];

    /// <summary>The nearest stored id of each row (k = 1).</summary>
    public async Task<long[]> NearestAsync(ShardCore core, VectorBatch queries) =>
        (await core.SearchAsync(Generation, queries, 1, new QueryOptions())).Labels.ToArray();

    private ShardCore NewCore()
    {
        var core = new ShardCore($"{Location.Index}/{Location.Shard}", Store, _workers, new PassThroughModels(), _options, NullLogger.Instance);
        _cores.Add(core);
        return core;
    }

    /// <summary>Asserts that <paramref name="core"/> holds rows start … start+count−1 of <paramref name="values"/>, each under its row number, and nothing else.</summary>
    public async Task AssertHoldsExactlyAsync(ShardCore core, float[] values, int start, int count)
    {
        Assert.Equal(count, core.Count);
        Assert.Equal(Ids(start, count), await NearestAsync(core, Rows(values, start, count)));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var core in _cores)
        {
            await core.DisposeAsync();
        }

        _workers.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>The silo's model host for an index without a model: the inputs are the embeddings.</summary>
    private sealed class PassThroughModels : IModelHost
    {
        public Task<VectorBatch> EmbedAsync(IndexSpec spec, VectorBatch inputs, CancellationToken cancellationToken = default) =>
            spec.Model is null ? Task.FromResult(inputs) : throw new NotSupportedException("These tests run indexes without a model.");
    }
}

/// <summary>A store whose snapshot writes wait until the test lets them go, so a test can act while a snapshot is being written.</summary>
internal sealed class HeldSnapshotStore(IDurableStore inner) : IDurableStore
{
    private readonly TaskCompletionSource _writing = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a snapshot write has begun (the core holds its serialized view open).</summary>
    public Task Writing => _writing.Task;

    /// <summary>Lets the snapshot write go on.</summary>
    public void Release() => _release.TrySetResult();

    public string Description => inner.Description;

    public async Task<string> WriteAsync(string path, IReadOnlyList<ReadOnlyMemory<byte>> parts, StoreCondition condition = default, CancellationToken cancellationToken = default)
    {
        if (path.EndsWith(".snap", StringComparison.Ordinal))
        {
            _writing.TrySetResult();
            await _release.Task.WaitAsync(cancellationToken);
        }

        return await inner.WriteAsync(path, parts, condition, cancellationToken);
    }

    public Task<StoredObject?> ReadAsync(string path, CancellationToken cancellationToken = default) => inner.ReadAsync(path, cancellationToken);

    public Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken = default) => inner.OpenReadAsync(path, cancellationToken);

    public Task<byte[]> ReadRangeAsync(string path, long offset, int length, CancellationToken cancellationToken = default) =>
        inner.ReadRangeAsync(path, offset, length, cancellationToken);

    public Task<ILogAppender> CreateAppendOnlyAsync(string path, CancellationToken cancellationToken = default) => inner.CreateAppendOnlyAsync(path, cancellationToken);

    public Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    public Task DeleteAsync(string path, CancellationToken cancellationToken = default) => inner.DeleteAsync(path, cancellationToken);
}
