namespace OrleansVectors.Grains.Durability;

/// <summary>
/// The batches a shard stored most recently, by batch id, so a retried batch is recognised: the newest
/// <c>capacity</c> are kept (in snapshots too), older ones are forgotten first. Not thread-safe.
/// </summary>
internal sealed class RecentBatches(int capacity)
{
    private readonly Dictionary<Guid, BatchReceipt> _byId = [];
    private readonly Queue<Guid> _order = new();

    /// <summary>The receipt of a stored batch, or null.</summary>
    public BatchReceipt? TryGet(Guid batchId) => _byId.TryGetValue(batchId, out var receipt) ? receipt : null;

    /// <summary>Remembers a stored batch, forgetting the oldest beyond capacity.</summary>
    public void Remember(BatchReceipt receipt)
    {
        if (!_byId.TryAdd(receipt.BatchId, receipt))
        {
            return;
        }

        _order.Enqueue(receipt.BatchId);
        while (_order.Count > capacity)
        {
            _byId.Remove(_order.Dequeue());
        }
    }

    /// <summary>The remembered batches, oldest first.</summary>
    public BatchReceipt[] ToArray() => [.. _order.Select(id => _byId[id])];
}
