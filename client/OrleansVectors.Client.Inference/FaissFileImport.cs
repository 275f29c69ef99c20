using OrleansVectors.GrainInterfaces;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Client;

/// <summary>faiss files into a cluster index: reading one needs the native faiss library, which the client itself does not carry.</summary>
public static class FaissFileImport
{
    /// <summary>
    /// Adds the vectors of a faiss file (written by <see cref="VectorIndexClient.ExportAsync"/>, <c>FaissIndex.Save</c> or
    /// python's <c>faiss.write_index</c>) to an index, with the file's ids when it has an id map, else numbered by the
    /// index. A missing index is created with <paramref name="spec"/>, or by default a Flat index of the file's
    /// dimension and metric. Vectors are read back from the file's index: exact for Flat and HNSW, approximate for PQ
    /// and SQ; IVF files cannot be read back by position.
    /// </summary>
    /// <returns>The number of vectors added.</returns>
    public static async Task<long> ImportAsync(
        this VectorIndexClient client,
        string name,
        string path,
        IndexSpec? spec = null,
        int batchRows = VectorIndexClient.DefaultBatchRows,
        IProgress<long>? progress = null,
        CancellationToken cancellationToken = default)
    {
        using var file = FaissIndex.Load(path);
        return await client.ImportAsync(name, file, spec, batchRows, progress, cancellationToken);
    }

    /// <summary>Adds the vectors of an open faiss index to an index, as <see cref="ImportAsync(VectorIndexClient, string, string, IndexSpec?, int, IProgress{long}?, CancellationToken)"/> does with a file.</summary>
    /// <returns>The number of vectors added.</returns>
    public static async Task<long> ImportAsync(
        this VectorIndexClient client,
        string name,
        FaissIndex file,
        IndexSpec? spec = null,
        int batchRows = VectorIndexClient.DefaultBatchRows,
        IProgress<long>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(file);
        var d = file.Dimension;
        if (await client.TryGetSpecAsync(name) is null)
        {
            await client.CreateIndexAsync(name, spec ?? SpecOf(file));
        }

        // a few batches at a time, into buffers reused for each read: the file's index is in memory already, its
        // vectors need not be twice (AddAsync copies what it sends)
        var rowsPerRead = (int)Math.Min(Math.Max(1, batchRows) * (long)VectorIndexClient.DefaultMaxInFlight, Math.Max(1, file.Count));
        var ids = new long[rowsPerRead];
        var vectors = new float[rowsPerRead * d];
        for (long offset = 0; offset < file.Count; offset += rowsPerRead)
        {
            var rows = (int)Math.Min(rowsPerRead, file.Count - offset);
            file.ReadRows(offset, ids.AsSpan(0, rows), vectors.AsSpan(0, rows * d));
            await client.AddAsync(name, vectors.AsMemory(0, rows * d), d, file.HasIdMap ? new ArraySegment<long>(ids, 0, rows) : (IReadOnlyList<long>?)null, batchRows, cancellationToken: cancellationToken);
            progress?.Report(offset + rows);
        }

        return file.Count;
    }

    /// <summary>The spec an import creates a missing index with by default: Flat, of the file's dimension and metric.</summary>
    public static IndexSpec SpecOf(FaissIndex file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return new IndexSpec
        {
            Dimension = file.Dimension,
            Metric = file.Metric == FaissMetric.InnerProduct ? VectorMetric.InnerProduct : VectorMetric.L2,
        };
    }
}
