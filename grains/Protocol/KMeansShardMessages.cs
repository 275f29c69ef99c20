using System.Runtime.InteropServices;
using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Grains;

/// <summary>A shard's smallest sampling keys (hash of id and seed, then id) and how many vectors it clusters: the coordinator picks the global smallest.</summary>
[GenerateSerializer, Immutable, Alias("ov.KMeansKeys")]
public sealed record KMeansKeys([property: Id(0)] ulong[] Hashes, [property: Id(1)] long[] Ids, [property: Id(2)] long Count);

/// <summary>A shard's initial-centroid candidates: its smallest keys under the run's seed, with their vectors.</summary>
[GenerateSerializer, Immutable, Alias("ov.KMeansSeeds")]
public sealed record KMeansSeeds([property: Id(0)] ulong[] Hashes, [property: Id(1)] long[] Ids, [property: Id(2)] VectorBatch? Vectors);

/// <summary>One shard's part of an iteration: per-centroid sums (k × d, double) and counts, and its part of the objective.</summary>
[GenerateSerializer, Immutable, Alias("ov.KMeansPartial")]
public sealed class KMeansPartial
{
    [Id(0)] private readonly byte[] _sums;

    /// <summary>Wraps a shard's sums.</summary>
    public KMeansPartial(ReadOnlySpan<double> sums, long[] counts, double objective)
    {
        _sums = MemoryMarshal.AsBytes(sums).ToArray();
        Counts = counts;
        Objective = objective;
    }

    /// <summary>Sum of the vectors assigned to each centroid, k × d, row-major.</summary>
    public ReadOnlySpan<double> Sums => MemoryMarshal.Cast<byte, double>(_sums);

    /// <summary>Vectors assigned to each centroid.</summary>
    [Id(1)] public long[] Counts { get; }

    /// <summary>Sum over the shard's training points of the distance (squared L2) or similarity (spherical) to their centroid.</summary>
    [Id(2)] public double Objective { get; }
}
