using ILGPU;
using ILGPU.Runtime;

namespace OrleansVectors.Inference.Engines;

/// <summary>Device memory: the stored rows grown within the budget (through host memory when both copies do not fit), search scratch, and every allocation checked first.</summary>
public sealed partial class IlgpuFlatEngine
{
    /// <summary>Floats per host piece when stored vectors pass through host memory (1 GiB).</summary>
    private const long StagePiece = 1L << 28;

    private long RowBytes => ((long)Dimension * sizeof(float)) + sizeof(long);

    private long PersistentBytes => _capacity * RowBytes;

    private long ScratchBytes => _deviceBytes - PersistentBytes;

    /// <summary>
    /// Grows the storage to hold <paramref name="rows"/>, geometrically while the budget allows, else exactly.
    /// Checks everything before touching anything, so a refusal leaves the engine as it was.
    /// </summary>
    private void Reserve(long rows)
    {
        if (rows <= _capacity)
        {
            return;
        }

        var exact = rows * RowBytes;
        if (exact > MemoryBudgetBytes)
        {
            throw new DeviceMemoryBudgetExceededException(exact, MemoryBudgetBytes, $"Storing {rows:N0} vectors of dimension {Dimension}");
        }

        var grown = Math.Max(rows, Math.Max(_capacity * 2, InitialCapacity));
        if (grown * RowBytes > MemoryBudgetBytes)
        {
            grown = rows;
        }

        ReleaseScratch();

        // A device-side copy needs the old and the new storage at once; past the budget the old rows go through
        // host memory instead, so the budget can be filled to the last row.
        var staged = PersistentBytes + (grown * RowBytes) > MemoryBudgetBytes;
        float[][]? hostVectors = null;
        long[]? hostIds = null;
        if (staged && _count > 0)
        {
            hostVectors = StageVectors();
            hostIds = new long[_count];
            _ids!.View.SubView(0, _count).CopyToCPU(hostIds);
        }

        MemoryBuffer1D<float, Stride1D.Dense>? vectors = null;
        MemoryBuffer1D<long, Stride1D.Dense>? ids = null;
        try
        {
            if (staged)
            {
                Free(ref _vectors);
                Free(ref _ids);
            }

            vectors = Allocate<float>(grown * Dimension, "Vector storage");
            ids = Allocate<long>(grown, "Id storage");
            if (_count > 0)
            {
                if (staged)
                {
                    Unstage(hostVectors!, vectors.View);
                    ids.View.SubView(0, _count).CopyFromCPU(hostIds);
                }
                else
                {
                    _vectors!.View.SubView(0, _count * Dimension).CopyTo(vectors.View.SubView(0, _count * Dimension));
                    _ids!.View.SubView(0, _count).CopyTo(ids.View.SubView(0, _count));
                    _accelerator.DefaultStream.Synchronize();
                }
            }
        }
        catch
        {
            Free(ref vectors);
            Free(ref ids);
            if (staged && _count > 0)
            {
                RestoreStaged(hostVectors!, hostIds!);
            }

            throw;
        }

        if (!staged)
        {
            Free(ref _vectors);
            Free(ref _ids);
        }

        _vectors = vectors;
        _ids = ids;
        _capacity = grown;
    }

    /// <summary>Puts staged rows back at their old capacity after a failed growth; failing that, the engine is emptied.</summary>
    private void RestoreStaged(float[][] hostVectors, long[] hostIds)
    {
        try
        {
            _vectors = Allocate<float>(_capacity * Dimension, "Vector storage");
            _ids = Allocate<long>(_capacity, "Id storage");
            Unstage(hostVectors, _vectors.View);
            _ids.View.SubView(0, hostIds.LongLength).CopyFromCPU(hostIds);
        }
        catch (Exception e) when (e is InvalidOperationException)
        {
            Free(ref _vectors);
            Free(ref _ids);
            _capacity = 0;
            _count = 0;
        }
    }


    /// <summary>
    /// Copies the stored vectors to host memory in pieces of at most <see cref="StagePiece"/> floats: a device's worth
    /// of vectors is more than the largest .NET array holds.
    /// </summary>
    private float[][] StageVectors()
    {
        var total = _count * Dimension;
        var pieces = new float[(total + StagePiece - 1) / StagePiece][];
        for (long i = 0, at = 0; at < total; i++, at += StagePiece)
        {
            var piece = new float[Math.Min(StagePiece, total - at)];
            _vectors!.View.SubView(at, piece.LongLength).CopyToCPU(piece);
            pieces[i] = piece;
        }

        return pieces;
    }

