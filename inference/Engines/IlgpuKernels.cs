using System.Runtime.CompilerServices;
using ILGPU;

// The CPU accelerator emits its kernel launchers into a dynamic assembly of this name; they touch the internal
// argument structs below.
[assembly: InternalsVisibleTo("ILGPURuntime")]

namespace OrleansVectors.Inference.Engines;

/// <summary>
/// Arguments of <see cref="IlgpuKernels.Distances"/>: the batch's <c>QueryCount</c> queries (row-major) against
/// stored rows <c>ChunkStart</c> … <c>ChunkStart + ChunkCount - 1</c>, costs written row-major with row
/// stride <c>Stride</c>; <c>InnerProduct</c> is 0 or 1.
/// </summary>
internal readonly record struct DistanceArgs(
    ArrayView<float> Queries,
    ArrayView<float> Vectors,
    ArrayView<float> Costs,
    int QueryCount,
    int Dimension,
    long ChunkStart,
    int ChunkCount,
    int Stride,
    int InnerProduct);

/// <summary>Arguments of <see cref="IlgpuKernels.Select"/>.</summary>
internal readonly record struct SelectArgs(
    ArrayView<float> Costs,
    int Stride,
    long ChunkStart,
    int ChunkCount,
    ArrayView<long> Ids,
    ArrayView<float> PreviousCosts,
    ArrayView<long> PreviousIds,
    int PreviousCount,
    ArrayView<float> NextCosts,
    ArrayView<long> NextIds,
    int K);

/// <summary>Arguments of <see cref="IlgpuKernels.SortAndFinish"/>.</summary>
internal readonly record struct FinishArgs(
    ArrayView<float> Costs,
    ArrayView<long> Ids,
    int Count,
    int SortLength,
    int K,
    int InnerProduct);

/// <summary>Arguments of <see cref="IlgpuKernels.CountWithin"/> and <see cref="IlgpuKernels.FillWithin"/>.</summary>
internal readonly record struct RangeArgs(
    ArrayView<float> Costs,
    int Stride,
    long ChunkStart,
    int ChunkCount,
    ArrayView<long> Ids,
    float Threshold,
    int FirstQuery,
    ArrayView<int> Counts,
    ArrayView<long> Offsets,
    ArrayView<float> OutCosts,
    ArrayView<long> OutIds);

/// <summary>
/// Device kernels of <see cref="IlgpuFlatEngine"/>. Everything ranks by a "cost" that is smaller for better
/// matches: the squared L2 distance, or the negated inner product, so one ascending selection serves both metrics.
/// Ranking is by (cost, id), which is total, so the k chosen are unique up to exactly equal (cost, id) pairs.
/// </summary>
internal static class IlgpuKernels
{
    /// <summary>Queries per tile of <see cref="Distances"/>.</summary>
    public const int TileQueries = 64;

    /// <summary>Stored vectors per tile of <see cref="Distances"/>.</summary>
    public const int TileVectors = 64;

    /// <summary>Dimensions staged in shared memory per step of <see cref="Distances"/>.</summary>
    public const int DimStep = 16;

    /// <summary>Histogram bins of one radix digit.</summary>
    private const int Bins = 256;

    /// <summary>Digits of the 96-bit (cost, id) key: 4 for the cost, 8 for the id.</summary>
    private const int Digits = 12;

    private const int TileStride = DimStep + 1; // odd row stride: lanes reading one column hit different banks

