using System.Diagnostics;
using System.Text;

namespace OrleansVectors.Inference.Tests.Faiss;

/// <summary>
/// Thousands of factory strings around the grammar's edges (fixed seed), each created, trained, filled and searched
/// in a child process (tests/OrleansVectors.FactoryFuzz): none may crash it, hang it or make its memory run away.
/// </summary>
public sealed class FactoryStringFuzzTests
{
    private static readonly string[] EdgeNumbers = ["", "0", "-1", "+4", " 4", "08", "129", "255", "256", "1048576", "1048577", "2147483647", "2147483648", "99999999999"];
    private static readonly string[] Strange = ["NSG", "RQ", "LSQ", "LSH", "IMI2x", "Residual", "RFlat", "Refine", "ITQ", "RR", "Pad", "PRQ", "IVF4_HNSW"];
    private static readonly string[] Suffixes = [",", ",,", " ", "\n", "\0", "x", "np", "fp16", "_", ",RFlat", ",Flat", "x0", "x17", "_64"];
    private static readonly int[] Dimensions = [1, 2, 3, 4, 8, 16];

    [Fact]
    public async Task Generated_factory_strings_never_crash_hang_or_exhaust_the_process_that_builds_them()
    {
        var random = new Random(20261130);
        var cases = new List<(int D, string Factory)>();
        for (var i = 0; i < 2000; i++)
        {
            var d = Pick(random, Dimensions);
            cases.Add((d, Generate(random, d)));
        }

        var accepted = cases.Count(c => Accepts(c.Factory, c.D));
        Assert.True(accepted > 200, $"only {accepted} of {cases.Count} generated strings are in the grammar: the fuzz would not reach faiss");

        var (exitCode, output, elapsed) = await RunChildAsync(cases, TimeSpan.FromMinutes(8));
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var last = lines.LastOrDefault(l => l.StartsWith("> ", StringComparison.Ordinal));
        Assert.True(exitCode == 0, $"the child died or hung (exit {exitCode}) after {elapsed.TotalSeconds:0} s at '{Decode(last)}': {lines.LastOrDefault()}");
        Assert.Equal(cases.Count, lines.Count(l => l.StartsWith("> ", StringComparison.Ordinal)));
        // the grammar and faiss agree: what the grammar refuses never reaches faiss, and faiss builds all it accepts
        // (training may still fail, on too few points for the centroids asked for: "faiss: …")
        var outcomes = lines.Where(l => !l.StartsWith("> ", StringComparison.Ordinal) && !l.StartsWith("peak-rss-kib ", StringComparison.Ordinal)).ToList();
        Assert.Equal(cases.Count, outcomes.Count);
        var wrong = cases.Zip(outcomes).Where(c => Accepts(c.First.Factory, c.First.D) == c.Second.StartsWith("refused: ", StringComparison.Ordinal))
            .Select(c => $"d={c.First.D} '{c.First.Factory}': {c.Second}").ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong.Take(20)));
        var peak = long.Parse(lines[^1].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(peak < 3L << 20, $"peak memory {peak / 1024} MiB");
    }

    private static bool Accepts(string factory, int d)
    {
        try
        {
            FaissFactoryString.Parse(factory, d);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string Decode(string? line) =>
        line is null ? "(before the first string)" : $"d={line.Split(' ')[1]} {Encoding.UTF8.GetString(Convert.FromBase64String(line.Split(' ')[2])).ReplaceLineEndings("\\n")}";

    private static T Pick<T>(Random random, T[] items) => items[random.Next(items.Length)];

    /// <summary>
    /// A string of the grammar's shape whose numbers sit at their bounds (0, 1, the dimension, a divisor or not, the
    /// limits and just past them), and one time in four a mutation: a foreign index type, a stray suffix.
    /// </summary>
    private static string Generate(Random random, int d)
    {
        string Number(int max) => random.Next(5) switch
        {
            0 => Pick(random, EdgeNumbers),
            1 => "1",
            2 => max.ToString(System.Globalization.CultureInfo.InvariantCulture),
            3 => (max + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => random.Next(0, max + 2).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        var parts = new List<string>();
        // (OPQ trains for seconds: rarer than the others)
        for (var p = random.Next(3); p > 0; p--)
        {
            parts.Add(random.Next(8) switch
            {
                0 or 1 or 2 => "L2norm",
                3 or 4 or 5 => $"{Pick(random, new[] { "PCA", "PCAR", "PCAW", "PCAWR" })}{Number(d)}",
                6 => $"OPQ{Number(d)}",
                _ => $"OPQ{Number(d)}_{Number(d)}",
            });
        }

        if (random.Next(4) == 0)
        {
            parts.Add(random.Next(2) == 0 ? "IDMap" : "IDMap2");
        }

        // "np": a PQ index trains polysemous codes otherwise, for up to a minute (PQ16), which the fuzz cannot afford
        // thousands of times (FaissFactoryStringTests builds those)
        string Encoding() => random.Next(4) switch
        {
            0 => "Flat",
            1 or 2 => $"PQ{Number(d)}{(random.Next(2) == 0 ? $"x{Number(16)}" : "")}np",
            _ => Pick(random, new[] { "SQ4", "SQ6", "SQ8", "SQfp16", "SQ7", "SQ" }),
        };

        parts.Add(random.Next(4) switch
        {
            0 => Encoding(),
            1 => $"HNSW{Number(random.Next(2) == 0 ? 4 : 128)}",
            2 => $"IVF{Number(random.Next(2) == 0 ? 8 : 1 << 20)},{Encoding()}",
            _ => Encoding(),
        });

        var text = string.Join(',', parts);
        return random.Next(4) switch
        {
            0 => random.Next(2) == 0 ? text + Pick(random, Suffixes) : $"{Pick(random, Strange)}{Number(d)},{text}",
            _ => text,
        };
    }

    private static async Task<(int ExitCode, string Output, TimeSpan Elapsed)> RunChildAsync(List<(int D, string Factory)> cases, TimeSpan timeout)
    {
        // the cases stay in a file, so a failure can be replayed: dotnet ovf-factory-fuzz.dll <file>
        var file = Path.Combine(Path.GetTempPath(), $"ovf-factory-fuzz-{Environment.ProcessId}.txt");
        await File.WriteAllLinesAsync(file, cases.Select(c => $"{c.D} {Convert.ToBase64String(Encoding.UTF8.GetBytes(c.Factory))}"));
        var start = new ProcessStartInfo("dotnet", [FuzzRunner(), file])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return (-1, await output + $"\n(hung: killed after {timeout.TotalSeconds:0} s; the cases are in {file})", stopwatch.Elapsed);
        }

        await errors;
        if (process.ExitCode == 0)
        {
            File.Delete(file);
        }

        return (process.ExitCode, await output, stopwatch.Elapsed);
    }

    /// <summary>The runner built beside this test (same configuration), referenced by the test project.</summary>
    private static string FuzzRunner()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var tests = new DirectoryInfo(AppContext.BaseDirectory);
        while (tests is not null && tests.Name != "tests")
        {
            tests = tests.Parent;
        }

        var runner = tests is null ? null : Directory.GetFiles(Path.Combine(tests.FullName, "OrleansVectors.FactoryFuzz", "bin", configuration), "ovf-factory-fuzz.dll", SearchOption.AllDirectories).FirstOrDefault();
        return runner ?? throw new FileNotFoundException("ovf-factory-fuzz.dll is not built: build tests/OrleansVectors.FactoryFuzz (the test project references it).");
    }
}
