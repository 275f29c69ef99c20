using Microsoft.Extensions.Logging;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Indexes;

namespace OrleansVectors.Grains;

/// <summary>
/// Snapshots, as messages: each runs under the index's exclusive lock on its <see cref="SnapshotCoordinator"/>, which
/// has every shard write its blob and commits the manifest. Load is a restore of a saved snapshot that may create the
/// index first and moves its id numbering past the saved one's.
/// </summary>
public sealed partial class IndexGrain
{
    /// <inheritdoc/>
    public Task<SnapshotInfo> SnapshotAsync() => ExclusiveAsync(async () => (await Snapshots.SnapshotAsync()).ToInfo());

    /// <inheritdoc/>
    public Task<IReadOnlyList<SnapshotInfo>> ListSnapshotsAsync()
    {
        RequireMap();
        return Snapshots.ListAsync();
    }

    /// <inheritdoc/>
    public Task<SnapshotInfo> RestoreAsync(long version) => ExclusiveAsync(async () => (await Snapshots.RestoreVersionAsync(version)).ToInfo());

    /// <inheritdoc/>
    public Task<SnapshotInfo> SaveAsync(string name)
    {
        ResourceNames.RequireSnapshotName(name);
        return ExclusiveAsync(async () => (await Snapshots.SaveAsync(name)).ToInfo());
    }

    /// <inheritdoc/>
    public Task<SnapshotInfo> LoadAsync(string name)
    {
        ResourceNames.RequireSnapshotName(name);
        return ExclusiveAsync(async () =>
        {
            var saved = await SnapshotCoordinator.ReadSavedAsync(store, Name, name)
                ?? throw new ArgumentException($"Index '{Name}' has no snapshot saved as '{name}'.", nameof(name));
            if (state.State.Spec is null)
            {
                await CreateCoreAsync(saved.Spec);
            }
            else if (state.State.Spec != saved.Spec)
            {
                throw new InvalidOperationException(
                    $"Index '{Name}' exists with a spec other than the one saved as '{name}'; drop it first, or load into another index.");
            }

            // numbering moves past the saved ids first: a restore that then fails costs skipped ids, never reused ones
            await Ids.AdvanceAsync(saved.NextId, saved.Mode);
            var loaded = await Snapshots.RestoreAsync(saved);
            LogLoaded(Name, name, loaded.Count);
            return loaded.ToInfo();
        });
    }

    /// <summary>An automatic snapshot: skipped while another exclusive operation runs (it will have the same effect or come again).</summary>
    private async Task SnapshotUnlessBusyAsync(bool onlyIfChanged)
    {
        if (state.State.Spec is null || (onlyIfChanged && !Snapshots.ChangedSinceSnapshot) || _exclusive.CurrentCount == 0)
        {
            return;
        }

        try
        {
            await SnapshotAsync();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogAutomaticSnapshotFailed(Name, e.Message);
        }
    }

    /// <summary>Takes the index's exclusive lock, once the last commit's housekeeping is done.</summary>
    private async Task EnterExclusiveAsync()
    {
        await _exclusive.WaitAsync();
        if (_snapshots is { } snapshots)
        {
            await snapshots.Housekept;
        }
    }

    private async Task<T> ExclusiveAsync<T>(Func<Task<T>> work)
    {
        await EnterExclusiveAsync();
        try
        {
            return await work();
        }
        finally
        {
            _exclusive.Release();
        }
    }


    [LoggerMessage(Level = LogLevel.Information, Message = "Index {Index}: loaded '{Name}' ({Count} vectors)")]
    private partial void LogLoaded(string index, string name, long count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Index {Index}: automatic snapshot failed: {Reason}")]
    private partial void LogAutomaticSnapshotFailed(string index, string reason);
}