    /// <summary>
    /// One cost per (query, vector) of a tile of <see cref="TileQueries"/> × <see cref="TileVectors"/>: grid X over
    /// the chunk's vectors, grid Y over the batch's queries, any number of threads per group (each thread owns the
    /// tile's outputs t, t + threads, …). Both operands are staged <see cref="DimStep"/> dimensions at a time in shared
    /// memory, so each global value is read once per tile rather than once per output, and the partial sums live in
    /// shared memory too, which lets one group own a large tile whatever its thread count: the CPU accelerator pays
    /// dearly per barrier, a GPU does not mind the extra shared-memory traffic (two accesses per 16 products).
    /// </summary>
    /// <remarks>
    /// L2 sums direct squared differences, so no norms are kept: the expansion ‖q‖² − 2q·y + ‖y‖² cancels
    /// catastrophically for near neighbours far from the origin. Measured in float32 on 16-d data in [0, 1) + offset,
    /// against double: expansion 2.6e-6 / 7e-4 / 8e-2 worst relative error at offsets 0 / 10 / 100 (faiss's BLAS path
    /// the same), direct differences 1.6e-7 at all three. The difference costs one subtraction per term.
    /// </remarks>
    public static void Distances(DistanceArgs a)
    {
        var t = Group.IdxX;
        var threads = Group.DimX;
        var queryTile = SharedMemory.Allocate<float>(TileQueries * TileStride);
        var vectorTile = SharedMemory.Allocate<float>(TileVectors * TileStride);
        var sums = SharedMemory.Allocate<float>(TileQueries * TileVectors);
        var firstQuery = Grid.IdxY * TileQueries;
        var firstVector = Grid.IdxX * TileVectors;
        var queries = IntrinsicMath.Min(TileQueries, a.QueryCount - firstQuery);
        var vectors = IntrinsicMath.Min(TileVectors, a.ChunkCount - firstVector);
        var outputs = queries * TileVectors;
        var d = a.Dimension;
        for (var o = t; o < outputs; o += threads)
        {
            sums[o] = 0f;
        }

        for (var d0 = 0; d0 < d; d0 += DimStep)
        {
            var width = IntrinsicMath.Min(DimStep, d - d0);
            for (var l = t; l < (queries + vectors) * DimStep; l += threads)
            {
                var row = l / DimStep;
                var column = l - (row * DimStep);
                if (row < queries)
                {
                    queryTile[(row * TileStride) + column] = column < width ? a.Queries[((long)(firstQuery + row) * d) + d0 + column] : 0f;
                }
                else
                {
                    row -= queries;
                    vectorTile[(row * TileStride) + column] = column < width ? a.Vectors[((a.ChunkStart + firstVector + row) * d) + d0 + column] : 0f;
                }
            }

            Group.Barrier();
            for (var o = t; o < outputs; o += threads)
            {
                var qi = o / TileVectors;
                var yi = o - (qi * TileVectors);
                if (yi >= vectors)
                {
                    continue;
                }

                var q = qi * TileStride;
                var y = yi * TileStride;
                var sum = sums[o];
                if (a.InnerProduct != 0)
                {
                    for (var c = 0; c < width; c++)
                    {
                        sum += queryTile[q + c] * vectorTile[y + c];
                    }
                }
                else
                {
                    for (var c = 0; c < width; c++)
                    {
                        var diff = queryTile[q + c] - vectorTile[y + c];
                        sum += diff * diff;
                    }
                }

                sums[o] = sum;
            }

            Group.Barrier();
        }

        for (var o = t; o < outputs; o += threads)
        {
            var qi = o / TileVectors;
            var yi = o - (qi * TileVectors);
            if (yi < vectors)
            {
                var cost = a.InnerProduct != 0 ? -sums[o] : sums[o];
                a.Costs[((long)(firstQuery + qi) * a.Stride) + firstVector + yi] = Canonical(cost);
            }
        }
    }

