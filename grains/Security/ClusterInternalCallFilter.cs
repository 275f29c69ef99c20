using System.Collections.Concurrent;
using System.Reflection;
using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Grains.Security;

/// <summary>
/// The silo's gate for client calls: the client must pass the <see cref="IClientAuthenticator"/>, and may not call
/// grain interfaces and methods marked <see cref="ClusterInternalAttribute"/> (a client reaches indexes through the
/// index, ingest, query and k-means grains only). Calls between grains pass.
/// </summary>
internal sealed class ClusterInternalCallFilter(IClientAuthenticator authenticator) : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<MethodInfo, bool> Internal = new();
    /// <summary>Where this service's grain interfaces are declared: the public contracts, and the cluster's own protocol (here).</summary>
    private static readonly Assembly[] ServiceInterfaces = [typeof(IIndexGrain).Assembly, typeof(IShardGrain).Assembly];

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        // clients' calls to this service's grains; Orleans' own (the client's handshake, grain extensions) pass
        if (context.SourceId is { } source && GrainTypePrefix.IsClient(source) && ServiceInterfaces.Contains(context.InterfaceMethod?.DeclaringType?.Assembly))
        {
            if (await authenticator.AuthenticateAsync(context) is { } refusal)
            {
                throw new UnauthorizedAccessException($"{context.InterfaceName}.{context.MethodName} refused: {refusal}.");
            }

            if (IsInternal(context.InterfaceMethod))
            {
                throw new UnauthorizedAccessException(
                    $"{context.InterfaceName}.{context.MethodName} is internal to the cluster; clients call indexes through IIndexGrain, IIngestGrain, IQueryGrain and IKMeansGrain (VectorIndexClient).");
            }
        }

        await context.Invoke();
    }

    private static bool IsInternal(MethodInfo? method) =>
        method is not null && Internal.GetOrAdd(method, m =>
            m.IsDefined(typeof(ClusterInternalAttribute), inherit: false) || m.DeclaringType?.IsDefined(typeof(ClusterInternalAttribute), inherit: false) == true);
}
