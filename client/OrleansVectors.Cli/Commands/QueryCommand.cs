using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using OrleansVectors.GrainInterfaces;
using Spectre.Console;

namespace OrleansVectors.Cli.Commands;

/// <summary>ovx query: the nearest neighbours of a file's first rows.</summary>
internal static class QueryCommand
{
    public static Command Build(CommandRunner runner)
    {
        var index = ToolOptions.Index();
        var path = new Argument<string>("file") { Description = "The queries: .fvecs, .npy, or .csv (optionally .gz)." };
        var k = ToolOptions.Integer("--k", "Neighbours per query.", 10, 1);
        var limit = ToolOptions.Integer("--limit", "Queries taken from the top of the file.", 10, 1);
        var json = ToolOptions.Json();
        var fileOptions = new VectorFileOptions();
        var command = new Command("query", "Search an index with a file's first rows.") { index, path, k, limit, json };
        fileOptions.AddTo(command);
        runner.SetAction(command, async (parseResult, cluster, cancellationToken) =>
        {
            var name = parseResult.GetRequiredValue(index);
            var file = fileOptions.Read(parseResult, parseResult.GetRequiredValue(path));
            var neighbours = parseResult.GetValue(k);
            var rows = Math.Min(parseResult.GetValue(limit), file.Count);
            var client = await cluster.ConnectAsync();
            var stopwatch = Stopwatch.StartNew();
            var results = await client.SearchAsync(name, file.Values.AsMemory(0, rows * file.Dimension), file.Dimension, neighbours, cancellationToken: cancellationToken);
            if (parseResult.GetValue(json))
            {
                ToolJson.Write(parseResult, new QueryJson(name, neighbours, results.IsPartial, results.FailedShards, [.. Enumerable.Range(0, results.QueryCount).Select(q => new QueryResultJson(q, Neighbours(results, q)))]));
                return ExitCodes.Success;
            }

            var table = new Table().AddColumns("query", "neighbours (id: distance)");
            for (var q = 0; q < results.QueryCount; q++)
            {
                table.AddRow(q.ToString(CultureInfo.InvariantCulture), string.Join("  ", Neighbours(results, q).Select(n => $"{n.Id}: {n.Distance:0.###}")));
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLineInterpolated($"{results.QueryCount} queries, k={neighbours}, {stopwatch.Elapsed.TotalMilliseconds:0.0} ms{(results.IsPartial ? " [yellow](partial)[/]" : "")}");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>A query's neighbours, nearest first, without the empty places (id −1) of a short answer.</summary>
    private static NeighborJson[] Neighbours(NeighborResults results, int q) =>
        [.. results.LabelsOf(q).ToArray().Zip(results.DistancesOf(q).ToArray()).Where(p => p.First >= 0).Select(p => new NeighborJson(p.First, p.Second))];
}
