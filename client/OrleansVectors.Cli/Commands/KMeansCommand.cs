namespace OrleansVectors.Cli.Commands;

/// <summary>ovx kmeans: k-means over an index on the cluster, with a progress bar, then cluster sizes and the objective curve.</summary>
internal static class KMeansCommand
{
    public static Command Build(CommandRunner runner)
    {
        var defaults = new FaissKMeansOptions();
        var k = ToolOptions.Integer("--k", "Clusters to find.", null, 1);
        var iterations = ToolOptions.Integer("--iterations", "Iterations of each run.", defaults.Iterations);
        var redo = ToolOptions.Integer("--redo", "Runs from different seeds; the best objective wins.", defaults.Redo);
        var seed = ToolOptions.Integer("--seed", "Random seed of the initialisation and the subsampling.", defaults.Seed);
        var spherical = new Option<bool>("--spherical") { Description = "Normalise the centroids after each iteration and assign by inner product." };
        var maxPoints = ToolOptions.Integer("--max-points", "Above this many points per centroid the training set is a sample.", defaults.MaxPointsPerCentroid);
        var minPoints = ToolOptions.Integer("--min-points", "Below this many training points per centroid faiss warns.", defaults.MinPointsPerCentroid);
        var json = ToolOptions.Json();
        const string Description = "k-means over an index on the cluster: progress, cluster sizes, objective curve (Ctrl+C cancels the run).";
        return runner.IndexCommand("kmeans", Description, [k, iterations, redo, seed, spherical, maxPoints, minPoints, json], async (parseResult, name, cluster, cancellationToken) =>
        {
            var clusters = parseResult.GetValue(k);
            var options = new FaissKMeansOptions
            {
                Iterations = parseResult.GetValue(iterations),
                Redo = parseResult.GetValue(redo),
                Seed = parseResult.GetValue(seed),
                Spherical = parseResult.GetValue(spherical),
                MaxPointsPerCentroid = parseResult.GetValue(maxPoints),
                MinPointsPerCentroid = parseResult.GetValue(minPoints),
            };
            options.Validate(); // before connecting: a bad option is the command line's error, not the cluster's
            var client = await cluster.ConnectAsync();
            var stopwatch = Stopwatch.StartNew();
            if (parseResult.GetValue(json))
            {
                // no progress bar: standard output carries the JSON document alone
                var result = await client.KMeansAsync(name, clusters, options, cancellationToken: cancellationToken);
                ToolJson.Write(parseResult, new KMeansJson(
                    name, result.K, result.Centroids.Dimension, result.Points, result.TrainingPoints, result.Spherical, result.Objective, result.RunObjectives, result.Sizes,
                    [.. Enumerable.Range(0, result.K).Select(c => result.Centroids.Values.Slice(c * result.Centroids.Dimension, result.Centroids.Dimension).ToArray())]));
                return ExitCodes.Success;
            }

            Print(await RunWithProgressAsync(client, name, clusters, options, cancellationToken), stopwatch.Elapsed);
            return ExitCodes.Success;
        });
    }

    private static Task<KMeansResult> RunWithProgressAsync(VectorIndexClient client, string name, int k, FaissKMeansOptions options, CancellationToken cancellationToken) =>
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask($"k-means k={k}", maxValue: (double)options.Iterations * options.Redo);
                var done = await client.KMeansAsync(name, k, options, progress: new Progress<KMeansProgress>(p =>
                {
                    task.Value = ((double)p.Redo * options.Iterations) + p.Iteration;
                    task.Description = p.Objective.Length == 0
                        ? $"k-means k={k}: {p.State.ToString().ToLowerInvariant()}"
                        : $"k-means k={k}: run {p.Redo + 1}, iteration {p.Iteration}, objective {p.Objective[^1]:G6}";
                }), cancellationToken: cancellationToken); // cancelling cancels the run on the cluster
                task.Value = task.MaxValue;
                return done;
            });

    private static void Print(KMeansResult result, TimeSpan elapsed)
    {
        var sizes = new Table().AddColumns("cluster", "vectors", "share");
        foreach (var (size, cluster) in result.Sizes.Select((s, c) => (s, c)).OrderByDescending(p => p.s).Take(20))
        {
            sizes.AddRow(cluster.ToString(CultureInfo.InvariantCulture), size.ToString("N0", CultureInfo.InvariantCulture), $"{100.0 * size / Math.Max(1, result.Points):0.0} %");
        }

        AnsiConsole.Write(sizes);
        if (result.K > 20)
        {
            AnsiConsole.MarkupLineInterpolated($"({result.K - 20} smaller clusters not shown; smallest {result.Sizes.Min():N0} vectors)");
        }

        var chart = new BarChart().Label("objective by iteration").Width(60);
        var step = Math.Max(1, result.Objective.Length / 12);
        for (var i = 0; i < result.Objective.Length; i += step)
        {
            chart.AddItem((i + 1).ToString(CultureInfo.InvariantCulture), Math.Round(result.Objective[i], 2), Color.Blue);
        }

        AnsiConsole.Write(chart);
        AnsiConsole.MarkupLineInterpolated(
            $"k-means over {result.Points:N0} vectors ({result.TrainingPoints:N0} training points), k={result.K}: objective {result.Objective[0]:G6} → {result.Objective[^1]:G6} in {result.Objective.Length} iterations{(result.RunObjectives.Length > 1 ? $", best of {result.RunObjectives.Length} runs" : "")}, {elapsed.TotalSeconds:0.0} s");
    }
}
