namespace OrleansVectors.Grains.Tests;

/// <summary>Adds through the ingest front the way the client library does: ids leased for the whole input first.</summary>
internal static class LeasedAdds
{
    /// <summary>
    /// Leases ids for all rows, then sends them in batches of <paramref name="batchRows"/>, each carrying its first id
    /// and retried under its batch id while the cluster recovers.
    /// </summary>
    public static async Task<List<AddReceipt>> AddAsync(IClusterClient client, string index, float[] values, int dimension, int batchRows)
    {
        var rows = values.Length / dimension;
        var lease = await client.GetGrain<IIndexGrain>(index).LeaseIdsAsync(Guid.NewGuid(), rows, callerIds: false);
        var receipts = new List<AddReceipt>();
        for (var start = 0; start < rows; start += batchRows)
        {
            var request = new AddRequest(Guid.NewGuid(), TestVectors.Batch(values, dimension, start, Math.Min(batchRows, rows - start)))
            {
                FirstId = lease.FirstId + start,
            };
            receipts.Add(await DurableCluster.RetryWhileRecoveringAsync(() => client.GetGrain<IIngestGrain>(0).AddAsync(index, request)));
        }

        return receipts;
    }
}
