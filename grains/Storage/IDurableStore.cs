namespace OrleansVectors.Grains.Storage;

/// <summary>
/// Where an index's durable bytes live: write-ahead log segments, shard snapshots and manifests, addressed by
/// '/'-separated paths. Two implementations, chosen by configuration: files under the silo's data directory
/// (<see cref="FileDurableStore"/>, the embedded default) and Azure Blob storage (<see cref="BlobDurableStore"/>).
/// Thread-safe.
/// </summary>
public interface IDurableStore
{
    /// <summary>Where the bytes go, for logs and errors ("files under /data/indexes", "blob container x").</summary>
    string Description { get; }

    /// <summary>Reads a whole object, or null when it does not exist.</summary>
    Task<StoredObject?> ReadAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens an object for one sequential read, or null when it does not exist. Files are read as they are
    /// consumed (a large object never sits in memory whole); blobs are downloaded in parallel first.
    /// </summary>
    Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Reads up to <paramref name="length"/> bytes of an object from <paramref name="offset"/> (fewer at its end).</summary>
    /// <exception cref="FileNotFoundException">The object does not exist.</exception>
    Task<byte[]> ReadRangeAsync(string path, long offset, int length, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a whole object, the concatenation of <paramref name="parts"/>, durably and returns its new ETag. With
    /// <see cref="StoreCondition.IfMatch"/> the write happens only while the object's ETag is that one; with
    /// <see cref="StoreCondition.IfNotExists"/> only when it is absent. The parts are read while the task runs and
    /// not after (they may lie in memory lent for the write, such as a <see cref="Inference.Faiss.FaissSerializedView"/>).
    /// </summary>
    /// <exception cref="StoreConflictException">The condition did not hold: someone else wrote first.</exception>
    Task<string> WriteAsync(string path, IReadOnlyList<ReadOnlyMemory<byte>> parts, StoreCondition condition = default, CancellationToken cancellationToken = default);

    /// <summary>Creates a new append-only object (a log segment); it must not exist yet.</summary>
    /// <exception cref="StoreConflictException">The object exists.</exception>
    Task<ILogAppender> CreateAppendOnlyAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>The paths of the objects under a folder-like prefix (ending in '/'), in ordinal order.</summary>
    Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object; a missing one is not an error.</summary>
    Task DeleteAsync(string path, CancellationToken cancellationToken = default);
}

/// <summary>Writes of a single buffer.</summary>
public static class DurableStoreExtensions
{
    /// <summary>Writes a whole object from one buffer; see <see cref="IDurableStore.WriteAsync"/>.</summary>
    /// <exception cref="StoreConflictException">The condition did not hold: someone else wrote first.</exception>
    public static Task<string> WriteAsync(this IDurableStore store, string path, ReadOnlyMemory<byte> content, StoreCondition condition = default, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store.WriteAsync(path, [content], condition, cancellationToken);
    }
}

/// <summary>An append-only object being written: each append is durable when its task completes.</summary>
public interface ILogAppender : IAsyncDisposable
{
    /// <summary>Appends the parts in order and returns once all are durable (one fsync on files, committed appends on blobs).</summary>
    Task AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> parts, CancellationToken cancellationToken = default);
}

/// <summary>The content of an object and its ETag.</summary>
public sealed record StoredObject(ReadOnlyMemory<byte> Content, string ETag);

/// <summary>A precondition on a write: none, the object's current ETag, or that the object does not exist.</summary>
public readonly record struct StoreCondition(string? IfMatch, bool MustNotExist)
{
    /// <summary>Write only when the object does not exist.</summary>
    public static StoreCondition IfNotExists { get; } = new(null, true);

    /// <summary>Write only when the object's ETag is <paramref name="etag"/> (null: when it does not exist).</summary>
    public static StoreCondition IfETag(string? etag) => etag is null ? IfNotExists : new(etag, false);
}

/// <summary>A conditional write lost: the object changed (or appeared) since it was read.</summary>
public sealed class StoreConflictException(string path, string message) : IOException(message)
{
    /// <summary>The object.</summary>
    public string Path { get; } = path;
}
