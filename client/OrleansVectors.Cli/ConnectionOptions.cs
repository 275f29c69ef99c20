using OrleansVectors.Client.Hosting;
using OrleansVectors.Connections;

namespace OrleansVectors.Cli;

/// <summary>
/// Where the cluster is and how to reach it: options every command takes (before or after the command's name), each
/// also read from its OVX_* environment variable. Read only when a command connects, after the whole command line
/// has parsed.
/// </summary>
internal sealed class ConnectionOptions
{
    /// <summary>The longest --connect-timeout, in seconds.</summary>
    public const int MaxConnectSeconds = 600;

    public EnvironmentOption<int[]> Gateways { get; } = new("--gateways", "A local cluster's gateway ports, separated by commas.", ParsePorts)
    {
        HelpName = "port,port",
        DefaultValueFactory = _ => [ClusterSettings.DefaultGatewayPort],
    };

    public EnvironmentOption<string> Storage { get; } = new("--storage", "A production cluster: the connection string of the storage account holding its membership table (Azure Table clustering instead of the local gateways).", text => text)
    {
        HelpName = "connection-string",
    };

    public EnvironmentOption<string> ClusterId { get; } = new("--cluster-id", "The cluster's id (the silos' Silo:ClusterId).", RequireText)
    {
        HelpName = "id",
        DefaultValueFactory = _ => ClusterSettings.DefaultClusterId,
    };

    public EnvironmentOption<string> ServiceId { get; } = new("--service-id", "The service's id (the silos' Silo:ServiceId).", RequireText)
    {
        HelpName = "id",
        DefaultValueFactory = _ => ClusterSettings.DefaultServiceId,
    };

    public EnvironmentOption<string> TlsCertificate { get; } = new("--tls-cert", "Mutual TLS: this client's certificate (PEM); needs --tls-key and --tls-ca.", RequireText) { HelpName = "file" };

    public EnvironmentOption<string> TlsKey { get; } = new("--tls-key", "Mutual TLS: this client's private key (PEM).", RequireText) { HelpName = "file" };

    public EnvironmentOption<string> TlsCa { get; } = new("--tls-ca", "Mutual TLS: the CA certificate the silos' certificates chain to (PEM).", RequireText) { HelpName = "file" };

    public EnvironmentOption<string> ApiKey { get; } = new("--api-key", "The key the silos require of clients.", RequireText) { HelpName = "key" };

    public EnvironmentOption<int> ConnectTimeout { get; } = new("--connect-timeout", $"Seconds to keep trying the gateways before giving up (1 to {MaxConnectSeconds}).", ParseSeconds)
    {
        HelpName = "seconds",
        DefaultValueFactory = _ => 10,
    };

    /// <summary>Every connection option, in the order the help lists them.</summary>
    public IEnumerable<Option> All => [Gateways, Storage, ClusterId, ServiceId, TlsCertificate, TlsKey, TlsCa, ApiKey, ConnectTimeout];

    /// <summary>The connection the options and the environment describe.</summary>
    /// <exception cref="UsageException">A variable breaks its option's rule, or only some of the TLS files are named.</exception>
    public ClusterConnectionOptions Read(ParseResult parseResult)
    {
        var storage = Storage.Resolve(parseResult);
        string?[] tls = [TlsCertificate.Resolve(parseResult), TlsKey.Resolve(parseResult), TlsCa.Resolve(parseResult)];
        if (tls.Any(f => f is not null) && tls.Any(f => f is null))
        {
            throw new UsageException("Mutual TLS needs all of --tls-cert, --tls-key and --tls-ca (or OVX_TLS_CERT, OVX_TLS_KEY, OVX_TLS_CA).");
        }

        return new ClusterConnectionOptions
        {
            Clustering = storage is null ? ClusteringKind.Localhost : ClusteringKind.AzureTable,
            GatewayPorts = [.. Gateways.Resolve(parseResult) ?? []],
            StorageConnectionString = storage,
            ClusterId = ClusterId.Resolve(parseResult) ?? ClusterSettings.DefaultClusterId,
            ServiceId = ServiceId.Resolve(parseResult) ?? ClusterSettings.DefaultServiceId,
            Tls = new TlsCertificateFiles { Enabled = tls[0] is not null, CertificateFile = tls[0] ?? "", KeyFile = tls[1] ?? "", CaFile = tls[2] ?? "" },
            ApiKey = ApiKey.Resolve(parseResult),
        };
    }

    /// <summary>How long to keep trying the gateways.</summary>
    /// <exception cref="UsageException">OVX_CONNECT_TIMEOUT is not 1 to 600 seconds.</exception>
    public TimeSpan ReadConnectTimeout(ParseResult parseResult) => TimeSpan.FromSeconds(ConnectTimeout.Resolve(parseResult));

    private static int[] ParsePorts(string text) =>
        [.. text.Split(',').Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            ? port
            : throw new FormatException($"takes TCP ports (1 to 65535) separated by commas; got '{p}'."))];

    private static int ParseSeconds(string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 1 and <= MaxConnectSeconds
            ? seconds
            : throw new FormatException($"takes 1 to {MaxConnectSeconds} seconds; got '{text}'.");

    private static string RequireText(string text) =>
        string.IsNullOrWhiteSpace(text) ? throw new FormatException("needs a value.") : text;
}
