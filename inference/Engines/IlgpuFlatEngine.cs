using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace OrleansVectors.Inference.Engines;

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
public sealed partial class IlgpuFlatEngine : IDisposable
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
    private readonly long _deviceLimit;
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
        _deviceLimit = DefaultBudget(accelerator);
        MemoryBudgetBytes = options.MemoryBudgetBytes > 0 ? options.MemoryBudgetBytes : _deviceLimit;

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

        // the distance grid's second dimension counts query tiles, and grids stop at 65,535 there
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.QueryBatch, 65_535 * IlgpuKernels.TileQueries, nameof(options));
    }

    private static IlgpuFlatEngine Start(int dimension, bool innerProduct, IlgpuFlatEngineOptions options, bool cuda)
    {
        Context? context = null;
        Accelerator? accelerator = null;
        try
        {
            if (cuda)
            {
                // blocking sync: a silo's host threads sleep while the device works instead of spinning on a core
                context = Context.Create(builder => builder.Cuda());
                accelerator = context.GetCudaDevice(0).CreateCudaAccelerator(context, CudaAcceleratorFlags.ScheduleBlockingSync);
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
}
