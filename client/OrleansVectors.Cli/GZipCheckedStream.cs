using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace OrleansVectors.Cli;

/// <summary>
/// Decompresses a .gz file and, at its end, checks what came out against the file's trailer (CRC-32 and length).
/// .NET's GZipStream ends quietly at a truncated file's last whole block, so a cut-off download would otherwise read
/// as a shorter input. Single-member files (what gzip writes) only.
/// </summary>
internal sealed class GZipCheckedStream(FileStream file, string path) : Stream
{
    private readonly GZipStream _inner = new(file, CompressionMode.Decompress, leaveOpen: true);
    private readonly Crc32 _crc = new();
    private long _length;
    private bool _checked;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n;
        try
        {
            n = _inner.Read(buffer);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: not a valid gzip file ({e.Message}).", e);
        }

        if (n > 0)
        {
            _crc.Append(buffer[..n]);
            _length += n;
        }
        else if (buffer.Length > 0 && !_checked)
        {
            _checked = true;
            CheckTrailer();
        }

        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private void CheckTrailer()
    {
        Span<byte> trailer = stackalloc byte[8];
        if (file.Length < 18)
        {
            throw new InvalidDataException($"{path}: {file.Length} bytes is too short for a gzip file: truncated.");
        }

        file.Seek(-8, SeekOrigin.End);
        file.ReadExactly(trailer);
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        if (crc != _crc.GetCurrentHashAsUInt32() || size != (uint)_length)
        {
            throw new InvalidDataException(
                $"{path}: truncated or corrupt: {_length:N0} bytes decompressed do not match the file's gzip trailer (CRC-32 and length). Nothing was read from it.");
        }
    }
}
