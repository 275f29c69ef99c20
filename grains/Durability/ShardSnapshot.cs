using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains.Durability;

/// <summary>
/// What a shard's snapshot holds besides the faiss index: the caller ids (for duplicate checks on index types
/// that cannot look an id up) and the recent batch ids with the first id each was given (so a batch retried
/// after the snapshot is still recognised).
/// </summary>
internal static class ShardSnapshot
{
    /// <summary>The magic number of a snapshot frame ("OVS1").</summary>
    public const uint Magic = 0x3153564F;

    private const int BatchBytes = 16 + sizeof(long) + sizeof(int);

    /// <summary>
    /// A snapshot object as parts to write in order: the frame header and this snapshot's metadata (one new
    /// buffer), then faiss's serialized form where it lies (the view's segments, no copy). The checksum covers
    /// all of it; the view must stay open until the parts are written.
    /// </summary>
    public static IReadOnlyList<ReadOnlyMemory<byte>> Frame(long[] callerIds, IReadOnlyList<BatchReceipt> batches, FaissSerializedView faiss)
    {
        var front = new byte[checked(ChecksummedFrame.HeaderBytes + sizeof(long) + (callerIds.Length * sizeof(long)) + sizeof(int) + (batches.Count * BatchBytes) + sizeof(long))];
        var span = front.AsSpan(ChecksummedFrame.HeaderBytes);
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

        BinaryPrimitives.WriteInt64LittleEndian(span, faiss.Length);
        var hash = new XxHash64();
        hash.Append(front.AsSpan(ChecksummedFrame.HeaderBytes));
        foreach (var segment in faiss.Segments)
        {
            hash.Append(segment.Span);
        }

        ChecksummedFrame.WriteHeader(front, Magic, front.Length - ChecksummedFrame.HeaderBytes + faiss.Length, hash.GetCurrentHashAsUInt64());
        return [front, .. faiss.Segments];
    }

    /// <summary>The checksum a frame's header records, as manifests hold it.</summary>
    public static string Checksum(ReadOnlySpan<byte> frame) => Convert.ToHexStringLower(frame.Slice(12, 8));

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
}

/// <summary>A batch a shard stored: its id, the first id it was given (-1 for caller ids) and its size.</summary>
internal readonly record struct BatchReceipt(Guid BatchId, long FirstId, int Count);
