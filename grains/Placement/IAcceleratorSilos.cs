namespace OrleansVectors.Grains.Placement;

/// <summary>Which silos advertise an accelerator (a GPU) for shards to prefer.</summary>
public interface IAcceleratorSilos
{
    /// <summary>Whether <paramref name="silo"/> advertised an accelerator.</summary>
    bool HasAccelerator(SiloAddress silo);
}
