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
        ArgumentNullException.ThrowIfNull(client);
        using var file = FaissIndex.Load(path);
        var d = file.Dimension;
        if (await client.TryGetSpecAsync(name) is null)
        {
            await client.CreateIndexAsync(name, spec ?? new IndexSpec
            {
                Dimension = d,
                Metric = file.Metric == FaissMetric.InnerProduct ? VectorMetric.InnerProduct : VectorMetric.L2,
            });
        }

        // a few batches at a time: the file's index is in memory already, its vectors need not be twice
        var rowsPerRead = Math.Max(1, batchRows) * VectorIndexClient.DefaultMaxInFlight;
        for (long offset = 0; offset < file.Count; offset += rowsPerRead)
        {
            var rows = (int)Math.Min(rowsPerRead, file.Count - offset);
            var ids = new long[rows];
            var vectors = new float[rows * d];
            file.ReadRows(offset, ids, vectors);
            await client.AddAsync(name, vectors, d, file.HasIdMap ? ids : null, batchRows, cancellationToken: cancellationToken);
            progress?.Report(offset + rows);
        }

        return file.Count;
    }
}