    /// <summary>
    /// Per query (one group each): the k best by (cost, id) of the previous k best and the chunk's costs, written
    /// unordered to the next buffers. An exact radix select over the 96-bit key (cost bits, then id bits), 8 bits a
    /// pass with a shared histogram, stops as soon as the digit's bin holds exactly the ranks still missing, so
    /// distinct costs need at most 4 passes and only ties at the k-th place reach into the id digits.
    /// </summary>
    public static void Select(SelectArgs a)
    {
        var q = Grid.IdxX;
        var t = Group.IdxX;
        var threads = Group.DimX;
        var total = a.PreviousCount + a.ChunkCount;
        var outBase = (long)q * a.K;
        if (total <= a.K)
        {
            for (var i = t; i < total; i += threads)
            {
                a.NextCosts[outBase + i] = CandidateCost(a, q, i);
                a.NextIds[outBase + i] = CandidateId(a, q, i);
            }

            return;
        }

        var histogram = SharedMemory.Allocate<int>(Bins);
        var prefixCost = SharedMemory.Allocate<uint>(1);
        var prefixId = SharedMemory.Allocate<ulong>(1);
        var state = SharedMemory.Allocate<int>(4); // 0: ranks still missing, 1: done, 2: taken below, 3: taken equal
        if (t == 0)
        {
            prefixCost[0] = 0;
            prefixId[0] = 0;
            state[0] = a.K;
            state[1] = 0;
        }

        var depth = 0;
        for (var pass = 0; pass < Digits; pass++)
        {
            for (var i = t; i < Bins; i += threads)
            {
                histogram[i] = 0;
            }

            Group.Barrier();
            var pc = prefixCost[0];
            var pi = prefixId[0];
            for (var i = t; i < total; i += threads)
            {
                var ck = CostKey(CandidateCost(a, q, i));
                var ik = pass < 4 ? 0UL : IdKey(CandidateId(a, q, i));
                if (ComparePrefix(ck, ik, pc, pi, pass) == 0)
                {
                    Atomic.Add(ref histogram[Digit(ck, ik, pass)], 1);
                }
            }

            Group.Barrier();
            if (t == 0)
            {
                var missing = state[0];
                var below = 0;
                var bin = 0;
                for (; bin < Bins - 1; bin++)
                {
                    if (below + histogram[bin] >= missing)
                    {
                        break;
                    }

                    below += histogram[bin];
                }

                missing -= below;
                if (pass < 4)
                {
                    prefixCost[0] = pc | ((uint)bin << (24 - (8 * pass)));
                }
                else
                {
                    prefixId[0] = pi | ((ulong)bin << (56 - (8 * (pass - 4))));
                }

                state[0] = missing;
                state[1] = histogram[bin] == missing ? 1 : 0;
            }

            Group.Barrier();
            depth = pass + 1;
            if (state[1] != 0)
            {
                break;
            }
        }

        if (t == 0)
        {
            state[2] = 0;
            state[3] = 0;
        }

        Group.Barrier();
        var missingAtEnd = state[0];
        var takenBelow = a.K - missingAtEnd;
        var finalCost = prefixCost[0];
        var finalId = prefixId[0];
        for (var i = t; i < total; i += threads)
        {
            var cost = CandidateCost(a, q, i);
            var id = CandidateId(a, q, i);
            var order = ComparePrefix(CostKey(cost), IdKey(id), finalCost, finalId, depth);
            if (order < 0)
            {
                var slot = Atomic.Add(ref state[2], 1);
                a.NextCosts[outBase + slot] = cost;
                a.NextIds[outBase + slot] = id;
            }
            else if (order == 0)
            {
                // Only exactly equal (cost, id) keys can outnumber the missing ranks; any of them will do.
                var slot = Atomic.Add(ref state[3], 1);
                if (slot < missingAtEnd)
                {
                    a.NextCosts[outBase + takenBelow + slot] = cost;
                    a.NextIds[outBase + takenBelow + slot] = id;
                }
            }
        }
    }

    /// <summary>
    /// Per query (one group each), in place: bitonic sort of the <c>Count</c> selected entries by (cost, id) in
    /// shared memory, then the metric's distances (inner product un-negated) and faiss's padding past Count:
    /// label -1 and float.MaxValue (L2) or -float.MaxValue (inner product), as faiss 1.7.3 pads.
    /// </summary>
    public static void SortAndFinish(FinishArgs a)
    {
        var q = Grid.IdxX;
        var t = Group.IdxX;
        var threads = Group.DimX;
        var keys = SharedMemory.Allocate<uint>(IlgpuFlatEngine.MaxK);
        var ids = SharedMemory.Allocate<long>(IlgpuFlatEngine.MaxK);
        var rowBase = (long)q * a.K;
        var n = a.SortLength;
        for (var i = t; i < n; i += threads)
        {
            if (i < a.Count)
            {
                keys[i] = CostKey(a.Costs[rowBase + i]);
                ids[i] = a.Ids[rowBase + i];
            }
            else
            {
                keys[i] = uint.MaxValue;
                ids[i] = long.MaxValue;
            }
        }

        Group.Barrier();
        for (var size = 2; size <= n; size <<= 1)
        {
            for (var stride = size >> 1; stride > 0; stride >>= 1)
            {
                for (var i = t; i < n >> 1; i += threads)
                {
                    var lo = (2 * i) - (i & (stride - 1));
                    var hi = lo + stride;
                    var ascending = (lo & size) == 0;
                    var loKey = keys[lo];
                    var hiKey = keys[hi];
                    var loId = ids[lo];
                    var hiId = ids[hi];
                    var loFirst = loKey < hiKey || (loKey == hiKey && loId <= hiId);
                    if (loFirst != ascending)
                    {
                        keys[lo] = hiKey;
                        keys[hi] = loKey;
                        ids[lo] = hiId;
                        ids[hi] = loId;
                    }
                }

                Group.Barrier();
            }
        }

        for (var i = t; i < a.K; i += threads)
        {
            if (i < a.Count)
            {
                var cost = KeyCost(keys[i]);
                a.Costs[rowBase + i] = a.InnerProduct != 0 ? Canonical(-cost) : cost;
                a.Ids[rowBase + i] = ids[i];
            }
            else
            {
                a.Costs[rowBase + i] = a.InnerProduct != 0 ? -float.MaxValue : float.MaxValue;
                a.Ids[rowBase + i] = -1;
            }
        }
    }

