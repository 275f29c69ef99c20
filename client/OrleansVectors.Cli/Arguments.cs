using System.Globalization;
using OrleansVectors.Client.Hosting;
using OrleansVectors.Connections;
using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Cli;

/// <summary>The command line: a command, positional arguments and --name value options.</summary>
internal sealed class Arguments
{
    public const string Usage = """
        [bold]ovx[/] [[connection]] <command>

        connection (each also from the environment: OVX_GATEWAYS, OVX_STORAGE, OVX_API_KEY, …):
          --gateways 30000,30001        a local cluster's gateway ports (the default: 30000)
          --storage CONNECTION-STRING   a production cluster: its membership table's storage account (OVX_STORAGE)
          --cluster-id ID               the cluster's id (default orleansvectors)
          --tls-cert F --tls-key F --tls-ca F   mutual TLS: this client's certificate, key and the cluster's CA (PEM)
          --api-key K                   the key the silos require (OVX_API_KEY)
          --connect-timeout 10          seconds to keep trying the gateways

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
          kmeans <index> --k K [[--iterations 25]] [[--redo 1]] [[--seed 1234]] [[--spherical]] [[--max-points 256]] [[--min-points 39]]
                                                k-means on the cluster: progress, cluster sizes, objective curve (Ctrl+C cancels)
          demo   [[--shards 3]] [[--k 10]]      the handwritten-digits job: ingest, k-NN, matches, checks
        """;

    private readonly Dictionary<string, string> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly List<string> _positional = [];

    public Arguments(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "--label-column" or "--header" or "--no-header" or "--spherical")
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

    }

    /// <summary>Where the cluster is and how to reach it: the connection options, then OVX_* environment variables.</summary>
    public ClusterConnectionOptions Connection()
    {
        var storage = Setting("storage");
        var tls = new[] { Setting("tls-cert"), Setting("tls-key"), Setting("tls-ca") };
        if (tls.Any(f => f is not null) && tls.Any(f => f is null))
        {
            throw new ArgumentException("Mutual TLS needs all of --tls-cert, --tls-key and --tls-ca.");
        }

        return new ClusterConnectionOptions
        {
            Clustering = storage is null ? ClusteringKind.Localhost : ClusteringKind.AzureTable,
            GatewayPorts = [.. (Setting("gateways") ?? "30000").Split(',').Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
                ? port
                : throw new ArgumentException($"--gateways takes TCP ports separated by commas; got '{p}'."))],
            StorageConnectionString = storage,
            ClusterId = Setting("cluster-id") ?? ClusterConnectionOptions.DefaultClusterId,
            ServiceId = Setting("service-id") ?? ClusterConnectionOptions.DefaultServiceId,
            Tls = new TlsCertificateFiles { Enabled = tls[0] is not null, CertificateFile = tls[0] ?? "", KeyFile = tls[1] ?? "", CaFile = tls[2] ?? "" },
            ApiKey = Setting("api-key"),
        };
    }

    /// <summary>--name value, else the environment variable OVX_NAME (dashes as underscores).</summary>
    private string? Setting(string name) =>
        String(name) ?? (Environment.GetEnvironmentVariable("OVX_" + name.Replace('-', '_').ToUpperInvariant()) is { Length: > 0 } value ? value : null);

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
