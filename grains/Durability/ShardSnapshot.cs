using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace OrleansVectors.Grains.Durability;

/// <summary>
/// What a shard's snapshot holds besides the faiss index: the caller ids (for duplicate checks on index types
/// that cannot look an id up) and the recent batch ids with the first id each was given (so a batch retried
/// after the snapshot is still recognised).
/// </summary>
internal sealed record ShardSnapshot(long[] CallerIds, IReadOnlyList<BatchReceipt> Batches, ReadOnlyMemory<byte> Faiss)
{
    /// <summary>The magic number of a snapshot frame ("OVS1").</summary>
    public const uint Magic = 0x3153564F;

    private const int BatchBytes = 16 + sizeof(long) + sizeof(int);

    /// <summary>
    /// The bytes a frame needs before faiss's: the frame header and this snapshot's metadata. faiss serializes
    /// straight into a buffer with this much room in front (<see cref="Inference.Faiss.FaissIndex.Serialize(int)"/>),
    /// so a shard's index is copied once on its way to storage.
    /// </summary>
    public static int Headroom(int callerIds, int batches) =>
        checked(ChecksummedFrame.HeaderBytes + sizeof(long) + (callerIds * sizeof(long)) + sizeof(int) + (batches * BatchBytes) + sizeof(long));

    /// <summary>
    /// Completes a frame whose faiss bytes follow <see cref="Headroom"/> bytes: writes the metadata in front of them
    /// and seals the frame with its checksum.
    /// </summary>
    public static void Seal(byte[] frame, long[] callerIds, IReadOnlyList<BatchReceipt> batches)
    {
        var headroom = Headroom(callerIds.Length, batches.Count);
        var span = frame.AsSpan(ChecksummedFrame.HeaderBytes);
        BinaryPrimitives.WriteInt64LittleEndian(span, callerIds.Length);
        span = span[sizeof(long)..];
        MemoryMarshal.AsBytes(callerIds.AsSpan()).CopyTo(span);
        span = span[(callerIds.Length * sizeof(long))..];
        BinaryPrimitives.WriteInt32LittleEndian(span, batches.Count);
        span = span[sizeof(int)..];
        foreach (var batch in batches)
        {
            batch.BatchId.TryWriteBytes(span);
            BinaryPrimitives.WriteInt64LittleEndian(span[16..], batch.FirstId);
            BinaryPrimitives.WriteInt32LittleEndian(span[24..], batch.Count);
            span = span[BatchBytes..];
        }

        BinaryPrimitives.WriteInt64LittleEndian(span, frame.Length - headroom);
        ChecksummedFrame.Seal(frame, Magic);
    }

    /// <summary>
    /// Reads a snapshot object as it streams in: its metadata, then faiss's bytes straight into a new index (made by
    /// <paramref name="readIndex"/>, which must consume exactly them), checking the checksum over all of it before
    /// the index is handed out, and that checksum against the one the manifest recorded. Reads synchronously.
    /// </summary>
    /// <exception cref="InvalidDataException">The object is torn or corrupt; the message names it.</exception>
    public static (long[] CallerIds, List<BatchReceipt> Batches, TIndex Index) Read<TIndex>(Stream stream, string path, string checksum, Func<Stream, TIndex> readIndex)
        where TIndex : class, IDisposable
    {
        Span<byte> header = stackalloc byte[ChecksummedFrame.HeaderBytes];
        TIndex? index = null;
        try
        {
            stream.ReadExactly(header);
            var length = BinaryPrimitives.ReadInt64LittleEndian(header[4..]);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic || length < 0)
            {
                throw new InvalidDataException("not a snapshot");
            }

            if (!string.Equals(Convert.ToHexStringLower(header[12..]), checksum, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"its checksum is not the one its manifest recorded ({checksum}): another object took its place");
            }

            using var payload = new HashingReadStream(stream, length);
            Span<byte> number = stackalloc byte[sizeof(long)];
            payload.ReadFully(number);
            var callerIds = new long[checked((int)BinaryPrimitives.ReadInt64LittleEndian(number))];
            payload.ReadFully(MemoryMarshal.AsBytes(callerIds.AsSpan()));
            payload.ReadFully(number[..sizeof(int)]);
            var batches = new List<BatchReceipt>(BinaryPrimitives.ReadInt32LittleEndian(number));
            Span<byte> batch = stackalloc byte[BatchBytes];
            for (var i = batches.Capacity; i > 0; i--)
            {
                payload.ReadFully(batch);
                batches.Add(new BatchReceipt(new Guid(batch[..16]), BinaryPrimitives.ReadInt64LittleEndian(batch[16..]), BinaryPrimitives.ReadInt32LittleEndian(batch[24..])));
            }

            payload.ReadFully(number);
            if (BinaryPrimitives.ReadInt64LittleEndian(number) != payload.Remaining)
            {
                throw new InvalidDataException("lengths do not add up");
            }

            index = readIndex(payload);
            if (payload.Remaining != 0 || payload.Hash != BinaryPrimitives.ReadUInt64LittleEndian(header[12..]))
            {
                throw new InvalidDataException("its checksum does not match its content");
            }

            return (callerIds, batches, index);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or OverflowException or ArgumentOutOfRangeException or OutOfMemoryException)
        {
            index?.Dispose();
            throw new InvalidDataException($"Snapshot '{path}' is corrupt: {e.Message}.", e);
        }
    }

    /// <summary>Reads a snapshot object, checking its checksum.</summary>
    /// <exception cref="InvalidDataException">The object is torn or corrupt; the message names it.</exception>
    public static ShardSnapshot Parse(ReadOnlyMemory<byte> content, string path)
    {
        var frame = ChecksummedFrame.Read(content, Magic);
        if (frame.Status != FrameStatus.Ok || frame.Length != content.Length)
        {
            throw new InvalidDataException($"Snapshot '{path}' is corrupt: its checksum does not match its content.");
        }

        try
        {
            var payload = frame.Payload;
            var callerCount = BinaryPrimitives.ReadInt64LittleEndian(payload.Span);
            var offset = sizeof(long);
            var callerIds = MemoryMarshal.Cast<byte, long>(payload.Span.Slice(offset, checked((int)callerCount * sizeof(long)))).ToArray();
            offset += callerIds.Length * sizeof(long);
            var batchCount = BinaryPrimitives.ReadInt32LittleEndian(payload.Span[offset..]);
            offset += sizeof(int);
            var batches = new List<BatchReceipt>(batchCount);
            for (var i = 0; i < batchCount; i++, offset += BatchBytes)
            {
                var span = payload.Span.Slice(offset, BatchBytes);
                batches.Add(new BatchReceipt(new Guid(span[..16]), BinaryPrimitives.ReadInt64LittleEndian(span[16..]), BinaryPrimitives.ReadInt32LittleEndian(span[24..])));
            }

            var faissLength = BinaryPrimitives.ReadInt64LittleEndian(payload.Span[offset..]);
            offset += sizeof(long);
            return faissLength != payload.Length - offset
                ? throw new InvalidDataException("lengths do not add up")
                : new ShardSnapshot(callerIds, batches, payload[offset..]);
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or OverflowException or InvalidDataException)
        {
            throw new InvalidDataException($"Snapshot '{path}' is corrupt: {e.Message}.", e);
        }
    }
}

/// <summary>A batch a shard stored: its id, the first id it was given (-1 for caller ids) and its size.</summary>
internal readonly record struct BatchReceipt(Guid BatchId, long FirstId, int Count);
