using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Cli.Commands;

/// <summary>
/// The main job: the handwritten-digits data set (1 797 images of 8×8 pixels) through the cluster. Four of every
/// five digits are indexed across the shards; the fifth are queries. It reports sizes and timings, precision@1 of
/// nearest-neighbour classification, threshold matches, and agreement with an in-process faiss index over the same
/// vectors.
/// </summary>
internal static class DemoCommand
{
    private const string IndexName = "digits";
    private const float MatchRadius = 400f;

    public static Command Build(CommandRunner runner)
    {
        var shards = ToolOptions.Integer("--shards", "Shards of the digits index.", 3);
        var k = ToolOptions.Integer("--k", "Neighbours per query.", 10, 1);
        var command = new Command("demo", "The handwritten-digits job: ingest, k-NN, matches, and a check against in-process faiss (exit 1 when they differ).") { shards, k };
        runner.SetAction(command, async (parseResult, cluster, _) => await RunAsync(await cluster.ConnectAsync(), parseResult.GetValue(shards), parseResult.GetValue(k)));
        return command;
    }

    private static async Task<int> RunAsync(VectorIndexClient client, int shards, int k)
    {
        var data = VectorFiles.Read(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv.gz"), lastColumnIsLabel: true);
        var d = data.Dimension;
        var referenceRows = Enumerable.Range(0, data.Count).Where(i => i % 5 != 0).ToArray();
        var queryRows = Enumerable.Range(0, data.Count).Where(i => i % 5 == 0).ToArray();
        var reference = Gather(data, referenceRows);
        var queries = Gather(data, queryRows);
        var labels = data.Labels!;

        AnsiConsole.Write(new Rule("[bold]OrleansVectors[/] — handwritten digits through the cluster"));
        AnsiConsole.MarkupLineInterpolated($"{data.Count:N0} images of 8×8 pixels (d={d}): {referenceRows.Length:N0} indexed, {queryRows.Length:N0} held out as queries");

        await client.DropIndexAsync(IndexName);
        await client.CreateIndexAsync(IndexName, new IndexSpec { Dimension = d, ShardCount = shards, MatchThreshold = MatchRadius });
        var ingest = Stopwatch.StartNew();
        await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("ingest", maxValue: referenceRows.Length);
                await client.AddAsync(IndexName, reference, d, batchRows: 100, progress: new Progress<long>(done => task.Value = done));
                task.Value = referenceRows.Length;
            });
        ingest.Stop();
        IndexCommands.Print(await client.DescribeIndexAsync(IndexName));
        AnsiConsole.MarkupLineInterpolated($"ingest: {referenceRows.Length:N0} vectors in {ingest.Elapsed.TotalMilliseconds:N0} ms ({referenceRows.Length / ingest.Elapsed.TotalSeconds:N0} vectors/s, batches of 100)");

        // k-NN classification of the held-out digits
        var search = Stopwatch.StartNew();
        var neighbours = await client.SearchAsync(IndexName, queries, d, k);
        search.Stop();
        var correct = Enumerable.Range(0, neighbours.QueryCount).Count(q => labels[referenceRows[neighbours.LabelsOf(q)[0]]] == labels[queryRows[q]]);
        AnsiConsole.MarkupLineInterpolated($"k-NN: {queryRows.Length} queries, k={k}, one batch: {search.Elapsed.TotalMilliseconds:N1} ms; precision@1 = [bold]{correct / (double)queryRows.Length:P1}[/]");

        var latencies = new List<double>();
        for (var q = 0; q < 100; q++)
        {
            var single = Stopwatch.StartNew();
            await client.SearchAsync(IndexName, queries.AsMemory(q * d, d), d, k);
            latencies.Add(single.Elapsed.TotalMilliseconds);
        }

        latencies.Sort();
        AnsiConsole.MarkupLineInterpolated($"single queries: p50 {latencies[49]:0.00} ms, p99 {latencies[98]:0.00} ms");

        // threshold matches
        var matches = await client.MatchAsync(IndexName, queries, d);
        var pairs = matches.Labels.Length;
        var sameDigit = 0;
        for (var q = 0; q < matches.QueryCount; q++)
        {
            foreach (var id in matches.LabelsOf(q))
            {
                sameDigit += labels[referenceRows[id]] == labels[queryRows[q]] ? 1 : 0;
            }
        }

        var matched = Enumerable.Range(0, matches.QueryCount).Count(q => matches.LabelsOf(q).Length > 0);
        AnsiConsole.MarkupLineInterpolated($"threshold matches (squared L2 < {MatchRadius}): {pairs:N0} pairs, {matched} of {matches.QueryCount} queries matched, {sameDigit / (double)Math.Max(1, pairs):P1} of pairs are the same digit");

        // agreement with one in-process faiss index over the same vectors
        using var local = FaissIndex.Create(d);
        local.Add(reference);
        var expected = local.Search(queries, k);
        var agreeing = Enumerable.Range(0, expected.QueryCount).Count(q => SameTopK(expected, neighbours, q));
        var agreement = agreeing / (double)expected.QueryCount;
        AnsiConsole.MarkupLineInterpolated($"agreement with an in-process faiss Flat index: [bold]{agreement:P1}[/] of queries have the same top-{k} (ids, and distances within 1e-5)");
        return agreement == 1.0 ? ExitCodes.Success : ExitCodes.Failed;
    }

    /// <summary>Same distances rank by rank, and the same ids apart from the order of equal distances.</summary>
    private static bool SameTopK(FaissKnnResult expected, NeighborResults actual, int q)
    {
        var ed = expected.DistancesOf(q);
        var ad = actual.DistancesOf(q);
        for (var j = 0; j < ed.Length; j++)
        {
            if (Math.Abs(ed[j] - ad[j]) > 1e-5 * Math.Max(1, Math.Abs(ed[j])))
            {
                return false;
            }
        }

        // ids may differ only among equal distances, including ties at the k-th place
        var kth = ed[^1];
        var expectedDistances = ed.ToArray();
        var actualDistances = ad.ToArray();
        var expectedIds = expected.LabelsOf(q).ToArray().Where((_, j) => expectedDistances[j] < kth).Order();
        var actualIds = actual.LabelsOf(q).ToArray().Where((_, j) => actualDistances[j] < kth).Order();
        return expectedIds.SequenceEqual(actualIds);
    }

    private static float[] Gather(VectorFile data, int[] rows)
    {
        var result = new float[rows.Length * data.Dimension];
        for (var i = 0; i < rows.Length; i++)
        {
            data.Values.AsSpan(rows[i] * data.Dimension, data.Dimension).CopyTo(result.AsSpan(i * data.Dimension));
        }

        return result;
    }
}
