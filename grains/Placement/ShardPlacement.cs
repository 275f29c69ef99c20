using Orleans.Placement;
using Orleans.Runtime.Placement;
using OrleansVectors.Grains.Topology;

namespace OrleansVectors.Grains.Placement;

/// <summary>Places shard i of an index on the i-th compatible silo (in a stable order), round robin.</summary>
[GenerateSerializer, Immutable, Alias("ov.ShardPlacement")]
public sealed class ShardPlacementStrategy : PlacementStrategy
{
    /// <summary>The one instance.</summary>
    public static ShardPlacementStrategy Instance { get; } = new();
}

/// <summary>Marks a grain whose string key ends in "/shard-number" for <see cref="ShardPlacementStrategy"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ShardPlacementAttribute() : PlacementAttribute(ShardPlacementStrategy.Instance);

/// <summary>
/// Spreads shards evenly and deterministically: the compatible silos are sorted, those that advertise an
/// accelerator first, and shard i goes to silo i mod count — so the first shards land on accelerators and all
/// silos share the rest. The same membership always gives the same placement; a shard re-placed after a silo
/// leaves goes to its slot among the silos that remain.
/// </summary>
public sealed class ShardPlacementDirector(IAcceleratorSilos accelerators) : IPlacementDirector
{
    /// <inheritdoc/>
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        if (compatible.Length == 0)
        {
            throw new OrleansException($"No silo can host {target.GrainIdentity}.");
        }

        var silos = compatible
            .OrderBy(s => accelerators.HasAccelerator(s) ? 0 : 1)
            .ThenBy(s => s.ToParsableString(), StringComparer.Ordinal)
            .ToArray();
        var (_, shard) = ShardTopology.ParseShardKey(target.GrainIdentity.Key.ToString()!);
        return Task.FromResult(silos[shard % silos.Length]);
    }
}
