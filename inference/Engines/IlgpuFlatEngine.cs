using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Inference.Engines;

/// <summary>Settings of an <see cref="IlgpuFlatEngine"/>.</summary>
public sealed class IlgpuFlatEngineOptions
{
    /// <summary>The accelerator to run on. Default <see cref="IlgpuDevicePreference.Auto"/>.</summary>
    public IlgpuDevicePreference Device { get; init; } = IlgpuDevicePreference.Auto;

    /// <summary>
    /// Device bytes the engine may hold: stored vectors and ids (at their grown capacity) plus search scratch.
    /// 0 (the default) means 80% of the device's memory (of the memory available to the process for the CPU
    /// accelerator). Must not be negative.
    /// </summary>
    public long MemoryBudgetBytes { get; init; }

    /// <summary>
    /// Queries per device pass, at least 1 (default 1024). Larger batches need more scratch; the engine shrinks a
    /// batch to fit the budget. Batches alternate between two streams where the accelerator is a GPU.
    /// </summary>
    public int QueryBatch { get; init; } = 1024;

    /// <summary>Stored rows per distance tile; 0 chooses from the batch size. Tests set it to force several chunks.</summary>
    internal int ChunkRows { get; init; }

    /// <summary>Range hits fetched per device pass at most; 0 chooses from the budget. Tests set it to force several passes.</summary>
    internal long RangeResultRows { get; init; }

    /// <summary>Threads per group on the CPU accelerator (default 1). Tests raise it so the kernels' barriers and atomics are exercised.</summary>
    internal int CpuThreadsPerGroup { get; init; } = 1;
}

/// <summary>
/// Exact (Flat) k-NN and range search over vectors mirrored in accelerator memory, for squared L2 or inner
/// product, with faiss's result conventions: L2 distances ascending, inner products descending, ties by smaller
/// id, k past the stored count padded with label -1.
/// </summary>
/// <remarks>
/// Thread-safety: <see cref="Search"/> and <see cref="RangeSearch"/> may be called concurrently; they share the
/// device's streams, so they run one at a time inside. <see cref="Append"/>, <see cref="Clear"/> and
/// <see cref="Dispose"/> must not run concurrently with anything else.
/// </remarks>
public sealed class IlgpuFlatEngine : IDisposable
{
    /// <summary>The largest k <see cref="Search"/> accepts (the selected rows are sorted in shared memory).</summary>
    public const int MaxK = 2048;

    private const int MinChunk = 256;
    private const int InitialCapacity = 1024;

    private static readonly Lazy<bool> CudaPresent = new(DetectCuda);

    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly Lock _gate = new();
    private readonly int _innerProduct;
    private readonly int _queryBatch;
    private readonly int _chunkRows;
    private readonly long _rangeResultRows;
    private readonly int _groupSize;
    private readonly long _chunkElements;
    private readonly Slot[] _slots;
    private readonly Action<AcceleratorStream, KernelConfig, DistanceArgs> _distances;
    private readonly Action<AcceleratorStream, KernelConfig, SelectArgs> _select;
    private readonly Action<AcceleratorStream, KernelConfig, FinishArgs> _finish;
    private readonly Action<AcceleratorStream, KernelConfig, RangeArgs> _countWithin;
    private readonly Action<AcceleratorStream, KernelConfig, RangeArgs> _fillWithin;
    private MemoryBuffer1D<float, Stride1D.Dense>? _vectors;
    private MemoryBuffer1D<long, Stride1D.Dense>? _ids;
    private long _capacity;
    private long _count;
    private long _deviceBytes;
    private bool _disposed;

