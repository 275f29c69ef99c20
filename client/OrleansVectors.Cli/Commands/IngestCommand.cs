using System.CommandLine;
using System.Diagnostics;
using OrleansVectors.Client;
using Spectre.Console;

namespace OrleansVectors.Cli.Commands;

/// <summary>ovx ingest: add a file's vectors, with a progress bar.</summary>
internal static class IngestCommand
{
    public static Command Build(CommandRunner runner)
    {
        var index = ToolOptions.Index();
        var path = new Argument<string>("file") { Description = "The vectors: .fvecs, .npy, or .csv (optionally .gz)." };
        var batch = ToolOptions.Integer("--batch", "Rows per message.", VectorIndexClient.DefaultBatchRows, 1);
        var fileOptions = new VectorFileOptions();
        var command = new Command("ingest", "Add a file's vectors to an index.") { index, path, batch };
        fileOptions.AddTo(command);
        runner.SetAction(command, async (parseResult, cluster, cancellationToken) =>
        {
            var name = parseResult.GetRequiredValue(index);
            var file = fileOptions.Read(parseResult, parseResult.GetRequiredValue(path));
            var client = await cluster.ConnectAsync();
            var stopwatch = Stopwatch.StartNew();
            await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask($"ingest {file.Count:N0} × {file.Dimension}", maxValue: file.Count);
                    await client.AddAsync(name, file.Values, file.Dimension, batchRows: parseResult.GetValue(batch), progress: new Progress<long>(done => task.Value = done), cancellationToken: cancellationToken);
                    task.Value = file.Count;
                });
            AnsiConsole.MarkupLineInterpolated($"added {file.Count:N0} vectors in {stopwatch.Elapsed.TotalSeconds:0.00} s ({file.Count / stopwatch.Elapsed.TotalSeconds:N0}/s); index holds {await client.CountAsync(name):N0}");
            return ExitCodes.Success;
        });
        return command;
    }
}
