using Orleans.TestingHost;

namespace OrleansVectors.Grains.Tests;

/// <summary>With OrleansVectors:ApiKey set, silos admit only client calls that carry the key.</summary>
public sealed class AuthenticationTests
{
    [Fact]
    public async Task Client_calls_need_the_api_key_when_one_is_configured()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ClusterId = builder.Options.ServiceId = $"ov-{Guid.NewGuid():N}";
        var storage = Directory.CreateTempSubdirectory("ovf-auth-").FullName;
        builder.ConfigureSilo((_, silo) => silo.AddOrleansVectors(o => o.ApiKey = "s3cret").AddOrleansVectorsFileStorage(storage));
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            var index = cluster.Client.GetGrain<IIndexGrain>("secured");

            RequestContext.Clear();
            Assert.Contains("requires an API key", (await Assert.ThrowsAsync<UnauthorizedAccessException>(() => index.CreateAsync(new IndexSpec { Dimension = 4 }))).Message, StringComparison.Ordinal);
            RequestContext.Set(ClientCredentials.ApiKeyHeader, "guess");
            Assert.Contains("not the cluster's", (await Assert.ThrowsAsync<UnauthorizedAccessException>(() => index.CreateAsync(new IndexSpec { Dimension = 4 }))).Message, StringComparison.Ordinal);

            // with the key: admitted, and the grains' own calls to shards need none
            RequestContext.Set(ClientCredentials.ApiKeyHeader, "s3cret");
            await index.CreateAsync(new IndexSpec { Dimension = 4, ShardCount = 2 });
            await cluster.Client.GetGrain<IIngestGrain>(0).AddAsync("secured", new AddRequest(Guid.NewGuid(), VectorBatch.FromRows(new float[8], 4)));
            Assert.Equal(2, await index.CountAsync());
        }
        finally
        {
            RequestContext.Clear();
            await cluster.StopAllSilosAsync();
            Directory.Delete(storage, recursive: true);
        }
    }
}
