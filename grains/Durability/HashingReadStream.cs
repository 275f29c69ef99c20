using System.IO.Hashing;

namespace OrleansVectors.Grains.Durability;

/// <summary>
/// Reads at most <c>length</c> bytes of an inner stream, hashing them (XxHash64) on the way: a checksum is
/// verified while the bytes stream into their destination, without a buffer of them all. Read-only, forward-only.
/// </summary>
internal sealed class HashingReadStream(Stream inner, long length) : Stream
{
    private readonly XxHash64 _hash = new();
    private readonly long _length = length;
    private long _remaining = length;

    /// <summary>Bytes of the limit not read yet.</summary>
    public long Remaining => _remaining;

    /// <summary>The hash of the bytes read so far.</summary>
    public ulong Hash => _hash.GetCurrentHashAsUInt64();

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <inheritdoc/>
    public override long Length => _length;

    /// <inheritdoc/>
    public override long Position
    {
        get => _length - _remaining;
        set => throw new NotSupportedException();
    }

    /// <summary>Reads exactly <paramref name="buffer"/>'s length, or throws at the end of the limit or the stream.</summary>
    /// <exception cref="EndOfStreamException">Fewer bytes are left.</exception>
    public void ReadFully(Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var read = Read(buffer);
            if (read == 0)
            {
                throw new EndOfStreamException($"{buffer.Length} more bytes were expected.");
            }

            buffer = buffer[read..];
        }
    }

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer)
    {
        if (buffer.Length > _remaining)
        {
            buffer = buffer[..(int)_remaining];
        }

        var read = inner.Read(buffer);
        _hash.Append(buffer[..read]);
        _remaining -= read;
        return read;
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
