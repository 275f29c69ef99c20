using System.CommandLine.Parsing;

namespace OrleansVectors.Cli;

/// <summary>Arguments and options several commands take, made fresh for each command (a symbol has one parent).</summary>
internal static class ToolOptions
{
    /// <summary>--json: the result as JSON (<see cref="ToolJson"/>) instead of tables.</summary>
    public static Option<bool> Json() => new("--json") { Description = "Write the result as one JSON document (camelCase properties) instead of tables." };

    /// <summary>
    /// An integer option, required when it has no default. The tool checks only the lower bound it relies on itself;
    /// other limits belong to the index's spec and the client, which name them.
    /// </summary>
    public static Option<int> Integer(string name, string description, int? defaultValue, int? min = null)
    {
        var option = new Option<int>(name) { Description = description, HelpName = "n", Required = defaultValue is null };
        if (defaultValue is { } value)
        {
            option.DefaultValueFactory = _ => value;
        }

        if (min is { } least)
        {
            option.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<int>() is var given && given < least)
                {
                    result.AddError($"{name} takes an integer of at least {least}; got {given}.");
                }
            });
        }

        return option;
    }

    /// <summary>--metric: l2 (squared Euclidean) or ip (inner product); null when not given.</summary>
    public static Option<VectorMetric?> Metric()
    {
        var option = new Option<VectorMetric?>("--metric")
        {
            Description = "Distance: l2 (squared Euclidean, the default) or ip (inner product).",
            HelpName = "l2|ip",
            CustomParser = result => result.Tokens[0].Value.ToLowerInvariant() switch
            {
                "l2" => VectorMetric.L2,
                "ip" or "innerproduct" => VectorMetric.InnerProduct,
                var other => Reject<VectorMetric>(result, $"--metric must be l2 or ip; got '{other}'."),
            },
        };
        option.CompletionSources.Add("l2", "ip");
        return option;
    }

    /// <summary>A number option with no default (null when not given).</summary>
    public static Option<double?> Number(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "x",
        CustomParser = result => double.TryParse(result.Tokens[0].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : Reject<double>(result, $"{name} needs a number; got '{result.Tokens[0].Value}'."),
    };

    private static T? Reject<T>(ArgumentResult result, string message)
        where T : struct
    {
        result.AddError(message);
        return null;
    }
}
