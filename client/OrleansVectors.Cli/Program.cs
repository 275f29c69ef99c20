using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansVectors.Cli;
using OrleansVectors.Client;
using OrleansVectors.Client.Hosting;
using OrleansVectors.GrainInterfaces;
using Spectre.Console;

// ovx [--gateways 30000,30001] <command> [arguments]
try
{
    var arguments = new Arguments(args);
    if (arguments.Command is null or "help" or "--help")
    {
        AnsiConsole.MarkupLine(Arguments.Usage);
        return arguments.Command is null ? 2 : 0;
    }

    using var host = await ClusterConnection.ConnectAsync(arguments.Gateways, arguments.ConnectTimeout, arguments.String("api-key") ?? Environment.GetEnvironmentVariable("OVX_API_KEY"));
    var client = host.Services.GetRequiredService<VectorIndexClient>();
    return arguments.Command switch
    {
        "create" => await Commands.Create(client, arguments),
        "ingest" => await Commands.Ingest(client, arguments),
        "query" => await Commands.Query(client, arguments),
        "stats" => await Commands.Stats(client, arguments),
        "drop" => await Commands.Drop(client, arguments),
        "snapshot" => await Commands.Snapshot(client, arguments),
        "snapshots" => await Commands.Snapshots(client, arguments),
        "restore" => await Commands.Restore(client, arguments),
        "save" => await Commands.Save(client, arguments),
        "export" => await Commands.Export(client, arguments),
        "import" => await Commands.Import(client, arguments),
        "demo" => await Demo.Run(client, arguments),
        var unknown => throw new ArgumentException($"Unknown command '{unknown}'; see 'ovx help'."),
    };
}
catch (Exception e) when (e is ArgumentException or InvalidOperationException or IndexNotFoundException or ShardUnavailableException
    or IOException or InvalidDataException or FormatException or TimeoutException or OrleansException or UnauthorizedAccessException
    or ReplyTooLargeException or AddIncompleteException)
{
    AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
    return 1;
}

/// <summary>Connects an Orleans client to the gateways of a local cluster, retrying while silos start.</summary>
internal static class ClusterConnection
{
    public static async Task<IHost> ConnectAsync(int[] gateways, TimeSpan timeout, string? apiKey = null)
    {
        using var deadline = new CancellationTokenSource(timeout);
        Exception? last = null;
        while (!deadline.IsCancellationRequested)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders(); // the tool reports failures itself, in one line
            builder.UseOrleansClient(client => client.UseLocalhostClustering(gateways).AddOrleansVectors(apiKey));
            var host = builder.Build();
            try
            {
                await host.StartAsync(deadline.Token);
                return host;
            }
            catch (Exception e)
            {
                last = e;
                host.Dispose();
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        throw new TimeoutException(
            $"No gateway answered on localhost port {string.Join(", ", gateways)} within {timeout.TotalSeconds:0} s ({(last is null or OperationCanceledException ? "no answer" : last.Message.Split('\n')[0])}). Is the cluster running? See --gateways and --connect-timeout.");
    }
}
