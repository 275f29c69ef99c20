using Orleans.Concurrency;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Topology;

namespace OrleansVectors.Grains;

/// <summary>
/// The adding front: a reentrant stateless worker on every silo. It checks a batch at the boundary (shape,
/// finiteness, caller ids), takes its ids (the caller's; the first id of the caller's lease; or a lease of its own
/// from the index grain, an in-memory call), asks the topology's router which shards its rows go to, and sends each
/// shard its part; a shard acknowledges once its part is in its write-ahead log. Nothing per batch is written by the
/// index grain, and batches from one client run side by side.
/// </summary>
[StatelessWorker, Reentrant]
public sealed class IngestGrain : Grain, IIngestGrain
{
    private readonly ShardMapCache _maps = new();

    /// <inheritdoc/>
    public Task<AddReceipt> AddAsync(string index, AddRequest request)
    {
        ResourceNames.RequireIndexName(index);
        ArgumentNullException.ThrowIfNull(request);
        var (batchId, vectors, ids) = (request.BatchId, request.Vectors, request.Ids);
        return _maps.WithFreshTopologyAsync(GrainFactory, index, async topology =>
        {
            InputChecks.Require(topology.Spec, vectors, nameof(request));
            if (ids is not null)
            {
                VectorValidation.RequireCallerIds(ids, vectors.Count, nameof(request));
                if (request.FirstId is not null)
                {
                    throw new ArgumentException("Give caller ids or a leased first id, not both.", nameof(request));
                }
            }

            if (request.FirstId is < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(request), $"A leased first id must be non-negative; got {request.FirstId}.");
            }

            // with caller ids the lease only checks (or on the first add, decides) that the index takes them
            var lease = ids is not null || request.FirstId is null
                ? await GrainFactory.GetGrain<IIndexGrain>(topology.Index).LeaseIdsAsync(batchId, vectors.Count, callerIds: ids is not null)
                : null;
            var firstId = request.FirstId ?? lease?.FirstId ?? -1;
            var assigned = ids ?? [.. Enumerable.Range(0, vectors.Count).Select(i => firstId + i)];
            var parts = topology.Router.Route(batchId, assigned, idsFromRequest: ids is not null || request.FirstId is not null);
            return parts.Count == 1
                ? await topology.Shard(GrainFactory, parts[0].Shard).AddAsync(topology.Generation, batchId, vectors, assigned, callerIds: ids is not null)
                : await AddPartsAsync(topology, batchId, vectors, assigned, callerIds: ids is not null, parts);
        });
    }

    /// <summary>
    /// Sends each shard its part of a split batch and returns one receipt for the whole batch: its first row's. Each
    /// shard stores its part once per batch id, so a retry stores only the parts that did not land before.
    /// </summary>
    /// <remarks>
    /// A caller id a shard already holds refuses that shard's part only, so before anything is sent each shard is
    /// asked which of its own part's ids it holds: parts with such ids go first, alone. Their shards either know the
    /// batch (a retry: they answer with their first receipt) or refuse the id, and then no other part was sent. Only a
    /// concurrent add of the same id between the check and the add can leave a refused batch partly stored.
    /// </remarks>
    private async Task<AddReceipt> AddPartsAsync(ShardTopology topology, Guid batchId, VectorBatch vectors, long[] ids, bool callerIds, IReadOnlyList<BatchPart> parts)
    {
        var requests = parts.Select(part => (
            Part: part,
            Shard: topology.Shard(GrainFactory, part.Shard),
            Ids: Array.ConvertAll(part.Rows, row => ids[row]))).ToList();
        var pending = requests;
        var receipts = new List<(BatchPart Part, AddReceipt Receipt)>();
        if (callerIds)
        {
            var held = await Task.WhenAll(requests.Select(r => r.Shard.FindExistingAsync(topology.Generation, r.Ids)));
            var first = requests.Where((_, i) => held[i].Length > 0).ToList();
            receipts.AddRange(await Task.WhenAll(first.Select(async r => (r.Part, await AddPartAsync(r.Shard, r.Part, r.Ids)))));
            pending = [.. requests.Except(first)];
        }

        receipts.AddRange(await Task.WhenAll(pending.Select(async r => (r.Part, await AddPartAsync(r.Shard, r.Part, r.Ids)))));
        var head = receipts.Single(r => r.Part.Rows[0] == 0).Receipt;
        return head with { Count = vectors.Count };

        Task<AddReceipt> AddPartAsync(IShardGrain shard, BatchPart part, long[] partIds) =>
            shard.AddAsync(topology.Generation, batchId, vectors.SelectRows(part.Rows), partIds, callerIds);
    }
}
