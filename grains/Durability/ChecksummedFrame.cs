using System.Buffers.Binary;
using System.IO.Hashing;

namespace OrleansVectors.Grains.Durability;

/// <summary>
/// The framing of every durable record and snapshot: a magic number, the payload's length and its XxHash64,
/// then the payload. A reader tells a torn tail (fewer bytes than the header promises: a crash mid-write) from
/// corruption (all bytes there, hash wrong).
/// </summary>
internal static class ChecksummedFrame
{
    /// <summary>Bytes before the payload: magic (4), length (8), hash (8).</summary>
    public const int HeaderBytes = 20;

    /// <summary>Writes the header of <paramref name="payload"/> into <paramref name="destination"/>.</summary>
    public static void WriteHeader(Span<byte> destination, uint magic, ReadOnlySpan<byte> payload) =>
        WriteHeader(destination, magic, payload.Length, XxHash64.HashToUInt64(payload));

    /// <summary>Writes a frame header for a payload of <paramref name="length"/> bytes whose XxHash64 is <paramref name="hash"/>.</summary>
    public static void WriteHeader(Span<byte> destination, uint magic, long length, ulong hash)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, magic);
        BinaryPrimitives.WriteInt64LittleEndian(destination[4..], length);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[12..], hash);
    }

    /// <summary>A frame around <paramref name="payloadLength"/> bytes that the caller fills, then seals with <see cref="Seal"/>.</summary>
    public static byte[] Allocate(long payloadLength) => new byte[checked(HeaderBytes + payloadLength)];

    /// <summary>Writes the header of a frame made by <see cref="Allocate"/> whose payload is filled in.</summary>
    public static void Seal(Span<byte> frame, uint magic) => WriteHeader(frame, magic, frame[HeaderBytes..]);

    /// <summary>The payload of a frame at the start of <paramref name="data"/>, what happened reading it, and the frame's length.</summary>
    public static FrameRead Read(ReadOnlyMemory<byte> data, uint magic)
    {
        var span = data.Span;
        if (span.Length < HeaderBytes)
        {
            return new FrameRead(FrameStatus.Torn, default, 0);
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(span) != magic)
        {
            return new FrameRead(FrameStatus.Corrupt, default, 0);
        }

        var length = BinaryPrimitives.ReadInt64LittleEndian(span[4..]);
        if (length < 0)
        {
            return new FrameRead(FrameStatus.Corrupt, default, 0);
        }

        if (length > span.Length - HeaderBytes)
        {
            return new FrameRead(FrameStatus.Torn, default, 0);
        }

        var payload = data.Slice(HeaderBytes, (int)length);
        return XxHash64.HashToUInt64(payload.Span) == BinaryPrimitives.ReadUInt64LittleEndian(span[12..])
            ? new FrameRead(FrameStatus.Ok, payload, HeaderBytes + (int)length)
            : new FrameRead(FrameStatus.Corrupt, default, 0);
    }
}

/// <summary>What reading a frame found.</summary>
internal enum FrameStatus
{
    /// <summary>A whole frame whose hash matches.</summary>
    Ok,

    /// <summary>Fewer bytes than a whole frame: the end of an interrupted write.</summary>
    Torn,

    /// <summary>A whole frame whose magic, length or hash is wrong.</summary>
    Corrupt,
}

/// <summary>A frame's status, payload and length in bytes.</summary>
internal readonly record struct FrameRead(FrameStatus Status, ReadOnlyMemory<byte> Payload, int Length);
