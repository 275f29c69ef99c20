using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace OrleansVectors.Grains.Durability;

/// <summary>What a write-ahead log record does to a shard.</summary>
internal enum LogRecordKind : byte
{
    /// <summary>Adds vectors under ids (training the index on them first when <see cref="LogRecord.TrainFirst"/>).</summary>
    Add = 1,

    /// <summary>Removes ids.</summary>
    Remove = 2,

    /// <summary>Trains the index on a sample.</summary>
    Train = 3,
}

/// <summary>
/// One change to a shard, as the log holds it: embeddings (never raw inputs, so replay needs no model), global ids
/// and the batch id that makes a retried add idempotent.
/// </summary>
internal sealed record LogRecord(LogRecordKind Kind, Guid BatchId, bool CallerIds, bool TrainFirst, int Dimension, long[] Ids, float[] Vectors)
{
    /// <summary>The magic number of a log frame ("OVL1").</summary>
    public const uint Magic = 0x314C564F;

    // kind (1), flags (1), batch id (16), id count (4), dimension (4), vector count (4)
    private const int FixedBytes = 30;

    /// <summary>The record as a checksummed frame, ready to append.</summary>
    public byte[] ToFrame() => Frame(Kind, BatchId, CallerIds, TrainFirst, Dimension, Ids, Vectors);

    /// <summary>
    /// A record's frame, written straight from the caller's spans: an add's vectors are copied once, into the frame,
    /// on their way to the log.
    /// </summary>
    public static byte[] Frame(LogRecordKind kind, Guid batchId, bool callerIds, bool trainFirst, int dimension, ReadOnlySpan<long> ids, ReadOnlySpan<float> vectors)
    {
        var frame = ChecksummedFrame.Allocate(FixedBytes + ((long)ids.Length * sizeof(long)) + ((long)vectors.Length * sizeof(float)));
        var span = frame.AsSpan(ChecksummedFrame.HeaderBytes);
        span[0] = (byte)kind;
        span[1] = (byte)((callerIds ? 1 : 0) | (trainFirst ? 2 : 0));
        batchId.TryWriteBytes(span[2..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[18..], ids.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span[22..], dimension);
        BinaryPrimitives.WriteInt32LittleEndian(span[26..], dimension == 0 ? 0 : vectors.Length / dimension);
        var idBytes = MemoryMarshal.AsBytes(ids);
        idBytes.CopyTo(span[FixedBytes..]);
        MemoryMarshal.AsBytes(vectors).CopyTo(span[(FixedBytes + idBytes.Length)..]);
        ChecksummedFrame.Seal(frame, Magic);
        return frame;
    }

    /// <summary>Decodes a frame's payload.</summary>
    /// <exception cref="InvalidDataException">The payload does not describe a record.</exception>
    public static LogRecord Parse(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < FixedBytes || !Enum.IsDefined((LogRecordKind)payload[0]))
        {
            throw new InvalidDataException("not a log record");
        }

        var idCount = BinaryPrimitives.ReadInt32LittleEndian(payload[18..]);
        var dimension = BinaryPrimitives.ReadInt32LittleEndian(payload[22..]);
        var vectorCount = BinaryPrimitives.ReadInt32LittleEndian(payload[26..]);
        if (idCount < 0 || dimension < 0 || vectorCount < 0
            || payload.Length != FixedBytes + ((long)idCount * sizeof(long)) + ((long)vectorCount * dimension * sizeof(float)))
        {
            throw new InvalidDataException("a log record's sizes do not match its length");
        }

        var ids = MemoryMarshal.Cast<byte, long>(payload.Slice(FixedBytes, idCount * sizeof(long))).ToArray();
        var vectors = MemoryMarshal.Cast<byte, float>(payload[(FixedBytes + (idCount * sizeof(long)))..]).ToArray();
        return new LogRecord((LogRecordKind)payload[0], new Guid(payload.Slice(2, 16)), (payload[1] & 1) != 0, (payload[1] & 2) != 0, dimension, ids, vectors);
    }

    /// <summary>
    /// The records of one log segment, in order. A torn last record (a crash mid-append) ends the segment; a whole
    /// record whose checksum fails is corruption.
    /// </summary>
    /// <exception cref="InvalidDataException">A record is corrupt; the message names the segment and the offset.</exception>
    public static List<LogRecord> ReadSegment(ReadOnlyMemory<byte> segment, string path, out bool torn)
    {
        var records = new List<LogRecord>();
        var offset = 0;
        torn = false;
        while (offset < segment.Length)
        {
            var frame = ChecksummedFrame.Read(segment[offset..], Magic);
            if (frame.Status == FrameStatus.Torn)
            {
                torn = true;
                break;
            }

            if (frame.Status == FrameStatus.Corrupt)
            {
                throw new InvalidDataException($"Log segment '{path}' is corrupt at byte {offset:N0}: its checksum does not match.");
            }

            try
            {
                records.Add(Parse(frame.Payload.Span));
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"Log segment '{path}' is corrupt at byte {offset:N0}: {e.Message}.", e);
            }

            offset += frame.Length;
        }

        return records;
    }
}
