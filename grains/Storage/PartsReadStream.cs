namespace OrleansVectors.Grains.Storage;

/// <summary>
/// A read-only, seekable stream over buffers in order, as if they were one: an upload reads them where they lie
/// instead of from a concatenated copy.
/// </summary>
internal sealed class PartsReadStream : Stream
{
    private readonly IReadOnlyList<ReadOnlyMemory<byte>> _parts;
    private readonly long[] _starts;
    private long _position;

    public PartsReadStream(IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        _parts = parts;
        _starts = new long[parts.Count + 1];
        for (var i = 0; i < parts.Count; i++)
        {
            _starts[i + 1] = _starts[i] + parts[i].Length;
        }
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _starts[^1];

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var copied = 0;
        while (copied < buffer.Length && _position < Length)
        {
            // the part holding _position: the last start at or before it
            var part = Array.BinarySearch(_starts, _position);
            part = part >= 0 ? part : ~part - 1;
            while (_parts[part].Length == 0 || _starts[part + 1] <= _position)
            {
                part++;
            }

            var source = _parts[part].Span[(int)(_position - _starts[part])..];
            var n = Math.Min(source.Length, buffer.Length - copied);
            source[..n].CopyTo(buffer[copied..]);
            copied += n;
            _position += n;
        }

        return copied;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        SeekOrigin.End => Length + offset,
        _ => throw new ArgumentOutOfRangeException(nameof(origin)),
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
