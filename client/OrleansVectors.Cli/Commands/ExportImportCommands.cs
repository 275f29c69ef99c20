using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Cli.Commands;

/// <summary>ovx export and import: an index as one faiss file.</summary>
internal static class ExportImportCommands
{
    public static Command BuildExport(CommandRunner runner)
    {
        var path = new Argument<string>("file") { Description = "The faiss file to write (Flat, PQ and SQ indexes export)." };
        return runner.IndexCommand("export", "Write all of an index's vectors and ids as one faiss file.", [path], async (parseResult, name, cluster, cancellationToken) =>
        {
            var file = Path.GetFullPath(parseResult.GetRequiredValue(path));
            var client = await cluster.ConnectAsync();
            var stopwatch = Stopwatch.StartNew();
            long count = 0;
            await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn())
                .StartAsync(async context =>
                {
                    // the snapshot and merge come first (the bar waits), then the download
                    var task = context.AddTask($"export {name}", maxValue: 1).IsIndeterminate();
                    count = await client.ExportAsync(name, file, new Progress<long>(bytes =>
                    {
                        task.IsIndeterminate(false);
                        task.MaxValue = Math.Max(task.MaxValue, bytes);
                        task.Value = bytes;
                    }), cancellationToken);
                    task.Value = task.MaxValue;
                });
            AnsiConsole.MarkupLineInterpolated($"exported {count:N0} vectors to {file} ({new FileInfo(file).Length / (double)Limits.BytesPerMiB:N1} MiB) in {stopwatch.Elapsed.TotalSeconds:0.0} s");
            return ExitCodes.Success;
        });
    }

    public static Command BuildImport(CommandRunner runner)
    {
        var path = new Argument<string>("file") { Description = "A faiss file (Flat, HNSW, PQ, SQ; IVF files cannot be read back)." };
        var shards = new Option<int?>("--shards") { Description = "Shards of the index when the import creates it (default 1).", HelpName = "n" };
        var factory = new Option<string>("--factory") { Description = "Factory string of the index when the import creates it (default Flat).", HelpName = "spec" };
        return runner.IndexCommand("import", "Add a faiss file's vectors to an index, creating it when missing.", [path, shards, factory], async (parseResult, name, cluster, cancellationToken) =>
        {
            var file = parseResult.GetRequiredValue(path);
            using var faiss = FaissIndex.Load(file); // once: the spec and the import read the same index
            IndexSpec? spec = null;
            if (parseResult.GetValue(factory) is not null || parseResult.GetValue(shards) is not null)
            {
                spec = FaissFileImport.SpecOf(faiss) with
                {
                    Factory = parseResult.GetValue(factory) ?? "Flat",
                    ShardCount = parseResult.GetValue(shards) ?? 1,
                };
                spec.Validate();
            }

            var client = await cluster.ConnectAsync();
            var stopwatch = Stopwatch.StartNew();
            long count = 0;
            await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask($"import {Path.GetFileName(file)}", maxValue: 1);
                    count = await client.ImportAsync(name, faiss, spec, progress: new Progress<long>(done =>
                    {
                        task.MaxValue = Math.Max(task.MaxValue, done);
                        task.Value = done;
                    }), cancellationToken: cancellationToken);
                    task.Value = task.MaxValue;
                });
            AnsiConsole.MarkupLineInterpolated($"imported {count:N0} vectors in {stopwatch.Elapsed.TotalSeconds:0.0} s; index holds {await client.CountAsync(name):N0}");
            return ExitCodes.Success;
        });
    }
}
