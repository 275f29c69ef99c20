using System.Buffers;

namespace OrleansVectors.Inference.Faiss;

/// <summary>
/// An index's serialized form as it lies in memory, from <see cref="FaissIndex.OpenSerializedView"/>: small pieces
/// copied, large ones (the vectors, the ids) faiss's own arrays. Writing <see cref="Segments"/> out in order
/// gives the bytes <see cref="FaissIndex.Serialize()"/> makes, without a copy of the index in between. The index
/// cannot change until the view is disposed; the segments must not be used after that.
/// </summary>
public sealed class FaissSerializedView : IDisposable
{
    private readonly FaissIndex _index;
    private int _disposed;

    internal FaissSerializedView(FaissIndex index, IReadOnlyList<ReadOnlyMemory<byte>> segments)
    {
        _index = index;
        Segments = segments;
        Length = segments.Sum(s => (long)s.Length);
    }

    /// <summary>The serialized form, in order.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Segments { get; }

    /// <summary>The serialized form's length in bytes.</summary>
    public long Length { get; }

    /// <summary>Unpins the index.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _index.Unpin();
        }
    }
}

/// <summary>Gathers what faiss writes: runs of small pieces copied together, large pieces kept where they lie.</summary>
internal sealed unsafe class SegmentCollector
{
    /// <summary>Pieces from this size on are referenced, not copied.</summary>
    private const int ReferenceFrom = 64 << 10;

    private readonly List<ReadOnlyMemory<byte>> _segments = [];
    private readonly ArrayBufferWriter<byte> _small = new();

    public Exception? Failure { get; set; }

    public void Add(byte* data, long size)
    {
        if (size < ReferenceFrom)
        {
            new ReadOnlySpan<byte>(data, (int)size).CopyTo(_small.GetSpan((int)size));
            _small.Advance((int)size);
            return;
        }

        FlushSmall();
        for (long offset = 0; offset < size; offset += int.MaxValue)
        {
            var length = (int)Math.Min(int.MaxValue, size - offset);
            _segments.Add(new UnownedMemory(data + offset, length).Memory);
        }
    }

    public List<ReadOnlyMemory<byte>> Finish()
    {
        FlushSmall();
        return _segments;
    }

    private void FlushSmall()
    {
        if (_small.WrittenCount > 0)
        {
            _segments.Add(_small.WrittenSpan.ToArray());
            _small.Clear();
        }
    }

    /// <summary>Memory owned by faiss, lent for the life of a view.</summary>
    private sealed class UnownedMemory(byte* data, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new(data, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(data + elementIndex);

        public override void Unpin()
        {
            // native memory never moves
        }

        protected override void Dispose(bool disposing)
        {
            // faiss owns the memory
        }
    }
}
