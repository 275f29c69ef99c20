using System.Diagnostics;
using System.Globalization;
using OrleansVectors.Client;
using OrleansVectors.GrainInterfaces;
using Spectre.Console;

namespace OrleansVectors.Cli;

/// <summary>The index commands.</summary>
internal static class Commands
{
    public static async Task<int> Create(VectorIndexClient client, Arguments arguments)
    {
        var name = arguments.Positional(1, "index name");
        var model = arguments.String("model");
        var spec = new IndexSpec
        {
            Dimension = arguments.Int("dim", 0),
            Metric = arguments.Metric(),
            Factory = arguments.String("factory", "Flat"),
            ShardCount = arguments.Int("shards", 1),
            MatchThreshold = arguments.Double("threshold"),
            Model = model,
            InputDimension = model is null ? null : arguments.Int("input-dim", 0),
        };
        Print(await client.CreateIndexAsync(name, spec));
        return 0;
    }

    public static async Task<int> Ingest(VectorIndexClient client, Arguments arguments)
    {
        var name = arguments.Positional(1, "index name");
        var file = VectorFiles.Read(arguments.Positional(2, "vector file"), arguments.Flag("label-column"), arguments.CsvHeader());
        var batch = arguments.Int("batch", VectorIndexClient.DefaultBatchRows);
        var stopwatch = Stopwatch.StartNew();
        await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask($"ingest {file.Count:N0} × {file.Dimension}", maxValue: file.Count);
                await client.AddAsync(name, file.Values, file.Dimension, batchRows: batch, progress: new Progress<long>(done => task.Value = done));
                task.Value = file.Count;
            });
        AnsiConsole.MarkupLineInterpolated($"added {file.Count:N0} vectors in {stopwatch.Elapsed.TotalSeconds:0.00} s ({file.Count / stopwatch.Elapsed.TotalSeconds:N0}/s); index holds {await client.CountAsync(name):N0}");
        return 0;
    }

    public static async Task<int> Query(VectorIndexClient client, Arguments arguments)
    {
        var name = arguments.Positional(1, "index name");
        var file = VectorFiles.Read(arguments.Positional(2, "query file"), arguments.Flag("label-column"), arguments.CsvHeader());
        var k = arguments.Int("k", 10);
        var limit = Math.Min(arguments.Int("limit", 10), file.Count);
        var stopwatch = Stopwatch.StartNew();
        var results = await client.SearchAsync(name, file.Values.AsMemory(0, limit * file.Dimension), file.Dimension, k);
        var table = new Table().AddColumns("query", "neighbours (id: distance)");
        for (var q = 0; q < results.QueryCount; q++)
        {
            var cells = results.LabelsOf(q).ToArray().Zip(results.DistancesOf(q).ToArray()).Where(p => p.First >= 0).Select(p => $"{p.First}: {p.Second:0.###}");
            table.AddRow(q.ToString(CultureInfo.InvariantCulture), string.Join("  ", cells));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"{results.QueryCount} queries, k={k}, {stopwatch.Elapsed.TotalMilliseconds:0.0} ms{(results.IsPartial ? " [yellow](partial)[/]" : "")}");
        return 0;
    }

    public static async Task<int> Stats(VectorIndexClient client, Arguments arguments)
    {
        Print(await client.DescribeIndexAsync(arguments.Positional(1, "index name")));
        return 0;
    }

    public static async Task<int> Drop(VectorIndexClient client, Arguments arguments)
    {
        var name = arguments.Positional(1, "index name");
        if (!await client.DropIndexAsync(name))
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] no index named {IndexNames.Quote(name)}; nothing was dropped");
            return 1;
        }

        AnsiConsole.MarkupLineInterpolated($"dropped {name}");
        return 0;
    }

    public static async Task<int> Snapshot(VectorIndexClient client, Arguments arguments)
    {
        var name = arguments.Positional(1, "index name");
        var snapshot = await WithSpinnerAsync($"snapshot of {name}", () => client.SnapshotAsync(name));
        Print(snapshot, "committed");
        return 0;
    }

    public static async Task<int> Snapshots(VectorIndexClient client, Arguments arguments)
    {
        var name = arguments.Positional(1, "index name");
        var table = new Table().AddColumns("version", "name", "created (UTC)", "vectors", "bytes");
        foreach (var snapshot in await client.ListSnapshotsAsync(name))
        {
            table.AddRow(
                snapshot.Name is null ? snapshot.Version.ToString(CultureInfo.InvariantCulture) : "",
                snapshot.Name ?? "",
                snapshot.Created.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                snapshot.Count.ToString("N0", CultureInfo.InvariantCulture),
                snapshot.Bytes.ToString("N0", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        return 0;
    }

    public static async Task<int> Restore(VectorIndexClient client, Arguments arguments)
    {
        var name = arguments.Positional(1, "index name");
        var saved = arguments.String("name");
        var version = arguments.Int("version", 0);
        if (saved is not null && version != 0)
        {
            throw new ArgumentException("Give --version or --name, not both.");
        }

        if (saved is null && version == 0)
        {
            var versions = (await client.ListSnapshotsAsync(name)).Where(s => s.Name is null).ToList();
            version = versions.Count > 0 ? (int)versions[^1].Version : throw new InvalidOperationException($"Index '{name}' has no snapshot to restore.");
        }

        var restored = saved is null
            ? await WithSpinnerAsync($"restore of {name} to version {version}", () => client.RestoreAsync(name, version))
            : await WithSpinnerAsync($"load of '{saved}' into {name}", () => client.LoadAsync(name, saved));
        Print(restored, "restored; committed as version");
        return 0;
    }

    public static async Task<int> Save(VectorIndexClient client, Arguments arguments)
    {
        var name = arguments.Positional(1, "index name");
        var saved = arguments.Positional(2, "snapshot name");
        Print(await WithSpinnerAsync($"save of {name} as '{saved}'", () => client.SaveAsync(name, saved)), $"saved as '{saved}', version");
        return 0;
    }

    public static async Task<int> Export(VectorIndexClient client, Arguments arguments)
    {
        var name = arguments.Positional(1, "index name");
        var path = Path.GetFullPath(arguments.Positional(2, "faiss file"));
        var stopwatch = Stopwatch.StartNew();
        long count = 0;
        await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn())
            .StartAsync(async context =>
            {
                // the snapshot and merge come first (the bar waits), then the download
                var task = context.AddTask($"export {name}", maxValue: 1).IsIndeterminate();
                count = await client.ExportAsync(name, path, new Progress<long>(bytes =>
                {
                    task.IsIndeterminate(false);
                    task.MaxValue = Math.Max(task.MaxValue, bytes);
                    task.Value = bytes;
                }));
                task.Value = task.MaxValue;
            });
        AnsiConsole.MarkupLineInterpolated($"exported {count:N0} vectors to {path} ({new FileInfo(path).Length / 1048576.0:N1} MiB) in {stopwatch.Elapsed.TotalSeconds:0.0} s");
        return 0;
    }

    public static async Task<int> Import(VectorIndexClient client, Arguments arguments)
    {
        var name = arguments.Positional(1, "index name");
        var path = arguments.Positional(2, "faiss file");
        var factory = arguments.String("factory");
        var shards = arguments.Int("shards", 0);
        IndexSpec? spec = null;
        if (factory is not null || shards != 0)
        {
            using var file = Inference.Faiss.FaissIndex.Load(path);
            spec = new IndexSpec
            {
                Dimension = file.Dimension,
                Metric = file.Metric == Inference.Faiss.FaissMetric.InnerProduct ? VectorMetric.InnerProduct : VectorMetric.L2,
                Factory = factory ?? "Flat",
                ShardCount = shards == 0 ? 1 : shards,
            };
        }

        var stopwatch = Stopwatch.StartNew();
        long count = 0;
        await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask($"import {Path.GetFileName(path)}", maxValue: 1);
                count = await client.ImportAsync(name, path, spec, progress: new Progress<long>(done =>
                {
                    task.MaxValue = Math.Max(task.MaxValue, done);
                    task.Value = done;
                }));
                task.Value = task.MaxValue;
            });
        AnsiConsole.MarkupLineInterpolated($"imported {count:N0} vectors in {stopwatch.Elapsed.TotalSeconds:0.0} s; index holds {await client.CountAsync(name):N0}");
        return 0;
    }

    private static async Task<T> WithSpinnerAsync<T>(string what, Func<Task<T>> work)
    {
        var stopwatch = Stopwatch.StartNew();
        var result = await AnsiConsole.Status().StartAsync($"{what}…", _ => work());
        AnsiConsole.MarkupLineInterpolated($"{what}: {stopwatch.Elapsed.TotalSeconds:0.0} s");
        return result;
    }

    private static void Print(SnapshotInfo snapshot, string what) =>
        AnsiConsole.MarkupLineInterpolated($"{what} {snapshot.Version}: {snapshot.Count:N0} vectors, {snapshot.Bytes / 1048576.0:N1} MiB");

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
