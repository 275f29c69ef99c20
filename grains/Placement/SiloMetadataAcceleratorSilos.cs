using Orleans.Runtime.MembershipService.SiloMetadata;

namespace OrleansVectors.Grains.Placement;

/// <summary>Reads the accelerator flag each silo publishes in its silo metadata (see <c>AddOrleansVectors</c>).</summary>
public sealed class SiloMetadataAcceleratorSilos(ISiloMetadataCache metadata) : IAcceleratorSilos
{
    /// <summary>The silo metadata key; its value is "true" on silos with an accelerator.</summary>
    public const string MetadataKey = "orleansvectors.accelerator";

    /// <inheritdoc/>
    public bool HasAccelerator(SiloAddress silo) =>
        metadata.GetSiloMetadata(silo).Metadata.TryGetValue(MetadataKey, out var value) && value == "true";
}
