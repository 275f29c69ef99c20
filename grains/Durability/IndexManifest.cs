using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Storage;

namespace OrleansVectors.Grains.Durability;

/// <summary>
/// A committed snapshot of an index: its spec and, per shard, the snapshot blob, its checksum and the first log
/// segment it does not cover. The index writes it last; the conditional write of the current manifest is the
/// commit point of a snapshot. JSON, so an operator can read it.
/// </summary>
internal sealed record IndexManifest(
    long Version,
    string? Name,
    Guid Generation,
    IndexSpec Spec,
    long NextId,
    IdMode Mode,
    DateTimeOffset Created,
    IReadOnlyList<ShardSnapshotInfo> Shards)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Vectors over all shards.</summary>
    public long Count => Shards.Sum(s => s.Count);

    /// <summary>Bytes of all shard snapshots.</summary>
    public long Bytes => Shards.Sum(s => s.Bytes);

    /// <summary>What callers see of it.</summary>
    public SnapshotInfo ToInfo() => new(Version, Name, Created, Count, Bytes);

    /// <summary>The manifest as UTF-8 JSON.</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>Reads a manifest object.</summary>
    /// <exception cref="InvalidDataException">The object is not a manifest; the message names it.</exception>
    public static IndexManifest Parse(ReadOnlyMemory<byte> content, string path)
    {
        try
        {
            return JsonSerializer.Deserialize<IndexManifest>(content.Span, Json) ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Manifest '{path}' is corrupt: {e.Message}", e);
        }
    }

    /// <summary>The manifest at <paramref name="path"/> and its ETag, or null when there is none.</summary>
    public static async Task<(IndexManifest Manifest, string ETag)?> ReadAsync(IDurableStore store, string path)
    {
        var stored = await store.ReadAsync(path).ConfigureAwait(false);
        return stored is null ? null : (Parse(stored.Content, path), stored.ETag);
    }

    /// <summary>The newest committed manifest of a generation, or null before its first snapshot.</summary>
    public static async Task<IndexManifest?> ReadCurrentAsync(IDurableStore store, string generationPrefix) =>
        (await ReadAsync(store, StorageLayout.CurrentManifest(generationPrefix)).ConfigureAwait(false))?.Manifest;
}
