using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using static OrleansVectors.Inference.Faiss.NativeFaissMethods;

namespace OrleansVectors.Inference.Faiss;

/// <summary>
/// Serialization in faiss's own format, so bytes and files interoperate with python's
/// <c>faiss.serialize_index</c> / <c>faiss.write_index</c>. The format carries no checksum, and faiss 1.7.3 checks
/// structure, not consistency: truncated or garbled bytes are rejected, but bytes crafted to load with
/// out-of-range graph links or list ids can crash a later search. Read only indexes you (or faiss) wrote, and
/// keep integrity checks (checksums) where you store them.
/// </summary>
public sealed partial class FaissIndex
{
    /// <summary>Serializes the index into a new byte array (faiss's format).</summary>
    /// <exception cref="ObjectDisposedException">The index was disposed.</exception>
    public byte[] Serialize()
    {
        using (EnterRead())
        {
            // copied while the read lock holds the index still: no pin, so changes wait rather than fail
            var segments = CollectSegments();
            var bytes = GC.AllocateUninitializedArray<byte>(checked((int)segments.Sum(s => (long)s.Length)));
            var position = 0;
            foreach (var segment in segments)
            {
                segment.Span.CopyTo(bytes.AsSpan(position));
                position += segment.Length;
            }

            return bytes;
        }
    }

    /// <summary>
    /// The index's serialized form (faiss's format, the bytes <see cref="Serialize()"/> makes) without a copy of it:
    /// the large pieces are faiss's own arrays. The view pins the index: until it is disposed, the index cannot
    /// change (<see cref="Add(ReadOnlySpan{float})"/> and the other mutations throw <see cref="InvalidOperationException"/>),
    /// and disposing the index frees its memory only once the view is disposed. Searches go on meanwhile.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The index was disposed.</exception>
    public FaissSerializedView OpenSerializedView()
    {
        using (EnterRead())
        {
            var segments = CollectSegments();
            Interlocked.Increment(ref _pins);
            return new FaissSerializedView(this, segments);
        }
    }

    /// <summary>The pieces faiss writes, in order, where they lie; valid while the index does not change (the caller holds the read lock).</summary>
    private unsafe List<ReadOnlyMemory<byte>> CollectSegments()
    {
        var collector = new SegmentCollector();
        var context = GCHandle.Alloc(collector);
        try
        {
            var status = IndexWriteSegments(_handle, &CollectSegment, GCHandle.ToIntPtr(context));
            if (collector.Failure is { } failure)
            {
                ExceptionDispatchInfo.Throw(failure);
            }

            status.ThrowIfFailed();
            return collector.Finish();
        }
        finally
        {
            context.Free();
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe long CollectSegment(nint context, byte* data, long size)
    {
        var collector = (SegmentCollector)GCHandle.FromIntPtr(context).Target!;
        try
        {
            collector.Add(data, size);
            return 0;
        }
        catch (Exception e)
        {
            // never across the native frames: kept, and rethrown once faiss has returned
            collector.Failure = e;
            return -1;
        }
    }

    /// <summary>Reads an index from bytes made by <see cref="Serialize()"/> or python's <c>faiss.serialize_index</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="bytes"/> is empty.</exception>
    /// <exception cref="InvalidDataException">The bytes are not a complete serialized faiss index.</exception>
    public static unsafe FaissIndex Deserialize(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            throw new ArgumentException("No bytes to deserialize.", nameof(bytes));
        }

        FaissStatus status;
        FaissIndexHandle handle;
        fixed (byte* data = bytes)
        {
            status = IndexDeserialize(data, bytes.Length, out handle);
        }

        if (status != FaissStatus.Ok)
        {
            handle.Dispose();
            var failure = FaissStatusExtensions.Failure(status);
            throw new InvalidDataException($"The {bytes.Length} bytes are not a serialized faiss index: {failure.Message}", failure);
        }

        return new FaissIndex(handle, description: null);
    }

    /// <summary>
    /// Reads an index (faiss's format) from <paramref name="stream"/>, consuming exactly its bytes, straight into
    /// faiss's memory: no buffer of the whole index is made. Reads synchronously.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not a complete serialized faiss index.</exception>
    /// <exception cref="IOException">Reading the stream failed (the stream's own exception, rethrown).</exception>
    public static unsafe FaissIndex ReadFrom(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var reader = new StreamReadContext(stream);
        var context = GCHandle.Alloc(reader);
        try
        {
            var status = IndexReadStream(&ReadFromStream, GCHandle.ToIntPtr(context), out var handle);
            if (reader.Failure is { } failure)
            {
                handle.Dispose();
                ExceptionDispatchInfo.Throw(failure);
            }

            if (status != FaissStatus.Ok)
            {
                handle.Dispose();
                var error = FaissStatusExtensions.Failure(status);
                throw new InvalidDataException($"The stream does not hold a serialized faiss index: {error.Message}", error);
            }

            return new FaissIndex(handle, description: null);
        }
        finally
        {
            context.Free();
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe long ReadFromStream(nint context, byte* buffer, long size)
    {
        var reader = (StreamReadContext)GCHandle.FromIntPtr(context).Target!;
        try
        {
            return reader.Stream.Read(new Span<byte>(buffer, (int)Math.Min(size, int.MaxValue)));
        }
        catch (Exception e)
        {
            // never across the native frames: kept, and rethrown once faiss has returned
            reader.Failure = e;
            return -1;
        }
    }

    private sealed class StreamReadContext(Stream stream)
    {
        public Stream Stream { get; } = stream;

        public Exception? Failure { get; set; }
    }

    /// <summary>
    /// Writes the index to a file (faiss's format). The file is written beside the target and renamed over it, so
    /// a failed write leaves any existing file as it was.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="ObjectDisposedException">The index was disposed.</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var fullPath = Path.GetFullPath(path);
        var temporary = $"{fullPath}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        FaissStatus status;
        using (EnterRead())
        {
            status = IndexWriteFile(_handle, temporary);
        }

        if (status != FaissStatus.Ok)
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }

            throw new IOException($"Cannot write the index to '{fullPath}': {FaissStatusExtensions.Failure(status).Message}");
        }

        File.Move(temporary, fullPath, overwrite: true);
    }

    /// <summary>Reads an index file written by <see cref="Save"/> or python's <c>faiss.write_index</c>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a faiss index.</exception>
    public static FaissIndex Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException($"No index file at '{fullPath}'.", fullPath);
        }

        var status = IndexReadFile(fullPath, out var handle);
        if (status != FaissStatus.Ok)
        {
            handle.Dispose();
            var failure = FaissStatusExtensions.Failure(status);
            throw new InvalidDataException($"'{fullPath}' is not a faiss index file: {failure.Message}", failure);
        }

        return new FaissIndex(handle, description: null);
    }
}
