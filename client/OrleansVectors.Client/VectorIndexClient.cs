using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Client;

/// <summary>
/// Index management, ingestion and search against an OrleansVectors cluster. Large inputs are cut into batches
/// that fit a message; adds are acknowledged batch by batch, several in flight (a failed add leaves the acknowledged batches added;
/// <see cref="AddIncompleteException.StoredRows"/> lists them).
/// Thread-safe.
/// </summary>
public sealed partial class VectorIndexClient(IGrainFactory grains)
{
    /// <summary>The default number of rows per add or search message.</summary>
    public const int DefaultBatchRows = 8192;

    /// <summary>Creates an index (a no-op when it exists with the same spec).</summary>
    public Task<IndexDescription> CreateIndexAsync(string name, IndexSpec spec) => Index(name).CreateAsync(spec);

    /// <summary>Deletes an index and its vectors.</summary>
    public Task<bool> DropIndexAsync(string name) => Index(name).DropAsync();

    /// <summary>The spec an index was created with, or null when it does not exist.</summary>
    public async Task<IndexSpec?> TryGetSpecAsync(string name)
    {
        try
        {
            return await Index(name).GetSpecAsync();
        }
        catch (IndexNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The spec, count and shards of an index.</summary>
    public Task<IndexDescription> DescribeIndexAsync(string name) => Index(name).DescribeAsync();

    /// <summary>The number of vectors in an index.</summary>
    public Task<long> CountAsync(string name) => Index(name).CountAsync();

    /// <summary>Batches of one <see cref="AddAsync"/> call in flight at once by default.</summary>
    public const int DefaultMaxInFlight = 4;

    /// <summary>Times a batch is sent before its failure is reported (a timed-out batch is sent again with the same batch id).</summary>
    public const int Attempts = 3;

    /// <summary>
    /// Adds row-major vectors (raw inputs when the index has a model), in batches of <paramref name="batchRows"/>,
    /// up to <paramref name="maxInFlight"/> at once. Each batch is acknowledged once it is in its shard's
    /// write-ahead log. A batch that times out or meets a restoring shard is sent again under the same batch id,
    /// so it is stored once.
    /// <para>The whole input is checked before anything is sent: its shape, finite values, the index's width, and
    /// duplicate or negative ids; such a call adds nothing. A failure after that (an id the index already holds, a
    /// shard down past the retries) stops the add: no further batch is sent, the batches in flight finish, and
    /// <see cref="AddIncompleteException"/> says exactly which rows were stored.</para>
    /// </summary>
    /// <param name="name">The index.</param>
    /// <param name="values">Row-major values, a whole number of <paramref name="dimension"/>-wide rows.</param>
    /// <param name="dimension">Values per row.</param>
    /// <param name="ids">One id per row, or null to let the index number them.</param>
    /// <param name="batchRows">Rows per message.</param>
    /// <param name="progress">Receives the number of rows acknowledged so far.</param>
    /// <param name="maxInFlight">Batches sent before the first of them is acknowledged (at least 1).</param>
    /// <param name="cancellationToken">Stops sending further batches.</param>
    /// <returns>The receipt of each batch, in input order.</returns>
    /// <exception cref="ArgumentException">The input is malformed; nothing was added.</exception>
    /// <exception cref="AddIncompleteException">A batch failed after others were stored; it lists the stored rows.</exception>
    public async Task<IReadOnlyList<AddReceipt>> AddAsync(
        string name, ReadOnlyMemory<float> values, int dimension, IReadOnlyList<long>? ids = null,
        int batchRows = DefaultBatchRows, IProgress<long>? progress = null, int maxInFlight = DefaultMaxInFlight,
        CancellationToken cancellationToken = default)
    {
        ResourceNames.RequireIndexName(name, nameof(name));
        var rows = VectorValidation.RowCount(values.Span, dimension, nameof(values));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchRows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        // each batch takes its own slice, so a caller's array is read, never kept or changed
        var callerIds = ids as long[] ?? ids?.ToArray();
        if (callerIds is not null)
        {
            VectorValidation.RequireCallerIds(callerIds, rows, nameof(ids));
        }

        var spec = await Index(name).GetSpecAsync();
        var width = spec.InputDimension ?? spec.Dimension;
        if (dimension != width)
        {
            throw new ArgumentException($"The rows have {dimension} values each; index '{name}' takes {width}. Nothing was added.", nameof(dimension));
        }

        batchRows = Math.Min(batchRows, VectorBatch.MaxBytes / (sizeof(float) * dimension)); // one message each
        var ingest = grains.GetGrain<IIngestGrain>(0);
        var starts = Enumerable.Range(0, (rows + batchRows - 1) / batchRows).Select(b => b * batchRows).ToList();
        var receipts = new AddReceipt?[starts.Count];

        // the index's ids for the whole input at once, so they follow input order whatever order the batches land in
        // and a retried batch carries the same ids; which shards a batch goes to is the ingest front's to decide
        var lease = callerIds is null ? await Index(name).LeaseIdsAsync(Guid.NewGuid(), rows, callerIds: false) : null;
        var inFlight = new Queue<Task>();
        var acknowledged = 0L;
        var progressLock = new Lock();
        Exception? failure = null;
        for (var b = 0; b < starts.Count; b++)
        {
            if (inFlight.Count == maxInFlight)
            {
                await inFlight.Dequeue();
            }

            if (Volatile.Read(ref failure) is not null || cancellationToken.IsCancellationRequested)
            {
                break;
            }

            var (slot, start) = (b, starts[b]);
            var count = Math.Min(batchRows, rows - start);
            var batch = VectorBatch.FromRows(values.Span.Slice(start * dimension, count * dimension), dimension);
            var request = new AddRequest(Guid.NewGuid(), batch)
            {
                Ids = callerIds?[start..(start + count)],
                FirstId = lease is null ? null : lease.FirstId + start,
            };
            inFlight.Enqueue(Task.Run(async () =>
            {
                try
                {
                    receipts[slot] = await AddBatchAsync(ingest, name, request, cancellationToken);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                    return;
                }

                lock (progressLock)
                {
                    // batches finish in any order; the count reported only grows
                    acknowledged += count;
                    progress?.Report(acknowledged);
                }
            }, CancellationToken.None));
        }

        await Task.WhenAll(inFlight);
        if (failure is null && receipts.All(r => r is not null))
        {
            return [.. receipts.Select(r => r!)];
        }

        // the stored batches as row ranges, neighbours joined
        var stored = new List<Range>();
        foreach (var b in Enumerable.Range(0, starts.Count).Where(b => receipts[b] is not null))
        {
            var end = Math.Min(starts[b] + batchRows, rows);
            if (stored.Count > 0 && stored[^1].End.Value == starts[b])
            {
                stored[^1] = new Range(stored[^1].Start, end);
            }
            else
            {
                stored.Add(new Range(starts[b], end));
            }
        }

        throw new AddIncompleteException(name, rows, stored, [.. receipts.OfType<AddReceipt>()], failure ?? new OperationCanceledException(cancellationToken));
    }

    /// <summary>Snapshots an index now (snapshots also run on their own, by count and by time).</summary>
    public Task<SnapshotInfo> SnapshotAsync(string name) => Index(name).SnapshotAsync();

    /// <summary>The retained snapshot versions of an index, then its saved ones.</summary>
    public Task<IReadOnlyList<SnapshotInfo>> ListSnapshotsAsync(string name) => Index(name).ListSnapshotsAsync();

    /// <summary>Puts an index back to a retained snapshot version.</summary>
    public Task<SnapshotInfo> RestoreAsync(string name, long version) => Index(name).RestoreAsync(version);

    /// <summary>Saves an index's vectors under a snapshot name.</summary>
    public Task<SnapshotInfo> SaveAsync(string name, string snapshotName) => Index(name).SaveAsync(snapshotName);

    /// <summary>Replaces an index's vectors with a saved snapshot (creating the index when it does not exist).</summary>
    public Task<SnapshotInfo> LoadAsync(string name, string snapshotName) => Index(name).LoadAsync(snapshotName);

    /// <summary>
    /// Writes every vector of an index, with its id, to one faiss file at <paramref name="path"/> (readable by
    /// <c>FaissIndex.Load</c> and python's <c>faiss.read_index</c>): the cluster snapshots the index, merges its
    /// shards into one index under an id map, and this downloads it in 16 MiB parts. The file appears whole or not
    /// at all. Flat, PQ and SQ indexes can be exported; IVF and HNSW shards cannot be merged.
    /// </summary>
    /// <returns>The number of vectors written.</returns>
    /// <exception cref="InvalidOperationException">The index type cannot be merged into one file.</exception>
    public async Task<long> ExportAsync(string name, string path, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var index = Index(name);
        var export = await index.ExportAsync();
        var partial = path + ".part";
        try
        {
            await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, ExportWriteBufferBytes, FileOptions.Asynchronous))
            {
                for (long offset = 0; offset < export.Bytes;)
                {
                    var chunk = await index.ReadExportAsync(export.Id, offset, (int)Math.Min(Limits.MaxExportChunkBytes, export.Bytes - offset));
                    if (chunk.Length == 0)
                    {
                        throw new IOException($"The export of '{name}' ended at byte {offset:N0} of {export.Bytes:N0}.");
                    }

                    await file.WriteAsync(chunk, cancellationToken);
                    offset += chunk.Length;
                    progress?.Report(offset);
                }
            }

            File.Move(partial, path, overwrite: true);
            return export.Count;
        }
        finally
        {
            File.Delete(partial);
            await index.DeleteExportAsync(export.Id);
        }
    }