    private IlgpuFlatEngine(Context context, Accelerator accelerator, int dimension, bool innerProduct, IlgpuFlatEngineOptions options)
    {
        _context = context;
        _accelerator = accelerator;
        Dimension = dimension;
        InnerProduct = innerProduct;
        _innerProduct = innerProduct ? 1 : 0;
        _queryBatch = options.QueryBatch;
        _chunkRows = options.ChunkRows;
        _rangeResultRows = options.RangeResultRows;
        IsCuda = accelerator.AcceleratorType == AcceleratorType.Cuda;
        DeviceName = IsCuda ? accelerator.Name : "CPU accelerator";
        MemoryBudgetBytes = options.MemoryBudgetBytes > 0 ? options.MemoryBudgetBytes : DefaultBudget(accelerator);

        // The CPU accelerator runs a group's threads as OS threads and pays ~100 µs per barrier on a busy machine;
        // one thread per group makes barriers free there. Tests raise it to exercise the kernels' cooperation.
        _groupSize = IsCuda ? Math.Min(256, accelerator.MaxNumThreadsPerGroup) : Math.Min(options.CpuThreadsPerGroup, accelerator.MaxNumThreadsPerGroup);

        // The cost tile of one batch: big enough to keep a GPU busy, small beside the vectors themselves.
        _chunkElements = IsCuda ? 64L << 20 : 4L << 20;

        // Two streams let one batch's kernels run while the previous batch's results come back; the CPU
        // accelerator runs everything synchronously, so a second stream would only double the scratch.
        _slots = new Slot[IsCuda ? 2 : 1];
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new Slot(i == 0 ? accelerator.DefaultStream : accelerator.CreateStream());
        }

