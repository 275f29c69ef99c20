namespace OrleansVectors.Grains.Tests;

/// <summary>
/// The test classes of this assembly that share one Azurite. xunit finds collection definitions only in the test
/// assembly itself, so this stays here while the fixture lives in OrleansVectors.Testing.
/// </summary>
[CollectionDefinition(Name)]
public sealed class AzuriteServer : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "azurite";
}