    /// <summary>The export file's write buffer: parts arrive 16 MiB at a time and are written in large pieces.</summary>
    private const int ExportWriteBufferBytes = 1 << 20;

    private static async Task<AddReceipt> AddBatchAsync(IIngestGrain ingest, string name, AddRequest request, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ingest.AddAsync(name, request);
            }
            catch (Exception e) when (attempt < Attempts && e is TimeoutException or ShardUnavailableException && !cancellationToken.IsCancellationRequested)
            {
                // the batch may have landed: the same batch id makes the retry store it at most once
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken);
            }
        }
    }

    /// <summary>The <paramref name="k"/> nearest vectors of each query row, merged over all shards.</summary>
    public async Task<NeighborResults> SearchAsync(string name, ReadOnlyMemory<float> queries, int dimension, int k, QueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        var rows = VectorValidation.RowCount(queries.Span, dimension, nameof(queries));
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var query = grains.GetGrain<IQueryGrain>(0);

        // rows per message: the queries and each reply (12 bytes a neighbour) stay well inside a message
        var perMessage = Math.Max(1, Math.Min(VectorBatch.MaxBytes / (sizeof(float) * dimension), QueryOptions.MaxReplyBytes / (ReplyTooLargeException.BytesPerResult * k)));
        perMessage = Math.Min(perMessage, DefaultBatchRows);
        if (rows <= perMessage)
        {
            return await query.SearchAsync(name, VectorBatch.FromRows(queries.Span, dimension), k, options, cancellationToken);
        }

        var parts = new List<NeighborResults>();
        for (var start = 0; start < rows; start += perMessage)
        {
            var count = Math.Min(perMessage, rows - start);
            parts.Add(await query.SearchAsync(name, VectorBatch.FromRows(queries.Span.Slice(start * dimension, count * dimension), dimension), k, options, cancellationToken));
        }

        var distances = parts.SelectMany(p => p.Distances.ToArray()).ToArray();
        var labels = parts.SelectMany(p => p.Labels.ToArray()).ToArray();
        return NeighborResults.Create(distances, labels, rows, k, [.. parts.SelectMany(p => p.FailedShards).Distinct()]);
    }

    /// <summary>Every stored vector within <paramref name="threshold"/> of each query row (null: the index's match threshold).</summary>
    public async Task<RangeResults> MatchAsync(string name, ReadOnlyMemory<float> queries, int dimension, float? threshold = null, QueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        var rows = VectorValidation.RowCount(queries.Span, dimension, nameof(queries));
        ResourceNames.RequireIndexName(name, nameof(name));
        var query = grains.GetGrain<IQueryGrain>(0);

        // a reply's size is known only once the shards have searched: queries go in messages of at most
        // DefaultBatchRows, and a message whose matches would not fit in a reply is halved and sent again
        var parts = new List<RangeResults>();
        var perMessage = Math.Min(rows, Math.Max(1, Math.Min(DefaultBatchRows, VectorBatch.MaxBytes / (sizeof(float) * dimension))));
        for (var start = 0; start < rows;)
        {
            var count = Math.Min(perMessage, rows - start);
            try
            {
                parts.Add(await query.MatchAsync(name, VectorBatch.FromRows(queries.Span.Slice(start * dimension, count * dimension), dimension), threshold, options, cancellationToken));
                start += count;
            }
            catch (ReplyTooLargeException) when (count > 1)
            {
                perMessage = count / 2;
            }
        }

        return parts.Count == 1 ? parts[0] : RangeResults.Concat(parts);
    }

    /// <summary>The embeddings the index's model gives raw inputs (the inputs themselves when it has no model).</summary>
    public async Task<VectorBatch> EmbedAsync(string name, ReadOnlyMemory<float> inputs, int dimension)
    {
        VectorValidation.RowCount(inputs.Span, dimension, nameof(inputs));
        return await grains.GetGrain<IQueryGrain>(0).EmbedAsync(name, VectorBatch.FromRows(inputs.Span, dimension));
    }

    private IIndexGrain Index(string name) => grains.GetGrain<IIndexGrain>(ResourceNames.RequireIndexName(name, nameof(name)));
}