    private static void Unstage(float[][] pieces, ArrayView1D<float, Stride1D.Dense> target)
    {
        long at = 0;
        foreach (var piece in pieces)
        {
            target.SubView(at, piece.LongLength).CopyFromCPU(piece);
            at += piece.LongLength;
        }
    }

    private MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long length, string what)
        where T : unmanaged
    {
        var bytes = Math.Max(1, length) * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (_deviceBytes + bytes > MemoryBudgetBytes)
        {
            throw new DeviceMemoryBudgetExceededException(_deviceBytes + bytes, MemoryBudgetBytes, what);
        }

        DeviceMemoryLedger.Reserve(IsCuda, bytes, _deviceLimit, what);
        MemoryBuffer1D<T, Stride1D.Dense> buffer;
        try
        {
            buffer = _accelerator.Allocate1D<T>(Math.Max(1, length));
        }
        catch (Exception e) when (e is AcceleratorException or OutOfMemoryException or ArgumentOutOfRangeException)
        {
            DeviceMemoryLedger.Release(IsCuda, bytes);
            throw new InvalidOperationException(
                $"{what}: the {DeviceName} refused {bytes:N0} bytes although the engine's budget allows it ({_deviceBytes:N0} of {MemoryBudgetBytes:N0} bytes held): {e.Message}",
                e);
        }

        Volatile.Write(ref _deviceBytes, _deviceBytes + buffer.LengthInBytes);
        return buffer;
    }

    private void Ensure<T>(ref MemoryBuffer1D<T, Stride1D.Dense>? buffer, long length, string what)
        where T : unmanaged
    {
        if (buffer is not null && buffer.Length >= length)
        {
            return;
        }

        Free(ref buffer);
        buffer = Allocate<T>(length, what);
    }

    private void Free<T>(ref MemoryBuffer1D<T, Stride1D.Dense>? buffer)
        where T : unmanaged
    {
        if (buffer is null)
        {
            return;
        }

        Volatile.Write(ref _deviceBytes, _deviceBytes - buffer.LengthInBytes);
        DeviceMemoryLedger.Release(IsCuda, buffer.LengthInBytes);
        buffer.Dispose();
        buffer = null;
    }

    private void ReleaseScratch()
    {
        foreach (var slot in _slots)
        {
            Free(ref slot.Queries);
            Free(ref slot.Costs);
            Free(ref slot.BestCostsA);
            Free(ref slot.BestCostsB);
            Free(ref slot.BestIdsA);
            Free(ref slot.BestIdsB);
            Free(ref slot.Counts);
            Free(ref slot.Offsets);
            Free(ref slot.OutCosts);
            Free(ref slot.OutIds);
        }
    }

    /// <summary>One stream and the scratch its batches use; buffers grow on demand and are reused across calls.</summary>
    private sealed class Slot(AcceleratorStream stream)
    {
        public AcceleratorStream Stream { get; } = stream;

        public MemoryBuffer1D<float, Stride1D.Dense>? Queries;
        public MemoryBuffer1D<float, Stride1D.Dense>? Costs;
        public MemoryBuffer1D<float, Stride1D.Dense>? BestCostsA;
        public MemoryBuffer1D<float, Stride1D.Dense>? BestCostsB;
        public MemoryBuffer1D<long, Stride1D.Dense>? BestIdsA;
        public MemoryBuffer1D<long, Stride1D.Dense>? BestIdsB;
        public MemoryBuffer1D<int, Stride1D.Dense>? Counts;
        public MemoryBuffer1D<long, Stride1D.Dense>? Offsets;
        public MemoryBuffer1D<float, Stride1D.Dense>? OutCosts;
        public MemoryBuffer1D<long, Stride1D.Dense>? OutIds;

        // Which of the A/B pairs holds the last launched batch's results.
        public MemoryBuffer1D<float, Stride1D.Dense>? ResultCosts;
        public MemoryBuffer1D<long, Stride1D.Dense>? ResultIds;
    }
}
