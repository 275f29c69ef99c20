using ILGPU;
using ILGPU.Runtime;

namespace OrleansVectors.Inference.Engines;

/// <summary>The search side: planning batches and chunks to fit the budget, launching the k-NN kernels per batch on alternating streams, and range search in count and fill passes.</summary>
public sealed partial class IlgpuFlatEngine
{
    /// <summary>
    /// Batch size, chunk size and stream count of a k-NN search: as configured where the budget allows, else
    /// fewer streams, then narrower chunks, then smaller batches.
    /// </summary>
    private (int Batch, int Chunk, int Slots) PlanKnn(int n, int k)
    {
        var batch = Math.Min(_queryBatch, n);
        var chunk = ChunkFor(batch);
        var slots = (n + batch - 1) / batch > 1 ? _slots.Length : 1;
        long SlotBytes() => (long)batch * (((long)Dimension * sizeof(float)) + ((long)chunk * sizeof(float)) + (2L * k * (sizeof(float) + sizeof(long))));
        FitPlan(ref batch, ref chunk, ref slots, SlotBytes, "k-NN search scratch");
        foreach (var slot in _slots.AsSpan(0, slots))
        {
            Ensure(ref slot.Queries, (long)batch * Dimension, "Query buffer");
            Ensure(ref slot.Costs, (long)batch * chunk, "Distance tile");
            Ensure(ref slot.BestCostsA, (long)batch * k, "Top-k buffer");
            Ensure(ref slot.BestCostsB, (long)batch * k, "Top-k buffer");
            Ensure(ref slot.BestIdsA, (long)batch * k, "Top-k buffer");
            Ensure(ref slot.BestIdsB, (long)batch * k, "Top-k buffer");
        }

        return (batch, chunk, slots);
    }

    private KernelConfig DistanceGrid(int vectors, int queries) =>
        new(
            new Index2D((vectors + IlgpuKernels.TileVectors - 1) / IlgpuKernels.TileVectors, (queries + IlgpuKernels.TileQueries - 1) / IlgpuKernels.TileQueries),
            new Index2D(_groupSize, 1));

    private int ChunkFor(int batch) =>
        (int)Math.Min(_count, _chunkRows > 0 ? _chunkRows : Math.Min(int.MaxValue / 2, Math.Max(MinChunk, _chunkElements / batch)));

    private void FitPlan(ref int batch, ref int chunk, ref int slots, Func<long> slotBytes, string what)
    {
        var available = MemoryBudgetBytes - PersistentBytes;
        while (slots * slotBytes() > available)
        {
            if (slots > 1)
            {
                slots = 1;
            }
            else if (chunk > MinChunk && _chunkRows == 0)
            {
                chunk = Math.Max(MinChunk, chunk / 2);
            }
            else if (batch > 1)
            {
                batch = (batch + 1) / 2;
            }
            else
            {
                throw new DeviceMemoryBudgetExceededException(PersistentBytes + slotBytes(), MemoryBudgetBytes, what);
            }
        }

        // Cached scratch of earlier calls is kept only while it fits beside this call's.
        if (ScratchBytes + (slots * slotBytes()) > available)
        {
            ReleaseScratch();
        }
    }

    /// <summary>Queues the distance tile of the slot's queries against stored rows start … start+count−1.</summary>
    private void LaunchDistances(Slot slot, int rows, long start, int count, int chunk) =>
        _distances(
            slot.Stream,
            DistanceGrid(count, rows),
            new DistanceArgs(slot.Queries!.View, _vectors!.View, slot.Costs!.View, rows, Dimension, start, count, chunk, _innerProduct));

    private void LaunchKnn(Slot slot, ReadOnlySpan<float> queries, int first, int rows, int k, int chunk)
    {
        var stream = slot.Stream;
        slot.Queries!.View.SubView(0, (long)rows * Dimension).CopyFromCPU(stream, queries.Slice(first * Dimension, rows * Dimension));
        var previous = 0;
        var (prevCosts, prevIds, nextCosts, nextIds) = (slot.BestCostsB!, slot.BestIdsB!, slot.BestCostsA!, slot.BestIdsA!);
        for (long start = 0; start < _count; start += chunk)
        {
            var count = (int)Math.Min(chunk, _count - start);
            LaunchDistances(slot, rows, start, count, chunk);
            _select(
                stream,
                new KernelConfig(rows, _groupSize),
                new SelectArgs(slot.Costs!.View, chunk, start, count, _ids!.View, prevCosts.View, prevIds.View, previous, nextCosts.View, nextIds.View, k));
            previous = Math.Min(k, previous + count);
            (prevCosts, prevIds, nextCosts, nextIds) = (nextCosts, nextIds, prevCosts, prevIds);
        }

        // After the last swap the latest selection is in the "previous" pair.
        slot.ResultCosts = prevCosts;
        slot.ResultIds = prevIds;

        var sortLength = 1;
        while (sortLength < previous)
        {
            sortLength <<= 1;
        }

        _finish(
            stream,
            new KernelConfig(rows, _groupSize),
            new FinishArgs(prevCosts.View, prevIds.View, previous, sortLength, k, _innerProduct));
    }

