namespace OrleansVectors.Cli.Commands;

/// <summary>ovx create, ingest, query, stats (or describe) and drop: an index and its vectors.</summary>
internal static class IndexCommands
{
    public static Command BuildCreate(CommandRunner runner)
    {
        var dimension = ToolOptions.Integer("--dim", "Vector dimension (with --model: the embeddings').", null);
        var metric = ToolOptions.Metric();
        var factory = new Option<string>("--factory") { Description = "Each shard's faiss factory string: Flat, IVF256,Flat, HNSW32, PQ16, ….", HelpName = "spec", DefaultValueFactory = _ => "Flat" };
        var shards = ToolOptions.Integer("--shards", "Shards the index is spread over.", 1);
        var threshold = ToolOptions.Number("--threshold", "Default radius of match queries (squared L2, or the inner product to exceed).");
        var model = new Option<string>("--model") { Description = "A TorchScript model in the silos' model folder that embeds added and queried inputs; needs --input-dim.", HelpName = "name.pt" };
        var inputDimension = new Option<int?>("--input-dim") { Description = "With --model: the dimension of the inputs it embeds.", HelpName = "n" };
        return runner.IndexCommand("create", "Create an index.", [dimension, metric, factory, shards, threshold, model, inputDimension], async (parseResult, name, cluster, _) =>
        {
            var spec = new IndexSpec
            {
                Dimension = parseResult.GetValue(dimension),
                Metric = parseResult.GetValue(metric) ?? VectorMetric.L2,
                Factory = parseResult.GetRequiredValue(factory),
                ShardCount = parseResult.GetValue(shards),
                MatchThreshold = parseResult.GetValue(threshold),
                Model = parseResult.GetValue(model),
                InputDimension = parseResult.GetValue(inputDimension),
            };
            spec.Validate(); // a bad spec fails here, without waiting on the gateways
            var client = await cluster.ConnectAsync();
            Print(await client.CreateIndexAsync(name, spec));
            return ExitCodes.Success;
        });
    }

    public static Command BuildIngest(CommandRunner runner)
    {
        var path = new Argument<string>("file") { Description = "The vectors: .fvecs, .npy, or .csv (optionally .gz)." };
        var batch = ToolOptions.Integer("--batch", "Rows per message.", VectorIndexClient.DefaultBatchRows, 1);
        var fileOptions = new VectorFileOptions();
        return runner.IndexCommand("ingest", "Add a file's vectors to an index.", [path, batch, .. fileOptions.Symbols], async (parseResult, name, cluster, cancellationToken) =>
        {
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
    }

    public static Command BuildQuery(CommandRunner runner)
    {
        var path = new Argument<string>("file") { Description = "The queries: .fvecs, .npy, or .csv (optionally .gz)." };
        var k = ToolOptions.Integer("--k", "Neighbours per query.", 10, 1);
        var limit = ToolOptions.Integer("--limit", "Queries taken from the top of the file.", 10, 1);
        var json = ToolOptions.Json();
        var fileOptions = new VectorFileOptions();
        return runner.IndexCommand("query", "Search an index with a file's first rows.", [path, k, limit, json, .. fileOptions.Symbols], async (parseResult, name, cluster, cancellationToken) =>
        {
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
    }

    public static Command BuildStats(CommandRunner runner)
    {
        var json = ToolOptions.Json();
        var command = runner.IndexCommand("stats", "An index's spec, vector count, and each shard's count, silo and engine.", [json], async (parseResult, name, cluster, _) =>
        {
            var description = await (await cluster.ConnectAsync()).DescribeIndexAsync(name);
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
        command.Aliases.Add("describe");
        return command;
    }

    public static Command BuildDrop(CommandRunner runner) =>
        runner.IndexCommand("drop", "Delete an index (its saved snapshots stay).", [], async (_, name, cluster, _) =>
        {
            if (!await (await cluster.ConnectAsync()).DropIndexAsync(name))
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] no index named {ResourceNames.Quote(name)}; nothing was dropped");
                return ExitCodes.Failed;
            }

            AnsiConsole.MarkupLineInterpolated($"dropped {name}");
            return ExitCodes.Success;
        });

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

    /// <summary>A query's neighbours, nearest first, without the empty places (id −1) of a short answer.</summary>
    private static NeighborJson[] Neighbours(NeighborResults results, int q) =>
        [.. results.LabelsOf(q).ToArray().Zip(results.DistancesOf(q).ToArray()).Where(p => p.First >= 0).Select(p => new NeighborJson(p.First, p.Second))];
}
