using Microsoft.Extensions.Hosting;
using OrleansVectors.Cli;

namespace OrleansVectors.Client.Tests;

/// <summary>
/// The tool's command line, in process and with no cluster: a line that does not parse fails at once, names the bad
/// word and the nearest valid one, and never reaches the connector.
/// </summary>
public sealed class ToolParsingTests
{
    [Theory]
    [InlineData(new[] { "create", "x", "--dim", "4", "--shard", "4" }, "unknown option '--shard'", "did you mean '--shards'?")]
    [InlineData(new[] { "craete", "x", "--dim", "4" }, "unknown command 'craete'", "did you mean 'create'?")]
    [InlineData(new[] { "query", "i", "q.csv", "--limti", "3" }, "unknown option '--limti'", "did you mean '--limit'?")]
    [InlineData(new[] { "stat", "i" }, "unknown command 'stat'", "did you mean 'stats'?")]
    public async Task An_unknown_word_fails_at_once_naming_it_and_the_word_meant_without_connecting(string[] args, string unknown, string suggestion)
    {
        var run = await RunAsync(args);

        Assert.Equal(ExitCodes.Usage, run.Code);
        Assert.Contains(unknown, run.Error, StringComparison.Ordinal);
        Assert.Contains(suggestion, run.Error, StringComparison.Ordinal);
        Assert.Empty(run.Connections);
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(1), $"took {run.Elapsed}");
    }

    [Theory]
    [InlineData(new[] { "create", "x" }, "'--dim' is required")]
    [InlineData(new[] { "create", "x", "--dim", "4", "--metric", "cosine" }, "--metric must be l2 or ip")]
    [InlineData(new[] { "stats", "i", "--gateways", "30000,port" }, "--gateways: takes TCP ports")]
    [InlineData(new[] { "stats", "i", "--connect-timeout", "0" }, "--connect-timeout: takes 1 to 600 seconds")]
    [InlineData(new[] { "query", "i", "q.csv", "--header", "--no-header" }, "--header and --no-header contradict")]
    [InlineData(new[] { "restore", "i", "--version", "3", "--name", "s" }, "Give --version or --name, not both")]
    [InlineData(new[] { "kmeans", "i", "--k", "0" }, "--k takes an integer of at least 1")]
    [InlineData(new[] { "stats", "--tls-cert", "c.pem", "i" }, "Mutual TLS needs all of --tls-cert, --tls-key and --tls-ca")]
    public async Task A_wrong_value_is_a_usage_error_naming_the_option_without_connecting(string[] args, string message)
    {
        var run = await RunAsync(args);

        Assert.Equal(ExitCodes.Usage, run.Code);
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
        Assert.Empty(run.Connections);
    }

    [Fact]
    public async Task Connection_options_reach_the_connector_before_or_after_the_command()
    {
        var run = await RunAsync("--gateways", "30007,30008", "stats", "i", "--service-id", "svc", "--cluster-id", "cl", "--connect-timeout", "7");

        Assert.Equal(ExitCodes.Failed, run.Code); // the test's connector finds no cluster
        var (connection, timeout) = Assert.Single(run.Connections);
        Assert.Equal([30007, 30008], connection.GatewayPorts);
        Assert.Equal("svc", connection.ServiceId);
        Assert.Equal("cl", connection.ClusterId);
        Assert.Equal(TimeSpan.FromSeconds(7), timeout);
    }

    [Fact]
    public async Task The_help_documents_every_option_of_every_command_with_its_environment_variable()
    {
        var commandLine = new OvxCommandLine((_, _) => throw new InvalidOperationException("help must not connect"));
        foreach (var command in commandLine.Root.Subcommands.Where(c => !c.Hidden).Prepend(commandLine.Root))
        {
            var path = command == commandLine.Root ? Array.Empty<string>() : [command.Name];
            var run = await RunAsync([.. path, "--help"]);

            Assert.Equal(ExitCodes.Success, run.Code);
            Assert.Empty(run.Connections);
            foreach (var option in command.Options.Concat(commandLine.Root.Options.Where(o => o.Recursive)))
            {
                Assert.Contains(option.Name, run.Output, StringComparison.Ordinal);
                Assert.False(string.IsNullOrWhiteSpace(option.Description), $"{option.Name} of {command.Name} has no description");
            }
        }

        var root = await RunAsync("--help");
        foreach (var variable in new[] { "OVX_GATEWAYS", "OVX_STORAGE", "OVX_CLUSTER_ID", "OVX_SERVICE_ID", "OVX_TLS_CERT", "OVX_API_KEY", "OVX_CONNECT_TIMEOUT" })
        {
            Assert.Contains($"[env: {variable}]", root.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Help_and_no_command_connect_to_nothing()
    {
        Assert.Equal(ExitCodes.Success, (await RunAsync("help")).Code);
        var none = await RunAsync();

        Assert.Equal(ExitCodes.Usage, none.Code);
        Assert.Contains("create", none.Output, StringComparison.Ordinal);
        Assert.Empty(none.Connections);
    }

    private sealed record ToolRun(int Code, string Output, string Error, List<(ClusterConnectionOptions Connection, TimeSpan Timeout)> Connections, TimeSpan Elapsed);

    /// <summary>Runs the tool's command line in process; the connector records what it was asked and finds no cluster.</summary>
    private static async Task<ToolRun> RunAsync(params string[] args)
    {
        var connections = new List<(ClusterConnectionOptions, TimeSpan)>();
        var commandLine = new OvxCommandLine((connection, timeout) =>
        {
            connections.Add((connection, timeout));
            return Task.FromException<IHost>(new TimeoutException("No gateway answered (the test's connector)."));
        });
        using var output = new StringWriter();
        using var error = new StringWriter();
        var stopwatch = Stopwatch.StartNew();
        var code = await commandLine.InvokeAsync(args, output, error);
        return new ToolRun(code, output.ToString(), error.ToString(), connections, stopwatch.Elapsed);
    }
}
