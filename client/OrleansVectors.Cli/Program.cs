using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansVectors.Cli;
using OrleansVectors.Client;
using OrleansVectors.Client.Hosting;
using OrleansVectors.GrainInterfaces;
using Spectre.Console;

// ovx [connection] <command> [arguments]; 'ovx help' lists both
try
{
    var arguments = new Arguments(args);
    if (arguments.Command is null or "help" or "--help")
    {
        AnsiConsole.MarkupLine(Arguments.Usage);
        return arguments.Command is null ? 2 : 0;
    }

    // the tool reports failures itself, in one line
    using var host = await ClusterConnectionExtensions.ConnectAsync(arguments.Connection(), arguments.ConnectTimeout, logging => logging.ClearProviders());
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
        "kmeans" => await KMeansCommand.Run(client, arguments),
        "demo" => await Demo.Run(client, arguments),
        var unknown => throw new ArgumentException($"Unknown command '{unknown}'; see 'ovx help'."),
    };
}
catch (Exception e) when (e is ArgumentException or OptionsValidationException or InvalidOperationException or IndexNotFoundException or ShardUnavailableException
    or IOException or InvalidDataException or FormatException or TimeoutException or OrleansException or UnauthorizedAccessException
    or ReplyTooLargeException or AddIncompleteException or KMeansFailedException or OperationCanceledException)
{
    AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
    return 1;
}
