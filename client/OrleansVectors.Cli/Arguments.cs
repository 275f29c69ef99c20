using System.Globalization;
using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Cli;

/// <summary>The command line: a command, positional arguments and --name value options.</summary>
internal sealed class Arguments
{
    public const string Usage = """
        [bold]ovx[/] [[--gateways 30000,30001]] [[--connect-timeout 10]] [[--api-key K (or OVX_API_KEY)]] <command>

          create <index> --dim D [[--metric l2|ip]] [[--factory Flat]] [[--shards N]] [[--threshold T]] [[--model name.pt --input-dim N]]
          ingest <index> <file.fvecs|file.npy|file.csv[[.gz]]> [[--batch 8192]] [[--label-column]] [[--header | --no-header]]
          query  <index> <file> [[--k 10]] [[--limit 10]] [[--label-column]] [[--header | --no-header]]
          stats  <index>
          drop   <index>
          snapshot  <index>                     snapshot now (they also run on their own)
          snapshots <index>                     retained versions and saved snapshots
          restore   <index> [[--version N | --name S]]   back to a version (default: the newest) or a saved snapshot
          save      <index> <name>              keep a snapshot under a name, past retention and drop
          export    <index> <file.faiss>        all vectors and ids as one faiss file (Flat, PQ, SQ indexes)
          import    <index> <file.faiss> [[--shards N]] [[--factory F]]   add a faiss file's vectors (creating the index)
          demo   [[--shards 3]] [[--k 10]]      the handwritten-digits job: ingest, k-NN, matches, checks
        """;

    private readonly Dictionary<string, string> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly List<string> _positional = [];

    public Arguments(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "--label-column" or "--header" or "--no-header")
            {
                _flags.Add(args[i][2..]);
            }
            else if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
            {
                _options[args[i][2..]] = args[++i];
            }
            else
            {
                _positional.Add(args[i]);
            }
        }

        Gateways = [.. String("gateways", "30000").Split(',').Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            ? port
            : throw new ArgumentException($"--gateways takes TCP ports separated by commas; got '{p}'."))];
    }

    public int[] Gateways { get; }

    /// <summary>How long to keep trying the gateways before giving up (--connect-timeout, seconds).</summary>
    public TimeSpan ConnectTimeout => TimeSpan.FromSeconds(Int("connect-timeout", 10) is var seconds and >= 1 and <= 600
        ? seconds
        : throw new ArgumentException($"--connect-timeout takes 1 to 600 seconds; got {String("connect-timeout")}."));

    /// <summary>A CSV file's first row: --header, --no-header, or decided by its content.</summary>
    public CsvHeader CsvHeader() => (Flag("header"), Flag("no-header")) switch
    {
        (true, true) => throw new ArgumentException("--header and --no-header contradict each other."),
        (true, false) => Cli.CsvHeader.Yes,
        (false, true) => Cli.CsvHeader.No,
        _ => Cli.CsvHeader.Auto,
    };

    public string? Command => _positional.FirstOrDefault();

    public string Positional(int index, string what) =>
        _positional.Count > index ? _positional[index] : throw new ArgumentException($"Missing {what}; see 'ovx help'.");

    public bool Flag(string name) => _flags.Contains(name);

    public string String(string name, string fallback) => _options.GetValueOrDefault(name, fallback);

    public string? String(string name) => _options.GetValueOrDefault(name);

    public int Int(string name, int fallback) =>
        _options.TryGetValue(name, out var text)
            ? int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : throw new ArgumentException($"--{name} needs an integer; got '{text}'.")
            : fallback;

    public double? Double(string name) =>
        _options.TryGetValue(name, out var text)
            ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : throw new ArgumentException($"--{name} needs a number; got '{text}'.")
            : null;

    public VectorMetric Metric() => String("metric", "l2").ToLowerInvariant() switch
    {
        "l2" => VectorMetric.L2,
        "ip" or "innerproduct" => VectorMetric.InnerProduct,
        var other => throw new ArgumentException($"--metric must be l2 or ip; got '{other}'."),
    };
}
