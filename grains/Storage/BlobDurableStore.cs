using System.Runtime.InteropServices;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace OrleansVectors.Grains.Storage;

/// <summary>
/// Azure Blob storage: whole objects are block blobs uploaded and downloaded in parallel blocks; log segments
/// are append blobs, each append committed before it returns. The container is created on first use.
/// </summary>
public sealed class BlobDurableStore : IDurableStore
{
    /// <summary>The most bytes one append block takes (the service's limit on older API versions and Azurite's).</summary>
    public const int MaxAppendBlockBytes = 4 << 20;

    private static readonly StorageTransferOptions Transfers = new()
    {
        InitialTransferSize = 256 << 20,
        MaximumTransferSize = 8 << 20,
        MaximumConcurrency = 8,
    };

    private readonly BlobContainerClient _container;
    private readonly Lazy<Task> _created;

    /// <summary>Stores objects in <paramref name="container"/>.</summary>
    public BlobDurableStore(BlobContainerClient container)
    {
        ArgumentNullException.ThrowIfNull(container);
        _container = container;
        _created = new Lazy<Task>(() => _container.CreateIfNotExistsAsync());
    }

    /// <inheritdoc/>
    public string Description => $"blob container {_container.Name} at {_container.Uri.GetLeftPart(UriPartial.Authority)}";

    /// <inheritdoc/>
    public async Task<StoredObject?> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        await _created.Value.ConfigureAwait(false);
        var blob = _container.GetBlobClient(path);
        try
        {
            var properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            if (properties.ContentLength > Array.MaxLength)
            {
                throw new InvalidDataException($"Blob '{path}' holds {properties.ContentLength:N0} bytes, more than one object may ({Array.MaxLength:N0}).");
            }

            var content = new byte[properties.ContentLength];
            using var stream = new MemoryStream(content, writable: true);
            await blob.DownloadToAsync(stream, new BlobDownloadToOptions
            {
                Conditions = new BlobRequestConditions { IfMatch = properties.ETag },
                TransferOptions = Transfers,
            }, cancellationToken).ConfigureAwait(false);
            return new StoredObject(content, properties.ETag.ToString());
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public async Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken = default)
    {
        // parallel ranged downloads (8 MiB parts, 8 at once) rather than one sequential stream, at the cost of a buffer
        var stored = await ReadAsync(path, cancellationToken).ConfigureAwait(false);
        return stored is null ? null
            : MemoryMarshal.TryGetArray(stored.Content, out var bytes) ? new MemoryStream(bytes.Array!, bytes.Offset, bytes.Count, writable: false)
            : new MemoryStream(stored.Content.ToArray(), writable: false);
    }

    /// <inheritdoc/>
    public async Task<byte[]> ReadRangeAsync(string path, long offset, int length, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        await _created.Value.ConfigureAwait(false);
        try
        {
            var response = await _container.GetBlobClient(path)
                .DownloadContentAsync(new BlobDownloadOptions { Range = new HttpRange(offset, length) }, cancellationToken).ConfigureAwait(false);
            return response.Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new FileNotFoundException($"Blob '{path}' does not exist.", path, e);
        }
        catch (RequestFailedException e) when (e.Status == 416)
        {
            return []; // the range starts at or past the end
        }
    }

    /// <inheritdoc/>
    public async Task<string> WriteAsync(string path, IReadOnlyList<ReadOnlyMemory<byte>> parts, StoreCondition condition = default, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parts);
        await _created.Value.ConfigureAwait(false);
        var options = new BlobUploadOptions { TransferOptions = Transfers, Conditions = ToConditions(condition) };
        var blob = _container.GetBlobClient(path);
        try
        {
            await using var content = new PartsReadStream(parts);
            return (await blob.UploadAsync(content, options, cancellationToken).ConfigureAwait(false)).Value.ETag.ToString();
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            throw new StoreConflictException(path, $"'{path}' changed since it was read ({e.ErrorCode}).");
        }
    }

    /// <inheritdoc/>
    public async Task<ILogAppender> CreateAppendOnlyAsync(string path, CancellationToken cancellationToken = default)
    {
        await _created.Value.ConfigureAwait(false);
        var blob = _container.GetAppendBlobClient(path);
        try
        {
            await blob.CreateAsync(new AppendBlobCreateOptions { Conditions = new AppendBlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            throw new StoreConflictException(path, $"'{path}' already exists.");
        }

        return new BlobAppender(blob, MaxAppendBlockBytes);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        await _created.Value.ConfigureAwait(false);
        var paths = new List<string>();
        await foreach (var item in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellationToken).ConfigureAwait(false))
        {
            paths.Add(item.Name);
        }

        paths.Sort(StringComparer.Ordinal);
        return paths;
    }

    /// <inheritdoc/>
    public async Task DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        await _created.Value.ConfigureAwait(false);
        await _container.GetBlobClient(path).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static BlobRequestConditions? ToConditions(StoreCondition condition) => condition switch
    {
        { MustNotExist: true } => new BlobRequestConditions { IfNoneMatch = ETag.All },
        { IfMatch: { } etag } => new BlobRequestConditions { IfMatch = new ETag(etag) },
        _ => null,
    };

    /// <summary>
    /// Appends blocks at known positions: a block the SDK retries after a lost reply cannot land twice (the position
    /// condition fails, and the blob's length tells whether the first try landed).
    /// </summary>
    private sealed class BlobAppender(AppendBlobClient blob, int maxBlockBytes) : ILogAppender
    {
        private long _position;

        public async Task AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> parts, CancellationToken cancellationToken = default)
        {
            // a record larger than one block spans several; a failure between them leaves a torn tail, which
            // readers drop, and the log moves on to a new segment
            foreach (var data in parts)
            {
                for (var offset = 0; offset < data.Length; offset += maxBlockBytes)
                {
                    var block = data.Slice(offset, Math.Min(maxBlockBytes, data.Length - offset));
                    await AppendBlockAsync(block, cancellationToken).ConfigureAwait(false);
                    _position += block.Length;
                }
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private async Task AppendBlockAsync(ReadOnlyMemory<byte> block, CancellationToken cancellationToken)
        {
            try
            {
                using var stream = BinaryData.FromBytes(block).ToStream();
                var options = new AppendBlobAppendBlockOptions { Conditions = new AppendBlobRequestConditions { IfAppendPositionEqual = _position } };
                await blob.AppendBlockAsync(stream, options, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
                var length = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.ContentLength;
                if (length != _position + block.Length)
                {
                    throw;
                }
            }
        }
    }
}
