using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Durability;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains;

/// <summary>Export: the index as one faiss file, merged from a fresh snapshot's shard objects.</summary>
public sealed partial class IndexGrain
{
    /// <inheritdoc/>
    public Task<ExportInfo> ExportAsync() => ExclusiveAsync(async () =>
    {
        var snapshot = await Snapshots.SnapshotAsync();
        FaissIndex? merged = null;
        try
        {
            foreach (var shard in snapshot.Shards.OrderBy(s => s.Shard))
            {
                await using var stream = await store.OpenReadAsync(shard.Blob) ?? throw new InvalidDataException($"Snapshot '{shard.Blob}' disappeared during the export.");
                var (_, _, index) = await Task.Run(() => ShardSnapshot.Read(stream, shard.Blob, shard.Checksum, FaissIndex.ReadFrom));
                if (merged is null)
                {
                    merged = index;
                    continue;
                }

                using (index)
                {
                    await MergeAsync(merged, index, snapshot.Spec.Factory);
                }
            }

            using var file = await Task.Run(merged!.OpenSerializedView);
            var id = $"{DateTime.UtcNow:yyyyMMddHHmmss}-{Guid.NewGuid():N}";
            await store.WriteAsync(ExportPath(id), file.Segments);
            return new ExportInfo(id, file.Length, merged!.Count);
        }
        finally
        {
            merged?.Dispose();
        }
    });

    /// <inheritdoc/>
    public async Task<byte[]> ReadExportAsync(string exportId, long offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Limits.MaxExportChunkBytes);
        try
        {
            return await store.ReadRangeAsync(ExportPath(exportId), offset, length);
        }
        catch (FileNotFoundException)
        {
            throw new ArgumentException($"Index '{Name}' has no export '{exportId}' (it was deleted, or the index was dropped).", nameof(exportId));
        }
    }

    /// <inheritdoc/>
    public Task DeleteExportAsync(string exportId) => store.DeleteAsync(ExportPath(exportId));

    private async Task MergeAsync(FaissIndex merged, FaissIndex shard, string factory)
    {
        try
        {
            await Task.Run(() => merged.MergeFrom(shard));
        }
        catch (FaissException e)
        {
            throw new InvalidOperationException(
                $"Index '{Name}' cannot be exported as one faiss file: faiss cannot merge its shards' '{factory}' indexes ({e.Message}). " +
                "Flat, PQ and SQ indexes can be exported; IVF shards are trained separately and HNSW graphs do not merge.");
        }
    }

    /// <summary>Where an export lives: under the index's generation, so a drop deletes it too.</summary>
    private string ExportPath(string exportId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(exportId);
        if (!exportId.All(c => char.IsAsciiDigit(c) || char.IsAsciiLetterLower(c) || c == '-'))
        {
            throw new ArgumentException($"'{exportId}' is not an export id.", nameof(exportId));
        }

        return $"{StorageLayout.Generation(Name, RequireTopology().Generation)}exports/{exportId}.faiss";
    }
}
