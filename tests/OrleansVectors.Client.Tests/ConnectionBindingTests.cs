using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace OrleansVectors.Client.Tests;

/// <summary>A client's connection bound from configuration is what the configuration says, not that plus the defaults.</summary>
public sealed class ConnectionBindingTests
{
    [Fact]
    public void Configured_gateway_ports_replace_the_default_port()
    {
        var bound = Bind(new() { ["Vectors:GatewayPorts:0"] = "30001", ["Vectors:GatewayPorts:1"] = "30002" });
        Assert.Equal([30001, 30002], bound.GatewayPorts);
    }

    [Fact]
    public void Without_configured_ports_the_client_uses_the_default_port()
    {
        var bound = Bind(new() { ["Vectors:ClusterId"] = "c1" });
        Assert.Equal([ClusterConnectionOptions.DefaultGatewayPort], bound.GatewayPorts);
        Assert.Equal("c1", bound.ClusterId);
    }

    private static ClusterConnectionOptions Bind(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.UseOrleansClient(client => client.UseOrleansVectorsCluster("Vectors"));
        using var host = builder.Build();
        return host.Services.GetRequiredService<IOptions<ClusterConnectionOptions>>().Value;
    }
}
