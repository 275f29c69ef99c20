namespace OrleansVectors.GrainInterfaces;

/// <summary>
/// Marks a grain interface or method that only the cluster's own grains may call: silos refuse it from clients
/// (an incoming call filter), because it can break an index's invariants (a shard's generation, its ids).
/// </summary>
[AttributeUsage(AttributeTargets.Interface | AttributeTargets.Method, Inherited = false)]
public sealed class ClusterInternalAttribute : Attribute
{
}
