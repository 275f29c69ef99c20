using Microsoft.Extensions.Options;
using OrleansVectors.Grains.Hosting;

namespace OrleansVectors.Silo;

/// <summary>
/// How the silo says a setting is wrong: one line per failure, naming the section and the setting, no stack trace,
/// exit code 2, before it serves anything.
/// </summary>
internal static class BadSettings
{
    /// <summary>The exit code of a silo stopped by a bad setting.</summary>
    public const int ExitCode = 2;

    /// <summary>A setting that breaks its rule (a validator's failure).</summary>
    public static int Report(OptionsValidationException e)
    {
        var name = e.OptionsType == typeof(SiloSettings) ? SiloSettings.SectionName
            : e.OptionsType == typeof(OrleansVectorsOptions) ? OrleansVectorsOptions.SectionName
            : e.OptionsType.Name;
        Console.Error.WriteLine($"Invalid settings in {name}: the silo did not start.");
        foreach (var failure in e.Failures)
        {
            Console.Error.WriteLine($"  {name}:{failure}");
        }

        return ExitCode;
    }

    /// <summary>A value that is not of its setting's type ("abc" for a port, "Azure" for the clustering kind).</summary>
    public static int Report(InvalidOperationException e)
    {
        // the binder's message names the setting: "Failed to convert configuration value 'abc' at 'Silo:GatewayPort' to type …"
        var setting = System.Text.RegularExpressions.Regex.Match(e.Message, " at '([^']+)'").Groups[1].Value;
        Console.Error.WriteLine("Invalid settings: the silo did not start.");
        Console.Error.WriteLine($"  {setting}: {e.Message}{(e.InnerException is { } inner ? $" {inner.Message}" : "")}");
        return ExitCode;
    }

    /// <summary>Whether <paramref name="e"/> is the configuration binder's "cannot convert this value" (it names the setting).</summary>
    public static bool IsConversion(InvalidOperationException e) =>
        e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal);
}