    private void RangeCore(ReadOnlySpan<float> queries, int n, float threshold, List<(float Cost, long Id)>?[] hits)
    {
        var batch = Math.Min(_queryBatch, n);
        var chunk = ChunkFor(batch);
        var slots = 1;

        // Hits of one chunk are compacted into a result buffer sized like the distance tile, which holds every
        // hit of one query even when all of them match; larger totals are fetched a few queries at a time.
        long SlotBytes() => ((long)batch * (((long)Dimension * sizeof(float)) + ((long)chunk * sizeof(float)) + sizeof(int) + sizeof(long)))
            + ((long)chunk * (sizeof(float) + sizeof(long)));
        FitPlan(ref batch, ref chunk, ref slots, SlotBytes, "Range search scratch");
        var slot = _slots[0];
        Ensure(ref slot.Queries, (long)batch * Dimension, "Query buffer");
        Ensure(ref slot.Costs, (long)batch * chunk, "Distance tile");
        Ensure(ref slot.Counts, batch, "Hit counts");
        Ensure(ref slot.Offsets, batch, "Hit offsets");
        var resultCapacity = (MemoryBudgetBytes - _deviceBytes) / (sizeof(float) + sizeof(long));
        resultCapacity = Math.Clamp(resultCapacity, chunk, Math.Max(chunk, (long)batch * chunk));
        resultCapacity = Math.Min(resultCapacity, Math.Max(chunk, 16L << 20));
        if (_rangeResultRows > 0)
        {
            resultCapacity = Math.Max(chunk, _rangeResultRows);
        }

        Ensure(ref slot.OutCosts, resultCapacity, "Range hits");
        Ensure(ref slot.OutIds, resultCapacity, "Range hits");
        resultCapacity = slot.OutCosts!.Length;

        var stream = slot.Stream;
        var counts = new int[batch];
        var offsets = new long[batch];
        for (var first = 0; first < n; first += batch)
        {
            var rows = Math.Min(batch, n - first);
            slot.Queries!.View.SubView(0, (long)rows * Dimension).CopyFromCPU(stream, queries.Slice(first * Dimension, rows * Dimension));
            for (long start = 0; start < _count; start += chunk)
            {
                var count = (int)Math.Min(chunk, _count - start);
                LaunchDistances(slot, rows, start, count, chunk);
                var args = new RangeArgs(
                    slot.Costs!.View, chunk, start, count, _ids!.View, threshold, 0, slot.Counts!.View, slot.Offsets!.View, slot.OutCosts.View, slot.OutIds!.View);
                _countWithin(stream, new KernelConfig(rows, _groupSize), args);
                slot.Counts.View.SubView(0, rows).CopyToCPU(stream, counts.AsSpan(0, rows));
                stream.Synchronize();
                FetchHits(slot, args, rows, counts, offsets, resultCapacity, first, hits);
            }
        }
    }

    /// <summary>Compacts and copies back one chunk's hits, as many queries at a time as the result buffer holds.</summary>
    private void FetchHits(
        Slot slot, RangeArgs args, int rows, int[] counts, long[] offsets, long resultCapacity, int firstOfBatch, List<(float Cost, long Id)>?[] hits)
    {
        var stream = slot.Stream;
        var q0 = 0;
        while (q0 < rows)
        {
            while (q0 < rows && counts[q0] == 0)
            {
                q0++;
            }

            if (q0 == rows)
            {
                return;
            }

            long total = 0;
            var q1 = q0;
            while (q1 < rows && total + counts[q1] <= resultCapacity)
            {
                offsets[q1 - q0] = total;
                total += counts[q1];
                q1++;
            }

            slot.Offsets!.View.SubView(0, q1 - q0).CopyFromCPU(stream, offsets.AsSpan(0, q1 - q0));
            _fillWithin(stream, new KernelConfig(q1 - q0, _groupSize), args with { FirstQuery = q0 });
            var costs = new float[total];
            var ids = new long[total];
            slot.OutCosts!.View.SubView(0, total).CopyToCPU(stream, costs);
            slot.OutIds!.View.SubView(0, total).CopyToCPU(stream, ids);
            stream.Synchronize();
            for (var q = q0; q < q1; q++)
            {
                var list = hits[firstOfBatch + q] ??= [];
                for (var i = offsets[q - q0]; i < offsets[q - q0] + counts[q]; i++)
                {
                    list.Add((costs[i], ids[i]));
                }
            }

            q0 = q1;
        }
    }


    /// <summary>Orders each query's hits as <see cref="Search"/> does and lays them out faiss-style.</summary>
    private (long[] Offsets, float[] Distances, long[] Labels) Assemble(List<(float Cost, long Id)>?[] hits)
    {
        var offsets = new long[hits.Length + 1];
        for (var q = 0; q < hits.Length; q++)
        {
            offsets[q + 1] = offsets[q] + (hits[q]?.Count ?? 0);
        }

        var distances = new float[offsets[^1]];
        var labels = new long[offsets[^1]];
        for (var q = 0; q < hits.Length; q++)
        {
            if (hits[q] is not { } list)
            {
                continue;
            }

            list.Sort(static (x, y) => x.Cost != y.Cost ? x.Cost.CompareTo(y.Cost) : x.Id.CompareTo(y.Id));
            var at = offsets[q];
            foreach (var (cost, id) in list)
            {
                distances[at] = InnerProduct ? -cost : cost;
                labels[at] = id;
                at++;
            }
        }

        return (offsets, distances, labels);
    }
}
