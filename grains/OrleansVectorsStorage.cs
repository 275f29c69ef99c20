namespace OrleansVectors.Grains;

/// <summary>Names shared by the grains and their hosting.</summary>
public static class OrleansVectorsStorage
{
    /// <summary>The grain storage provider that holds index grains' state (spec, generation, id block, id mode) and k-means grains' last result.</summary>
    public const string Name = "orleansvectors";
}
