using System.CommandLine;
using System.Globalization;
using OrleansVectors.GrainInterfaces;
using Spectre.Console;

namespace OrleansVectors.Cli.Commands;

/// <summary>ovx stats (or describe): an index's spec, vector count and shards.</summary>
internal static class StatsCommand
{
    public static Command Build(CommandRunner runner)
    {
        var index = ToolOptions.Index();
        var json = ToolOptions.Json();
        var command = new Command("stats", "An index's spec, vector count, and each shard's count, silo and engine.") { index, json };
        command.Aliases.Add("describe");
        runner.SetAction(command, async (parseResult, cluster, _) =>
        {
            var client = await cluster.ConnectAsync();
            var description = await client.DescribeIndexAsync(parseResult.GetRequiredValue(index));
            if (parseResult.GetValue(json))
            {
                ToolJson.Write(parseResult, ToolJson.From(description));
            }
            else
            {
                Print(description);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The description as a line and a table of shards (also after create and in the demo).</summary>
    public static void Print(IndexDescription description)
    {
        var spec = description.Spec;
        AnsiConsole.MarkupLineInterpolated(
            $"[bold]{description.Name}[/]: {description.Count:N0} vectors, d={spec.Dimension}, {spec.Metric}, {spec.Factory}, {spec.ShardCount} shards{(spec.Model is null ? "" : $", model {spec.Model}")}");
        var table = new Table().AddColumns("shard", "vectors", "silo", "engine");
        foreach (var shard in description.Shards)
        {
            table.AddRow(shard.Shard.ToString(CultureInfo.InvariantCulture), shard.Count.ToString("N0", CultureInfo.InvariantCulture), Markup.Escape(shard.Silo), Markup.Escape(shard.Engine));
        }

        AnsiConsole.Write(table);
    }
}
