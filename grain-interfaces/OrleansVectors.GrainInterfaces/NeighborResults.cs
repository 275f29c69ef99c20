using System.Runtime.InteropServices;

namespace OrleansVectors.GrainInterfaces;

/// <summary>
/// The k nearest neighbours of each query, row-major (row i holds query i's neighbours, closest first), with
/// global ids; -1 where fewer than k vectors exist. Distances are in the index's metric (squared L2, or inner
/// product). Travels as two byte blocks.
/// </summary>
[GenerateSerializer, Immutable, Alias("ov.NeighborResults")]
public sealed class NeighborResults
{
    [Id(0)] private readonly byte[] _distances;
    [Id(1)] private readonly byte[] _labels;

    private NeighborResults(byte[] distances, byte[] labels, int queryCount, int k, int[] failedShards)
    {
        _distances = distances;
        _labels = labels;
        QueryCount = queryCount;
        K = k;
        FailedShards = failedShards;
    }

    /// <summary>Number of queries.</summary>
    [Id(2)] public int QueryCount { get; }

    /// <summary>Neighbours per query.</summary>
    [Id(3)] public int K { get; }

    /// <summary>Shards whose results are missing (only with <see cref="QueryOptions.AllowPartial"/>); empty for a complete answer.</summary>
    [Id(4)] public int[] FailedShards { get; }

    /// <summary>Whether some shards did not answer, so the results cover only part of the index.</summary>
    public bool IsPartial => FailedShards.Length > 0;

    /// <summary>All distances, QueryCount × K.</summary>
    public ReadOnlySpan<float> Distances => MemoryMarshal.Cast<byte, float>(_distances);

    /// <summary>All global ids, QueryCount × K.</summary>
    public ReadOnlySpan<long> Labels => MemoryMarshal.Cast<byte, long>(_labels);

    /// <summary>The distances of query <paramref name="row"/>.</summary>
    public ReadOnlySpan<float> DistancesOf(int row) => Distances.Slice(row * K, K);

    /// <summary>The ids of query <paramref name="row"/>.</summary>
    public ReadOnlySpan<long> LabelsOf(int row) => Labels.Slice(row * K, K);

    /// <summary>Packs results.</summary>
    public static NeighborResults Create(ReadOnlySpan<float> distances, ReadOnlySpan<long> labels, int queryCount, int k, int[]? failedShards = null)
    {
        if (distances.Length != queryCount * k || labels.Length != queryCount * k)
        {
            throw new ArgumentException($"Results of {queryCount} queries × k={k} need {queryCount * k} distances and labels; got {distances.Length} and {labels.Length}.");
        }

        return new NeighborResults(
            MemoryMarshal.AsBytes(distances).ToArray(), MemoryMarshal.AsBytes(labels).ToArray(), queryCount, k, failedShards ?? []);
    }
}

/// <summary>
/// Every stored vector within a radius of each query: the results of query i are positions Offsets[i] to
/// Offsets[i+1] (exclusive) of <see cref="Distances"/> and <see cref="Labels"/>, sorted closest first (ties by id).
/// </summary>
[GenerateSerializer, Immutable, Alias("ov.RangeResults")]
public sealed class RangeResults
{
    [Id(0)] private readonly byte[] _offsets;
    [Id(1)] private readonly byte[] _distances;
    [Id(2)] private readonly byte[] _labels;

    private RangeResults(byte[] offsets, byte[] distances, byte[] labels, int[] failedShards)
    {
        _offsets = offsets;
        _distances = distances;
        _labels = labels;
        FailedShards = failedShards;
    }

    /// <summary>Shards whose results are missing (only with <see cref="QueryOptions.AllowPartial"/>).</summary>
    [Id(3)] public int[] FailedShards { get; }

    /// <summary>Whether some shards did not answer.</summary>
    public bool IsPartial => FailedShards.Length > 0;

    /// <summary>Number of queries.</summary>
    public int QueryCount => Offsets.Length - 1;

    /// <summary>QueryCount + 1 offsets.</summary>
    public ReadOnlySpan<long> Offsets => MemoryMarshal.Cast<byte, long>(_offsets);

    /// <summary>Distances of all results.</summary>
    public ReadOnlySpan<float> Distances => MemoryMarshal.Cast<byte, float>(_distances);

    /// <summary>Global ids of all results.</summary>
    public ReadOnlySpan<long> Labels => MemoryMarshal.Cast<byte, long>(_labels);

    /// <summary>The distances of query <paramref name="row"/>'s results.</summary>
    public ReadOnlySpan<float> DistancesOf(int row) => Distances[(int)Offsets[row]..(int)Offsets[row + 1]];

    /// <summary>The ids of query <paramref name="row"/>'s results.</summary>
    public ReadOnlySpan<long> LabelsOf(int row) => Labels[(int)Offsets[row]..(int)Offsets[row + 1]];

    /// <summary>Packs results.</summary>
    public static RangeResults Create(ReadOnlySpan<long> offsets, ReadOnlySpan<float> distances, ReadOnlySpan<long> labels, int[]? failedShards = null) =>
        new(MemoryMarshal.AsBytes(offsets).ToArray(), MemoryMarshal.AsBytes(distances).ToArray(), MemoryMarshal.AsBytes(labels).ToArray(), failedShards ?? []);

    /// <summary>The results of consecutive query batches as one (queries in order; failed shards merged).</summary>
    public static RangeResults Concat(IReadOnlyList<RangeResults> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var offsets = new long[parts.Sum(p => p.QueryCount) + 1];
        var row = 0;
        long total = 0;
        foreach (var part in parts)
        {
            var own = part.Offsets;
            for (var i = 1; i < own.Length; i++)
            {
                offsets[++row] = total + own[i];
            }

            total += part.Labels.Length;
        }

        var distances = parts.SelectMany(p => p.Distances.ToArray()).ToArray();
        var labels = parts.SelectMany(p => p.Labels.ToArray()).ToArray();
        return Create(offsets, distances, labels, [.. parts.SelectMany(p => p.FailedShards).Distinct()]);
    }
}