    /// <summary>Per query of the batch (one group each): how many of the chunk's costs are below the threshold.</summary>
    public static void CountWithin(RangeArgs a)
    {
        var q = Grid.IdxX;
        var t = Group.IdxX;
        var count = SharedMemory.Allocate<int>(1);
        if (t == 0)
        {
            count[0] = 0;
        }

        Group.Barrier();
        var mine = 0;
        var row = (long)q * a.Stride;
        for (var i = t; i < a.ChunkCount; i += Group.DimX)
        {
            if (a.Costs[row + i] < a.Threshold)
            {
                mine++;
            }
        }

        if (mine != 0)
        {
            Atomic.Add(ref count[0], mine);
        }

        Group.Barrier();
        if (t == 0)
        {
            a.Counts[q] = count[0];
        }
    }

    /// <summary>
    /// Per query from FirstQuery on (one group each): compacts the chunk's (cost, id) below the threshold to
    /// Offsets[query - FirstQuery] onward, unordered; the host sorts each query's hits.
    /// </summary>
    public static void FillWithin(RangeArgs a)
    {
        var q = a.FirstQuery + Grid.IdxX;
        var t = Group.IdxX;
        var next = SharedMemory.Allocate<int>(1);
        if (t == 0)
        {
            next[0] = 0;
        }

        Group.Barrier();
        var row = (long)q * a.Stride;
        var offset = a.Offsets[Grid.IdxX];
        for (var i = t; i < a.ChunkCount; i += Group.DimX)
        {
            var cost = a.Costs[row + i];
            if (cost < a.Threshold)
            {
                var slot = offset + Atomic.Add(ref next[0], 1);
                a.OutCosts[slot] = cost;
                a.OutIds[slot] = a.Ids[a.ChunkStart + i];
            }
        }
    }

    /// <summary>Maps a float to a uint with the same order (negative values flipped whole, positive ones get the sign bit).</summary>
    public static uint CostKey(float cost)
    {
        var bits = Interop.FloatAsInt(cost);
        return (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
    }

    /// <summary>Inverse of <see cref="CostKey"/>.</summary>
    public static float KeyCost(uint key) =>
        Interop.IntAsFloat((key & 0x8000_0000u) != 0 ? key & 0x7FFF_FFFFu : ~key);

    /// <summary>Maps a signed id to a ulong with the same order, so the smaller id wins ties.</summary>
    private static ulong IdKey(long id) => (ulong)id ^ 0x8000_0000_0000_0000UL;

    /// <summary>-0 becomes +0 so that equal costs have equal keys.</summary>
    private static float Canonical(float cost) => cost == 0f ? 0f : cost;

    private static float CandidateCost(SelectArgs a, int q, int i) =>
        i < a.PreviousCount ? a.PreviousCosts[((long)q * a.K) + i] : a.Costs[((long)q * a.Stride) + i - a.PreviousCount];

    private static long CandidateId(SelectArgs a, int q, int i) =>
        i < a.PreviousCount ? a.PreviousIds[((long)q * a.K) + i] : a.Ids[a.ChunkStart + i - a.PreviousCount];

    private static int Digit(uint costKey, ulong idKey, int pass) =>
        pass < 4 ? (int)((costKey >> (24 - (8 * pass))) & 0xFF) : (int)((idKey >> (56 - (8 * (pass - 4)))) & 0xFF);

    /// <summary>Compares the first <paramref name="depth"/> digits of a key with the prefix.</summary>
    private static int ComparePrefix(uint costKey, ulong idKey, uint prefixCost, ulong prefixId, int depth)
    {
        if (depth == 0)
        {
            return 0;
        }

        if (depth <= 4)
        {
            var shift = 32 - (8 * depth);
            var a = costKey >> shift;
            var b = prefixCost >> shift;
            return a < b ? -1 : a > b ? 1 : 0;
        }

        if (costKey != prefixCost)
        {
            return costKey < prefixCost ? -1 : 1;
        }

        var idShift = 64 - (8 * (depth - 4));
        var x = idShift == 64 ? 0UL : idKey >> idShift;
        var y = idShift == 64 ? 0UL : prefixId >> idShift;
        return x < y ? -1 : x > y ? 1 : 0;
    }
}
