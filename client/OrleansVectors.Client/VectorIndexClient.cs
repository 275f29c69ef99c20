using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Client;

/// <summary>
/// Index management, ingestion and search against an OrleansVectors cluster. Large inputs are cut into batches
/// that fit a message; adds are acknowledged batch by batch (a failed batch leaves the ones before it added).
/// Thread-safe.
/// </summary>
public sealed class VectorIndexClient(IGrainFactory grains)
{
    /// <summary>The default number of rows per add or search message.</summary>
    public const int DefaultBatchRows = 8192;

    /// <summary>Creates an index (a no-op when it exists with the same spec).</summary>
    public Task<IndexDescription> CreateIndexAsync(string name, IndexSpec spec) => Index(name).CreateAsync(spec);

    /// <summary>Deletes an index and its vectors.</summary>
    public Task DropIndexAsync(string name) => Index(name).DropAsync();

    /// <summary>The spec, count and shards of an index.</summary>
    public Task<IndexDescription> DescribeIndexAsync(string name) => Index(name).DescribeAsync();

    /// <summary>The number of vectors in an index.</summary>
    public Task<long> CountAsync(string name) => Index(name).CountAsync();

    /// <summary>Adds row-major vectors (raw inputs when the index has a model), in batches of <paramref name="batchRows"/>.</summary>
    /// <param name="name">The index.</param>
    /// <param name="values">Row-major values, a whole number of <paramref name="dimension"/>-wide rows.</param>
    /// <param name="dimension">Values per row.</param>
    /// <param name="ids">One id per row, or null to let the index number them.</param>
    /// <param name="batchRows">Rows per message.</param>
    /// <param name="progress">Receives the number of rows acknowledged so far.</param>
    /// <param name="cancellationToken">Stops before the next batch.</param>
    /// <returns>The receipt of each batch.</returns>
    public async Task<IReadOnlyList<AddReceipt>> AddAsync(
        string name, ReadOnlyMemory<float> values, int dimension, IReadOnlyList<long>? ids = null,
        int batchRows = DefaultBatchRows, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        var rows = RowCount(values, dimension);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchRows, 1);
        if (ids is not null && ids.Count != rows)
        {
            throw new ArgumentException($"{ids.Count} ids were given for {rows} vectors; there must be exactly one id per vector.", nameof(ids));
        }

        batchRows = Math.Min(batchRows, VectorBatch.MaxBytes / (sizeof(float) * dimension)); // one message each
        var index = Index(name);
        var receipts = new List<AddReceipt>();
        for (var start = 0; start < rows; start += batchRows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(batchRows, rows - start);
            var batch = VectorBatch.FromRows(values.Span.Slice(start * dimension, count * dimension), dimension);
            receipts.Add(await index.AddAsync(batch, ids is null ? null : [.. ids.Skip(start).Take(count)]));
            progress?.Report(start + count);
        }

        return receipts;
    }

    /// <summary>The <paramref name="k"/> nearest vectors of each query row, merged over all shards.</summary>
    public async Task<NeighborResults> SearchAsync(string name, ReadOnlyMemory<float> queries, int dimension, int k, QueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        var rows = RowCount(queries, dimension);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var query = grains.GetGrain<IQueryGrain>(0);

        // rows per message: the queries and each reply (12 bytes a neighbour) stay well inside a message
        var perMessage = Math.Max(1, Math.Min(VectorBatch.MaxBytes / (sizeof(float) * dimension), (32 << 20) / (12 * k)));
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
    public Task<RangeResults> MatchAsync(string name, ReadOnlyMemory<float> queries, int dimension, float? threshold = null, QueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        RowCount(queries, dimension);
        return grains.GetGrain<IQueryGrain>(0).MatchAsync(name, VectorBatch.FromRows(queries.Span, dimension), threshold, options, cancellationToken);
    }

    /// <summary>The embeddings the index's model gives raw inputs (the inputs themselves when it has no model).</summary>
    public async Task<VectorBatch> EmbedAsync(string name, ReadOnlyMemory<float> inputs, int dimension)
    {
        RowCount(inputs, dimension);
        return await grains.GetGrain<IQueryGrain>(0).EmbedAsync(name, VectorBatch.FromRows(inputs.Span, dimension));
    }

    private IIndexGrain Index(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return grains.GetGrain<IIndexGrain>(name);
    }

    private static int RowCount(ReadOnlyMemory<float> values, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (values.IsEmpty || values.Length % dimension != 0)
        {
            throw new ArgumentException($"Expected a whole, non-zero number of {dimension}-dimensional rows; got {values.Length} values.", nameof(values));
        }

        return values.Length / dimension;
    }
}
