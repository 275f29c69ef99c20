namespace OrleansVectors.Grains.Tests;

/// <summary>
/// The test classes of this assembly that share one three-silo cluster. xunit finds collection definitions only in
/// the test assembly itself, so this stays here while the fixture lives in OrleansVectors.Testing.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SharedCluster : ICollectionFixture<ClusterFixture>
{
    public const string Name = "three-silo cluster";
}
