namespace OrleansVectors.Grains.Tests;

internal static class TestVectors
{
    public static VectorBatch Batch(float[] values, int dimension, int start, int count) =>
        VectorBatch.FromRows(values.AsSpan(start * dimension, count * dimension), dimension);

    /// <summary>Adds all rows in batches, returns the receipts.</summary>
    public static async Task<List<AddReceipt>> AddAll(ClusterFixture fixture, IIndexGrain index, float[] values, int dimension, int batchSize)
    {
        var receipts = new List<AddReceipt>();
        var rows = values.Length / dimension;
        for (var start = 0; start < rows; start += batchSize)
        {
            receipts.Add(await fixture.AddAsync(index, Batch(values, dimension, start, Math.Min(batchSize, rows - start))));
        }

        return receipts;
    }
}
