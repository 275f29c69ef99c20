using System.Net;
using Orleans.Runtime.Placement;
using OrleansVectors.Grains.Placement;

namespace OrleansVectors.Grains.Tests;

public sealed class PlacementTests
{
    private static readonly SiloAddress[] Silos =
        [.. new[] { 11113, 11111, 11112 }.Select(port => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1))];

    [Fact]
    public async Task Shard_i_goes_to_the_i_th_silo_in_a_stable_order_and_accelerator_silos_come_first()
    {
        var plain = new ShardPlacementDirector(new Accelerators([]));
        var placed = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => plain.OnAddActivation(ShardPlacementStrategy.Instance, Target($"index/{i}"), new Context(Silos))));
        Assert.Equal(new[] { 11111, 11112, 11113, 11111, 11112, 11113 }, placed.Select(s => s.Endpoint.Port));

        var withGpu = new ShardPlacementDirector(new Accelerators([Silos[0]])); // port 11113
        var onGpuFirst = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => withGpu.OnAddActivation(ShardPlacementStrategy.Instance, Target($"index/{i}"), new Context(Silos))));
        Assert.Equal(new[] { 11113, 11111, 11112, 11113 }, onGpuFirst.Select(s => s.Endpoint.Port));
    }

    [Fact]
    public void Invalid_options_are_rejected_at_start_up()
    {
        var result = new OrleansVectorsOptionsValidator().Validate(null, new OrleansVectorsOptions { FaissThreads = -1 });
        Assert.True(result.Failed);
        Assert.Contains("FaissThreads", result.FailureMessage, StringComparison.Ordinal);
    }

    private static PlacementTarget Target(string key) =>
        new(GrainId.Create("shard", key), new Dictionary<string, object>(), default, 0);

    private sealed class Accelerators(SiloAddress[] silos) : IAcceleratorSilos
    {
        public bool HasAccelerator(SiloAddress silo) => silos.Contains(silo);
    }

    private sealed class Context(SiloAddress[] silos) : IPlacementContext
    {
        public SiloAddress LocalSilo => silos[0];

        public SiloStatus LocalSiloStatus => SiloStatus.Active;

        public SiloAddress[] GetCompatibleSilos(PlacementTarget target) => silos;

        public IReadOnlyDictionary<ushort, SiloAddress[]> GetCompatibleSilosWithVersions(PlacementTarget target) =>
            new Dictionary<ushort, SiloAddress[]> { [0] = silos };
    }
}
