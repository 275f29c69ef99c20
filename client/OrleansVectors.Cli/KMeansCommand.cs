using System.Diagnostics;
using System.Globalization;
using OrleansVectors.Client;
using OrleansVectors.GrainInterfaces;
using Spectre.Console;

namespace OrleansVectors.Cli;

/// <summary>ovx kmeans: k-means over an index on the cluster, with a progress bar, then cluster sizes and the objective curve.</summary>
internal static class KMeansCommand
{
    public static async Task<int> Run(VectorIndexClient client, Arguments arguments)
    {
        var name = arguments.Positional(1, "index name");
        var k = arguments.Int("k", 0);
        if (k < 1)
        {
            throw new ArgumentException("ovx kmeans needs --k K (the number of clusters, at least 1).");
        }

        var defaults = new FaissKMeansOptions();
        var options = new FaissKMeansOptions
        {
            Iterations = arguments.Int("iterations", defaults.Iterations),
            Redo = arguments.Int("redo", defaults.Redo),
            Seed = arguments.Int("seed", defaults.Seed),
            Spherical = arguments.Flag("spherical"),
            MaxPointsPerCentroid = arguments.Int("max-points", defaults.MaxPointsPerCentroid),
            MinPointsPerCentroid = arguments.Int("min-points", defaults.MinPointsPerCentroid),
        };

        var stopwatch = Stopwatch.StartNew();
        using var interrupt = new CancellationTokenSource();
        ConsoleCancelEventHandler cancel = (_, e) =>
        {
            e.Cancel = true; // cancel the run on the cluster, then exit
            interrupt.Cancel();
        };
        Console.CancelKeyPress += cancel;
        KMeansResult result;
        try
        {
            result = await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask($"k-means k={k}", maxValue: (double)options.Iterations * options.Redo);
                    var done = await client.KMeansAsync(name, k, options, progress: new Progress<KMeansProgress>(p =>
                    {
                        task.Value = ((double)p.Redo * options.Iterations) + p.Iteration;
                        task.Description = p.Objective.Length == 0
                            ? $"k-means k={k}: {p.State.ToString().ToLowerInvariant()}"
                            : $"k-means k={k}: run {p.Redo + 1}, iteration {p.Iteration}, objective {p.Objective[^1]:G6}";
                    }), cancellationToken: interrupt.Token);
                    task.Value = task.MaxValue;
                    return done;
                });
        }
        finally
        {
            Console.CancelKeyPress -= cancel;
        }

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
            $"k-means over {result.Points:N0} vectors ({result.TrainingPoints:N0} training points), k={result.K}: objective {result.Objective[0]:G6} → {result.Objective[^1]:G6} in {result.Objective.Length} iterations{(result.RunObjectives.Length > 1 ? $", best of {result.RunObjectives.Length} runs" : "")}, {stopwatch.Elapsed.TotalSeconds:0.0} s");
        return 0;
    }
}
