using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace OrleansVectors.Grains.Diagnostics;

/// <summary>
/// The service's own meter, <see cref="MeterName"/>, one per silo: search latency, vectors added, the sizes of the
/// shards this silo holds, snapshot duration and bytes, k-means iterations, and how many shards are still restoring. Instruments carry
/// the index name (and the shard number for shard sizes), never vector data.
/// </summary>
public sealed class OrleansVectorsMetrics : IDisposable
{
    /// <summary>The name of the service's meter (export it with <c>AddMeter(OrleansVectorsMetrics.MeterName)</c>).</summary>
    public const string MeterName = "OrleansVectors";

    private readonly Meter _meter;
    private readonly Histogram<double> _searchDuration;
    private readonly Counter<long> _vectorsAdded;
    private readonly Histogram<double> _snapshotDuration;
    private readonly Counter<long> _snapshotBytes;
    private readonly Counter<long> _kmeansIterations;
    private readonly ConcurrentDictionary<(string Index, int Shard), LocalShard> _shards = new();

    /// <summary>Creates the meter through the host's meter factory.</summary>
    public OrleansVectorsMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _meter = meters.Create(MeterName);
        _searchDuration = _meter.CreateHistogram<double>(
            "orleansvectors.search.duration", "ms", "Time a k-NN or threshold query takes on its query grain: embedding, fan-out to the shards and merge.");
        _vectorsAdded = _meter.CreateCounter<long>("orleansvectors.vectors.added", "{vector}", "Vectors added to shards on this silo (durable in the shard's log).");
        _snapshotDuration = _meter.CreateHistogram<double>("orleansvectors.snapshot.duration", "ms", "Time a shard takes to write its snapshot.");
        _snapshotBytes = _meter.CreateCounter<long>("orleansvectors.snapshot.bytes", "By", "Bytes of shard snapshots written by this silo.");
        _kmeansIterations = _meter.CreateCounter<long>("orleansvectors.kmeans.iterations", "{iteration}", "k-means iterations coordinated by this silo (each a map over the index's shards and a reduce).");
        _meter.CreateObservableGauge("orleansvectors.shard.vectors", ObserveShardSizes, "{vector}", "Vectors held by each shard on this silo.");
        _meter.CreateObservableGauge("orleansvectors.shards.restoring", () => (long)RestoringShards, "{shard}", "Shards on this silo still restoring their snapshot and log.");
    }

    /// <summary>Shards on this silo that are restoring their snapshot and log now.</summary>
    public int RestoringShards => _shards.Values.Count(s => s.Restoring);

    /// <summary>Records a finished query.</summary>
    public void SearchCompleted(string index, string kind, TimeSpan elapsed) =>
        _searchDuration.Record(elapsed.TotalMilliseconds, new("index", index), new("kind", kind));

    /// <summary>Records vectors made durable on a shard.</summary>
    public void VectorsAdded(string index, int count) => _vectorsAdded.Add(count, new KeyValuePair<string, object?>("index", index));

    /// <summary>Records a shard snapshot written.</summary>
    public void SnapshotWritten(string index, TimeSpan elapsed, long bytes)
    {
        var tag = new KeyValuePair<string, object?>("index", index);
        _snapshotDuration.Record(elapsed.TotalMilliseconds, tag);
        _snapshotBytes.Add(bytes, tag);
    }

    /// <summary>Records one k-means iteration over an index.</summary>
    public void KMeansIteration(string index) => _kmeansIterations.Add(1, new KeyValuePair<string, object?>("index", index));

    /// <summary>
    /// A shard activated on this silo and starts restoring; <paramref name="count"/> reads its size. Dispose the
    /// result when the shard deactivates.
    /// </summary>
    public LocalShard ShardActivated(string index, int shard, Func<long> count)
    {
        var local = new LocalShard(this, (index, shard), count);
        _shards[(index, shard)] = local;
        return local;
    }

    /// <inheritdoc/>
    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> ObserveShardSizes()
    {
        foreach (var shard in _shards.Values)
        {
            if (!shard.Restoring && shard.TryCount() is { } count)
            {
                yield return new Measurement<long>(count, new("index", shard.Key.Index), new("shard", shard.Key.Shard));
            }
        }
    }

    /// <summary>A shard held by this silo, as the meters and readiness see it.</summary>
    public sealed class LocalShard(OrleansVectorsMetrics owner, (string Index, int Shard) key, Func<long> count) : IDisposable
    {
        private volatile bool _restoring = true;

        internal (string Index, int Shard) Key { get; } = key;

        internal bool Restoring => _restoring;

        /// <summary>The shard's size; null when its index was just replaced (a restore) or released.</summary>
        internal long? TryCount()
        {
            try
            {
                return count();
            }
            catch (ObjectDisposedException)
            {
                return null;
            }
        }

        /// <summary>The shard finished restoring (or failed to: it deactivates then).</summary>
        public void Restored() => _restoring = false;

        /// <inheritdoc/>
        public void Dispose() => ((ICollection<KeyValuePair<(string, int), LocalShard>>)owner._shards).Remove(new(Key, this));
    }
}
