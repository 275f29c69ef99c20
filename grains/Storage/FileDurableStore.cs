using System.IO.Hashing;

namespace OrleansVectors.Grains.Storage;

/// <summary>
/// The embedded store: one file per object under a root directory, shared by every silo process on the machine.
/// Whole-object writes go to a temporary file that is fsynced and renamed over the target, so a crash leaves the
/// old object or the new one; appends are fsynced before they return. Conditional writes are serialized across
/// processes by a lock file beside the object; an object's ETag is the hash of its content.
/// </summary>
public sealed class FileDurableStore : IDurableStore
{
    private const string TemporarySuffix = ".tmp";
    private const string LockSuffix = ".lock";

    /// <summary>The read buffer: snapshot and log files are read front to back in large pieces.</summary>
    private const int ReadBufferBytes = 1 << 20;
    private readonly string _root;

    /// <summary>Stores objects under <paramref name="root"/> (created when missing).</summary>
    public FileDurableStore(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(_root);
    }

    /// <inheritdoc/>
    public string Description => $"files under {_root}";

    /// <inheritdoc/>
    public async Task<StoredObject?> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        try
        {
            var content = await File.ReadAllBytesAsync(FullPath(path), cancellationToken).ConfigureAwait(false);
            return new StoredObject(content, ETagOf([content]));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken = default)
    {
        try
        {
            return Task.FromResult<Stream?>(new FileStream(FullPath(path), FileMode.Open, FileAccess.Read, FileShare.Read, ReadBufferBytes, FileOptions.SequentialScan));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    /// <inheritdoc/>
    public async Task<byte[]> ReadRangeAsync(string path, long offset, int length, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        using var handle = File.OpenHandle(FullPath(path), FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
        var buffer = new byte[Math.Clamp(RandomAccess.GetLength(handle) - offset, 0, length)];
        var read = 0;
        while (read < buffer.Length)
        {
            read += await RandomAccess.ReadAsync(handle, buffer.AsMemory(read), offset + read, cancellationToken).ConfigureAwait(false);
        }

        return buffer;
    }

    /// <inheritdoc/>
    public async Task<string> WriteAsync(string path, IReadOnlyList<ReadOnlyMemory<byte>> parts, StoreCondition condition = default, CancellationToken cancellationToken = default)
    {
        var full = FullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        if (condition == default)
        {
            await ReplaceAsync(full, parts, cancellationToken).ConfigureAwait(false);
            return ETagOf(parts);
        }

        await using var held = await LockAsync(full, cancellationToken).ConfigureAwait(false);
        var current = File.Exists(full) ? ETagOf([await File.ReadAllBytesAsync(full, cancellationToken).ConfigureAwait(false)]) : null;
        if (condition.MustNotExist ? current is not null : current != condition.IfMatch)
        {
            throw new StoreConflictException(path, current is null
                ? $"'{path}' was expected to exist with ETag {condition.IfMatch}, but it does not exist."
                : $"'{path}' changed since it was read (ETag {current}, expected {condition.IfMatch ?? "none"}).");
        }

        await ReplaceAsync(full, parts, cancellationToken).ConfigureAwait(false);
        return ETagOf(parts);
    }

    /// <inheritdoc/>
    public Task<ILogAppender> CreateAppendOnlyAsync(string path, CancellationToken cancellationToken = default)
    {
        var full = FullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        try
        {
            var stream = new FileStream(full, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous);
            return Task.FromResult<ILogAppender>(new FileAppender(stream));
        }
        catch (IOException) when (File.Exists(full))
        {
            throw new StoreConflictException(path, $"'{path}' already exists.");
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var directory = FullPath(prefix);
        if (!Directory.Exists(directory))
        {
            return Task.FromResult<IReadOnlyList<string>>([]);
        }

        var paths = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(TemporarySuffix, StringComparison.Ordinal) && !f.EndsWith(LockSuffix, StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(_root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
        return Task.FromResult<IReadOnlyList<string>>(paths);
    }

    /// <inheritdoc/>
    public Task DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        var full = FullPath(path);
        File.Delete(full);
        File.Delete(full + LockSuffix);
        return Task.CompletedTask;
    }

    private string FullPath(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(Path.Combine(_root, path));
        return full.StartsWith(_root, StringComparison.Ordinal)
            ? full
            : throw new ArgumentException($"The path '{path}' leaves the store's root.", nameof(path));
    }

    private static string ETagOf(IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        var hash = new XxHash64();
        foreach (var part in parts)
        {
            hash.Append(part.Span);
        }

        return hash.GetCurrentHashAsUInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task ReplaceAsync(string full, IReadOnlyList<ReadOnlyMemory<byte>> parts, CancellationToken cancellationToken)
    {
        var temporary = $"{full}.{Guid.NewGuid():N}{TemporarySuffix}";
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous))
            {
                foreach (var part in parts)
                {
                    await stream.WriteAsync(part, cancellationToken).ConfigureAwait(false);
                }

                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Takes the object's lock file exclusively (across processes), retrying while another holder has it.</summary>
    private static async Task<FileStream> LockAsync(string full, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                return new FileStream(full + LockSuffix, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private sealed class FileAppender(FileStream stream) : ILogAppender
    {
        public async Task AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> parts, CancellationToken cancellationToken = default)
        {
            foreach (var part in parts)
            {
                await stream.WriteAsync(part, cancellationToken).ConfigureAwait(false);
            }

            await Task.Run(() => stream.Flush(flushToDisk: true), cancellationToken).ConfigureAwait(false);
        }

        public ValueTask DisposeAsync() => stream.DisposeAsync();
    }
}