        _distances = accelerator.LoadKernel<DistanceArgs>(IlgpuKernels.Distances);
        _select = accelerator.LoadKernel<SelectArgs>(IlgpuKernels.Select);
        _finish = accelerator.LoadKernel<FinishArgs>(IlgpuKernels.SortAndFinish);
        _countWithin = accelerator.LoadKernel<RangeArgs>(IlgpuKernels.CountWithin);
        _fillWithin = accelerator.LoadKernel<RangeArgs>(IlgpuKernels.FillWithin);
    }

    /// <summary>Whether a CUDA device is present and usable through ILGPU. Probed once per process.</summary>
    public static bool IsCudaAvailable => CudaPresent.Value;

    /// <summary>The accelerator's name: "CPU accelerator", or the CUDA device's name.</summary>
    public string DeviceName { get; }

    /// <summary>Whether the engine runs on a CUDA device.</summary>
    public bool IsCuda { get; }

    /// <summary>Values per vector, at least 1.</summary>
    public int Dimension { get; }

    /// <summary>True for inner product (larger is closer), false for squared L2 (smaller is closer).</summary>
    public bool InnerProduct { get; }

    /// <summary>Vectors stored.</summary>
    public long Count => _count;

    /// <summary>Bytes of device memory the engine holds now: vectors and ids at their capacity, plus cached search scratch.</summary>
    public long DeviceBytes => Volatile.Read(ref _deviceBytes);

    /// <summary>The most device bytes the engine will hold.</summary>
    public long MemoryBudgetBytes { get; }

    /// <summary>Creates an engine on the accelerator the options ask for.</summary>
    /// <param name="dimension">Values per vector, at least 1.</param>
    /// <param name="innerProduct">True for inner product, false for squared L2.</param>
    /// <param name="options">Device, budget and batch settings; null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">The dimension is below 1, the budget negative or the batch below 1.</exception>
    /// <exception cref="InvalidOperationException">
    /// <see cref="IlgpuDevicePreference.Cuda"/> or <see cref="IlgpuDevicePreference.Auto"/> was asked for and no CUDA
    /// device exists (use <see cref="TryCreate"/> to get null instead), or the accelerator could not be started.
    /// </exception>
    public static IlgpuFlatEngine Create(int dimension, bool innerProduct, IlgpuFlatEngineOptions? options = null)
    {
        options ??= new IlgpuFlatEngineOptions();
        Validate(dimension, options);
        var cuda = options.Device != IlgpuDevicePreference.Cpu;
        if (cuda && !IsCudaAvailable)
        {
            throw new InvalidOperationException(
                $"The GPU engine was asked for a CUDA device ({options.Device}), but ILGPU finds none (no NVIDIA GPU or driver); IlgpuDevicePreference.Cpu runs the same kernels on the CPU.");
        }

        return Start(dimension, innerProduct, options, cuda);
    }

    /// <summary>
    /// Creates an engine, or returns null when the options ask for CUDA (<see cref="IlgpuDevicePreference.Cuda"/>
    /// or <see cref="IlgpuDevicePreference.Auto"/>) and there is no CUDA device. <see cref="IlgpuDevicePreference.Cpu"/>
    /// always gives an engine.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="Create"/>.</exception>
    public static IlgpuFlatEngine? TryCreate(int dimension, bool innerProduct, IlgpuFlatEngineOptions? options = null)
    {
        options ??= new IlgpuFlatEngineOptions();
        Validate(dimension, options);
        if (options.Device != IlgpuDevicePreference.Cpu && !IsCudaAvailable)
        {
            return null;
        }

        return Start(dimension, innerProduct, options, options.Device != IlgpuDevicePreference.Cpu);
    }

    /// <summary>Appends rows after those stored, in order.</summary>
    /// <param name="vectors">Row-major vectors, <c>ids.Length × Dimension</c> finite values.</param>
    /// <param name="ids">One label per row, reported by searches; ties rank the smaller id first.</param>
    /// <exception cref="ArgumentException">The lengths disagree, the input is empty, or a value is NaN or infinite.</exception>
    /// <exception cref="DeviceMemoryBudgetExceededException">The grown storage would not fit the budget; nothing changed.</exception>
    /// <exception cref="InvalidOperationException">The device refused an allocation within the budget; nothing changed.</exception>
    /// <exception cref="ObjectDisposedException">The engine was disposed.</exception>
    public void Append(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((long)ids.Length * Dimension != vectors.Length)
        {
            throw new ArgumentException(
                $"{ids.Length} ids need {(long)ids.Length * Dimension} values of dimension {Dimension}; the vectors hold {vectors.Length}.",
                nameof(vectors));
        }

        var n = VectorValidation.RowCount(vectors, Dimension);
        lock (_gate)
        {
            // A CUDA context is current per thread; callers arrive on any thread.
            _accelerator.Bind();
            Reserve(_count + n);
            var stream = _accelerator.DefaultStream;
            _vectors!.View.SubView(_count * Dimension, vectors.Length).CopyFromCPU(stream, vectors);
            _ids!.View.SubView(_count, n).CopyFromCPU(stream, ids);
            stream.Synchronize();
            _count += n;
        }
    }

    /// <summary>
    /// Throws, changing nothing, when <paramref name="rows"/> vectors would not fit the budget: the check an owner runs
    /// before it commits a change the engine must then follow.
    /// </summary>
    /// <exception cref="DeviceMemoryBudgetExceededException">The rows' storage alone passes the budget.</exception>
    public void ThrowIfOverBudget(long rows)
    {
        var needed = rows * RowBytes;
        if (needed > MemoryBudgetBytes)
        {
            throw new DeviceMemoryBudgetExceededException(needed, MemoryBudgetBytes, $"Storing {rows:N0} vectors of dimension {Dimension}");
        }
    }

    /// <summary>Removes every vector and frees the device memory. Not concurrent with anything else.</summary>
    /// <exception cref="ObjectDisposedException">The engine was disposed.</exception>
    public void Clear()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_gate)
        {
            _accelerator.Bind();
            ReleaseScratch();
            Free(ref _vectors);
            Free(ref _ids);
            _capacity = 0;
            _count = 0;
        }
    }

    /// <summary>
    /// The <paramref name="k"/> nearest stored vectors of each query, best first: ascending squared L2 distance or
    /// descending inner product, ties by smaller id. Past <see cref="Count"/> rows are padded with label -1 and
    /// distance float.MaxValue (L2) or -float.MaxValue (inner product), as faiss 1.7.3 pads.
    /// </summary>
    /// <param name="queries">Row-major queries: n = length / <see cref="Dimension"/> rows of finite values, n ≥ 1.</param>
    /// <param name="k">Neighbours per query, 1 to <see cref="MaxK"/>.</param>
    /// <param name="distances">Receives n × k distances, row-major; must hold at least that many.</param>
    /// <param name="labels">Receives n × k ids, row-major; must hold at least that many.</param>
    /// <exception cref="ArgumentException">Empty, ragged or non-finite queries, or a buffer too small.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is outside 1 … <see cref="MaxK"/>.</exception>
    /// <exception cref="DeviceMemoryBudgetExceededException">Not even one query's scratch fits the budget beside the vectors.</exception>
    /// <exception cref="ObjectDisposedException">The engine was disposed.</exception>
    public void Search(ReadOnlySpan<float> queries, int k, Span<float> distances, Span<long> labels)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var n = VectorValidation.RowCount(queries, Dimension);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, MaxK);
        var needed = (long)n * k;
        if (distances.Length < needed)
        {
            throw new ArgumentException($"The distances buffer holds {distances.Length} values; {n} queries × k={k} need {needed}.", nameof(distances));
        }

        if (labels.Length < needed)
        {
            throw new ArgumentException($"The labels buffer holds {labels.Length} values; {n} queries × k={k} need {needed}.", nameof(labels));
        }

        lock (_gate)
        {
            _accelerator.Bind();
            if (_count == 0)
            {
                distances[..(int)needed].Fill(InnerProduct ? -float.MaxValue : float.MaxValue);
                labels[..(int)needed].Fill(-1);
                return;
            }

            var (batch, chunk, slots) = PlanKnn(n, k);
            var batches = (n + batch - 1) / batch;
            for (var b = 0; b <= batches; b++)
            {
                if (b < batches)
                {
                    LaunchKnn(_slots[b % slots], queries, b * batch, Math.Min(batch, n - (b * batch)), k, chunk);
                }

                // With two streams, batch b's kernels are queued before batch b-1's results are awaited.
                var done = slots == 2 ? b - 1 : b;
                if (done >= 0 && done < batches)
                {
                    var first = done * batch;
                    var rows = Math.Min(batch, n - first);
                    var slot = _slots[done % slots];
                    slot.ResultCosts!.View.SubView(0, (long)rows * k).CopyToCPU(slot.Stream, distances.Slice(first * k, rows * k));
                    slot.ResultIds!.View.SubView(0, (long)rows * k).CopyToCPU(slot.Stream, labels.Slice(first * k, rows * k));
                    slot.Stream.Synchronize();
                }
            }
        }
    }

    /// <summary>
    /// Every stored vector within <paramref name="radius"/> of each query, with faiss's semantics: squared L2
    /// distance strictly below the radius, or inner product strictly above it. Each query's hits are ordered as
    /// <see cref="Search"/> orders them.
    /// </summary>
    /// <param name="queries">Row-major queries: n = length / <see cref="Dimension"/> rows of finite values, n ≥ 1.</param>
    /// <param name="radius">A finite threshold in the metric's units.</param>
    /// <returns>
    /// Offsets (n + 1 entries; query i's hits are at Offsets[i] … Offsets[i+1]-1), and the hits' distances and ids.
    /// </returns>
    /// <exception cref="ArgumentException">Empty, ragged or non-finite queries, or a NaN or infinite radius.</exception>
    /// <exception cref="DeviceMemoryBudgetExceededException">Not even one query's scratch fits the budget beside the vectors.</exception>
    /// <exception cref="ObjectDisposedException">The engine was disposed.</exception>
    public (long[] Offsets, float[] Distances, long[] Labels) RangeSearch(ReadOnlySpan<float> queries, float radius)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var n = VectorValidation.RowCount(queries, Dimension);
        if (!float.IsFinite(radius))
        {
            throw new ArgumentException($"The radius must be a finite number; got {radius}.", nameof(radius));
        }

        var hits = new List<(float Cost, long Id)>?[n];
        lock (_gate)
        {
            _accelerator.Bind();
            if (_count > 0)
            {
                RangeCore(queries, n, InnerProduct ? -radius : radius, hits);
            }
        }

        return Assemble(hits);
    }

    /// <summary>Frees the device memory and the accelerator. Not concurrent with anything else.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        lock (_gate)
        {
            _accelerator.Bind();
            _disposed = true;
            ReleaseScratch();
            Free(ref _vectors);
            Free(ref _ids);
            for (var i = 1; i < _slots.Length; i++)
            {
                _slots[i].Stream.Dispose();
            }

            _accelerator.Dispose();
            _context.Dispose();
        }
    }

    private static void Validate(int dimension, IlgpuFlatEngineOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MemoryBudgetBytes, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.QueryBatch, 1, nameof(options));
    }

    private static IlgpuFlatEngine Start(int dimension, bool innerProduct, IlgpuFlatEngineOptions options, bool cuda)
    {
        Context? context = null;
        Accelerator? accelerator = null;
        try
        {
            if (cuda)
            {
                context = Context.Create(builder => builder.Cuda());
                accelerator = context.GetCudaDevice(0).CreateAccelerator(context);
            }
            else
            {
                // One multiprocessor: groups run one after another, so the engine takes about one core of a machine
                // that serves other work too.
                var device = new CPUDevice(Math.Max(2, options.CpuThreadsPerGroup), 1, 1);
                context = Context.Create(builder => builder.CPU(device));
                accelerator = context.GetCPUDevice(0).CreateAccelerator(context);
            }

            return new IlgpuFlatEngine(context, accelerator, dimension, innerProduct, options);
        }
        catch (Exception e) when (e is AcceleratorException or InvalidOperationException or NotSupportedException or DllNotFoundException)
        {
            accelerator?.Dispose();
            context?.Dispose();
            throw new InvalidOperationException($"The {(cuda ? "CUDA" : "CPU")} accelerator could not be started: {e.Message}", e);
        }
    }

    private static bool DetectCuda()
    {
        try
        {
            using var context = Context.Create(builder => builder.Cuda());
            return context.GetCudaDevices().Count > 0;
        }
        catch (Exception e) when (e is AcceleratorException or DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or InvalidOperationException or NotSupportedException)
        {
            return false;
        }
    }

    private static long DefaultBudget(Accelerator accelerator)
    {
        var memory = accelerator.AcceleratorType == AcceleratorType.CPU
            ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes
            : accelerator.MemorySize;
        return (long)(memory * 0.8);
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
        float[]? hostVectors = null;
        long[]? hostIds = null;
        if (staged && _count > 0)
        {
            hostVectors = new float[_count * Dimension];
            hostIds = new long[_count];
            _vectors!.View.SubView(0, hostVectors.LongLength).CopyToCPU(hostVectors);
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
                    vectors.View.SubView(0, hostVectors!.LongLength).CopyFromCPU(hostVectors);
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
    private void RestoreStaged(float[] hostVectors, long[] hostIds)
    {
        try
        {
            _vectors = Allocate<float>(_capacity * Dimension, "Vector storage");
            _ids = Allocate<long>(_capacity, "Id storage");
            _vectors.View.SubView(0, hostVectors.LongLength).CopyFromCPU(hostVectors);
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

    private void LaunchKnn(Slot slot, ReadOnlySpan<float> queries, int first, int rows, int k, int chunk)
    {
        var stream = slot.Stream;
        slot.Queries!.View.SubView(0, (long)rows * Dimension).CopyFromCPU(stream, queries.Slice(first * Dimension, rows * Dimension));
        var previous = 0;
        var (prevCosts, prevIds, nextCosts, nextIds) = (slot.BestCostsB!, slot.BestIdsB!, slot.BestCostsA!, slot.BestIdsA!);
        for (long start = 0; start < _count; start += chunk)
        {
            var count = (int)Math.Min(chunk, _count - start);
            _distances(
                stream,
                DistanceGrid(count, rows),
                new DistanceArgs(slot.Queries.View, _vectors!.View, slot.Costs!.View, rows, Dimension, start, count, chunk, _innerProduct));
            _select(
                stream,
                new KernelConfig(rows, _groupSize),
                new SelectArgs(slot.Costs.View, chunk, start, count, _ids!.View, prevCosts.View, prevIds.View, previous, nextCosts.View, nextIds.View, k));
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
                _distances(
                    stream,
                    DistanceGrid(count, rows),
                    new DistanceArgs(slot.Queries.View, _vectors!.View, slot.Costs!.View, rows, Dimension, start, count, chunk, _innerProduct));
                var args = new RangeArgs(
                    slot.Costs.View, chunk, start, count, _ids!.View, threshold, 0, slot.Counts!.View, slot.Offsets!.View, slot.OutCosts.View, slot.OutIds!.View);
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

    private MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long length, string what)
        where T : unmanaged
    {
        var bytes = Math.Max(1, length) * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (_deviceBytes + bytes > MemoryBudgetBytes)
        {
            throw new DeviceMemoryBudgetExceededException(_deviceBytes + bytes, MemoryBudgetBytes, what);
        }

        MemoryBuffer1D<T, Stride1D.Dense> buffer;
        try
        {
            buffer = _accelerator.Allocate1D<T>(Math.Max(1, length));
        }
        catch (Exception e) when (e is AcceleratorException or OutOfMemoryException or ArgumentOutOfRangeException)
        {
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
