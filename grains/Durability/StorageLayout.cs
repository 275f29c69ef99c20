using System.Globalization;

namespace OrleansVectors.Grains.Durability;

/// <summary>
/// Where an index's objects live in its store. Everything of one generation of an index (one create) is under
/// one prefix, so a drop removes it whole and a re-created index never sees the old one's log; saved (named)
/// snapshots are under the index's name and outlive a drop.
/// <code>
/// indexes/{index}/{generation}/manifest.json                 the current manifest (the commit point)
/// indexes/{index}/{generation}/manifests/{version}.json      every retained version's manifest
/// indexes/{index}/{generation}/snapshots/{version}/{shard}-{attempt}.snap
/// indexes/{index}/{generation}/log/{shard}/{segment}.log
/// indexes/{index}/{generation}/exports/{id}.faiss
/// indexes/{index}/saved/{name}/manifest.json, {shard}.snap
/// </code>
/// </summary>
internal static class StorageLayout
{
    /// <summary>The prefix of every object of one generation of an index.</summary>
    public static string Generation(string index, Guid generation) => $"indexes/{Escape(index)}/{generation:N}/";

    /// <summary>The current manifest.</summary>
    public static string CurrentManifest(string generationPrefix) => generationPrefix + "manifest.json";

    /// <summary>The folder of retained manifests.</summary>
    public static string Manifests(string generationPrefix) => generationPrefix + "manifests/";

    /// <summary>The manifest of one version.</summary>
    public static string Manifest(string generationPrefix, long version) => $"{Manifests(generationPrefix)}{Number(version)}.json";

    /// <summary>The folder of all snapshot versions.</summary>
    public static string Snapshots(string generationPrefix) => generationPrefix + "snapshots/";

    /// <summary>
    /// A shard's snapshot of one version, by one attempt: an attempt that did not commit (a timeout, a crash) never
    /// writes over the object of one that did, however late its upload ends.
    /// </summary>
    public static string Snapshot(string generationPrefix, long version, int shard, Guid attempt) =>
        $"{Snapshots(generationPrefix)}{Number(version)}/{shard:D4}-{attempt:N}.snap";

    /// <summary>A shard's log folder.</summary>
    public static string Log(string generationPrefix, int shard) => $"{generationPrefix}log/{shard:D4}/";

    /// <summary>A log segment in a shard's log folder.</summary>
    public static string LogSegment(string logFolder, long segment) => $"{logFolder}{Number(segment)}.log";

    /// <summary>The segment number of a log segment's path.</summary>
    public static long SegmentOf(string path) =>
        long.Parse(Path.GetFileNameWithoutExtension(path.AsSpan()), NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>The folder of one saved snapshot.</summary>
    public static string Saved(string index, string name) => $"indexes/{Escape(index)}/saved/{Escape(name)}/";

    /// <summary>The manifest of one saved snapshot (in its folder, <see cref="Saved"/>).</summary>
    public static string SavedManifest(string index, string name) => Saved(index, name) + SavedManifestName;

    /// <summary>The file name of a saved snapshot's manifest, in its folder.</summary>
    public const string SavedManifestName = "manifest.json";

    /// <summary>The folder of all saved snapshots of an index.</summary>
    public static string AllSaved(string index) => $"indexes/{Escape(index)}/saved/";

    /// <summary>The names of the indexes that have a generation among <paramref name="paths"/> (a listing of "indexes/").</summary>
    public static IReadOnlyList<string> IndexesIn(IEnumerable<string> paths) =>
        [.. paths.Select(p => p.Split('/'))
            .Where(parts => parts is ["indexes", _, { Length: 32 } generation, ..] && Guid.TryParseExact(generation, "N", out _))
            .Select(parts => Uri.UnescapeDataString(parts[1]))
            .Distinct(StringComparer.Ordinal)];

    /// <summary>The prefix of every index's objects.</summary>
    public const string AllIndexes = "indexes/";

    /// <summary>Index and snapshot names as one path segment: escaped, with no '.'/'..' segment possible.</summary>
    private static string Escape(string name) => Uri.EscapeDataString(name).Replace(".", "%2E", StringComparison.Ordinal);

    private static string Number(long value) => value.ToString("D12", CultureInfo.InvariantCulture);
}
