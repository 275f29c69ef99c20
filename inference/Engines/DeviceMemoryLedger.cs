namespace OrleansVectors.Inference.Engines;

/// <summary>
/// The device memory every <see cref="IlgpuFlatEngine"/> of this process holds, per kind of accelerator, against 80%
/// of the device. Each engine has its own budget too, but a silo makes one engine per shard and each defaults to 80%
/// of the device: without a common account their sum would pass the device, and the failure would be an allocation
/// the driver refuses in the middle of a search instead of a clear error on the add that asked for too much.
/// </summary>
internal static class DeviceMemoryLedger
{
    private static long s_cuda;
    private static long s_cpu;

    /// <summary>Accounts <paramref name="bytes"/> more, or throws (accounting nothing) when that would pass <paramref name="limit"/>.</summary>
    public static void Reserve(bool cuda, long bytes, long limit, string what)
    {
        ref var held = ref cuda ? ref s_cuda : ref s_cpu;
        var now = Interlocked.Add(ref held, bytes);
        if (now > limit)
        {
            Interlocked.Add(ref held, -bytes);
            throw new DeviceMemoryBudgetExceededException(now, limit, $"{what}, with what every engine of this process holds on the device,");
        }
    }

    public static void Release(bool cuda, long bytes) => Interlocked.Add(ref cuda ? ref s_cuda : ref s_cpu, -bytes);
}
