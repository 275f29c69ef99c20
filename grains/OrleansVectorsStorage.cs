namespace OrleansVectors.Grains;

/// <summary>Names shared by the grains and their hosting.</summary>
public static class OrleansVectorsStorage
{
    /// <summary>The grain storage provider that holds index grains' state (specs, id counters, shard counts).</summary>
    public const string Name = "orleansvectors";
}
