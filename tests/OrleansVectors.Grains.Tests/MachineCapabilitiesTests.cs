using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansVectors.Inference.Engines;

namespace OrleansVectors.Grains.Tests;

/// <summary>
/// Whether a silo has an accelerator comes from a service that looks at the machine; the options only carry what was
/// configured, and a configured value wins over what the machine has.
/// </summary>
public sealed class MachineCapabilitiesTests
{
    [Theory]
    [InlineData(null, true, true)]
    [InlineData(null, false, false)]
    [InlineData("false", true, false)]
    [InlineData("true", false, true)]
    public void An_accelerator_not_configured_is_what_the_machine_has(string? configured, bool machineHasOne, bool expected)
    {
        var settings = configured is null ? [] : new Dictionary<string, string?> { [$"{OrleansVectorsOptions.SectionName}:Accelerator"] = configured };
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .AddSingleton<IMachineCapabilities>(new Machine(machineHasOne))
            .AddOrleansVectors();
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<OrleansVectorsOptions>>().Value;
        Assert.Equal(expected, options.Accelerator);
        Assert.Equal(expected ? SearchEnginePreference.Gpu : SearchEnginePreference.Cpu, options.ToSearchEngineOptions().Preference);
    }

    [Fact]
    public void Options_bound_from_configuration_are_validated_when_read_naming_the_setting()
    {
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["OrleansVectors:RetainSnapshots"] = "0" }).Build())
            .AddSingleton<IMachineCapabilities>(new Machine(false))
            .AddOrleansVectors();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<OrleansVectorsOptions>>().Value);
        Assert.Contains("RetainSnapshots", error.Message, StringComparison.Ordinal);
        Assert.Contains("between 1 and 1000", error.Message, StringComparison.Ordinal);
    }

    private sealed class Machine(bool hasAccelerator) : IMachineCapabilities
    {
        public bool HasAccelerator => hasAccelerator;
    }
}
