using Orleans.Concurrency;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Topology;

namespace OrleansVectors.Grains;

/// <summary>
/// The adding front: a reentrant stateless worker on every silo. It checks a batch at the boundary (shape,
/// finiteness, caller ids), leases its ids from the index grain (an in-memory call), and sends it to the shard its
/// batch id picks, which acknowledges once the batch is in its write-ahead log. Nothing per batch is written
/// by the index grain, and batches from one client run side by side.
/// </summary>
[StatelessWorker, Reentrant]
public sealed class IngestGrain : Grain, IIngestGrain
{
    private readonly ShardMapCache _maps = new();

    /// <inheritdoc/>
    public Task<AddReceipt> AddAsync(string index, AddRequest request)
    {
        IndexNames.Require(index);
        ArgumentNullException.ThrowIfNull(request);
        var (batchId, vectors, ids) = (request.BatchId, request.Vectors, request.Ids);
        return _maps.WithFreshTopologyAsync(GrainFactory, index, async topology =>
        {
            InputChecks.Require(topology.Spec, vectors, nameof(request));
            if (ids is not null)
            {
                InputChecks.RequireCallerIds(vectors, ids);
                if (request.FirstId is not null)
                {
                    throw new ArgumentException("Give caller ids or a leased first id, not both.", nameof(request));
                }
            }

            if (request.FirstId is < 0 || request.Shard is { } shard && (shard < 0 || shard >= topology.ShardCount))
            {
                throw new ArgumentOutOfRangeException(nameof(request), $"A leased first id must be non-negative and a shard between 0 and {topology.ShardCount - 1}.");
            }

            // without a shard from the caller's lease, the batch id picks it: a retry then meets the same shard
            var target = request.Shard ?? topology.ShardForBatch(batchId);
            var firstId = ids is not null ? -1 : request.FirstId
                ?? (await GrainFactory.GetGrain<IIndexGrain>(topology.Index).LeaseIdsAsync(batchId, vectors.Count, callerIds: false)).FirstId;
            if (ids is not null)
            {
                await GrainFactory.GetGrain<IIndexGrain>(topology.Index).LeaseIdsAsync(batchId, vectors.Count, callerIds: true);
                await RequireNewIdsAsync(topology, ids, target, batchId);
            }

            var assigned = ids ?? [.. Enumerable.Range(0, vectors.Count).Select(i => firstId + i)];
            return await topology.Shard(GrainFactory, target).AddAsync(topology.Generation, batchId, vectors, assigned, callerIds: ids is not null);
        });
    }

    /// <summary>
    /// Fails when another shard already holds one of the caller's ids (the target shard checks its own, atomically
    /// with the add, and recognises a retried batch by its id).
    /// </summary>
    private async Task RequireNewIdsAsync(ShardTopology topology, long[] ids, int target, Guid batchId)
    {
        if (topology.ShardCount == 1)
        {
            return;
        }

        var present = await topology.FanOutAsync(
            GrainFactory, (shard, number, _) => number == target ? Task.FromResult<long[]>([]) : shard.FindExistingAsync(topology.Generation, ids), FanOutPolicy.AllShards);
        if (present.Values.SelectMany(p => p).Cast<long?>().FirstOrDefault() is { } id)
        {
            throw new ArgumentException($"Id {id} is already in index '{topology.Index}' (batch {batchId}).", nameof(ids));
        }
    }
}
