using System.Collections.Concurrent;
using System.Reflection;
using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Grains.Security;

/// <summary>
/// Refuses calls from clients to grain interfaces and methods marked <see cref="ClusterInternalAttribute"/>: a
/// client reaches indexes through the index, ingest and query grains only. Calls between grains pass.
/// </summary>
internal sealed class ClusterInternalCallFilter : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<MethodInfo, bool> Internal = new();

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.SourceId is { } source && GrainTypePrefix.IsClient(source) && IsInternal(context.InterfaceMethod))
        {
            throw new UnauthorizedAccessException(
                $"{context.InterfaceName}.{context.MethodName} is internal to the cluster; clients call indexes through IIndexGrain, IIngestGrain and IQueryGrain (VectorIndexClient).");
        }

        return context.Invoke();
    }

    private static bool IsInternal(MethodInfo? method) =>
        method is not null && Internal.GetOrAdd(method, m =>
            m.IsDefined(typeof(ClusterInternalAttribute), inherit: false) || m.DeclaringType?.IsDefined(typeof(ClusterInternalAttribute), inherit: false) == true);
}
