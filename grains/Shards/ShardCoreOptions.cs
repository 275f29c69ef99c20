using OrleansVectors.Inference.Engines;

namespace OrleansVectors.Grains.Shards;

/// <summary>What a <see cref="ShardCore"/> is told by its host: the size of its idempotency window and its search engine.</summary>
internal sealed class ShardCoreOptions
{
    /// <summary>The default of <see cref="RememberedBatches"/>.</summary>
    public const int DefaultRememberedBatches = 100_000;

    /// <summary>
    /// Batch ids remembered for idempotent retries (default <see cref="DefaultRememberedBatches"/>): a batch sent
    /// again while its id is among the newest this many is stored once. Kept in snapshots too.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int RememberedBatches
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(RememberedBatches));
            field = value;
        }
    } = DefaultRememberedBatches;

    /// <summary>The engine a restored or created index searches with (default <see cref="SearchEngineOptions.Default"/>).</summary>
    public SearchEngineOptions SearchEngine { get; init; } = SearchEngineOptions.Default;
}
