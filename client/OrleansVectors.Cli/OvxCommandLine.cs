using System.CommandLine.Invocation;
using OrleansVectors.Cli.Commands;

namespace OrleansVectors.Cli;

/// <summary>
/// ovx's command line: every command, option and help text defined once. The whole line parses before anything
/// runs; a line that does not parse exits with <see cref="ExitCodes.Usage"/> before any connection, naming the bad
/// word and the nearest valid one. A command connects only in its action.
/// </summary>
internal sealed class OvxCommandLine
{
    /// <summary>How long a command may take to wind up after Ctrl+C (kmeans cancels its run on the cluster).</summary>
    private static readonly TimeSpan CancellationGrace = TimeSpan.FromSeconds(10);

    /// <param name="connect">Starts a client of the cluster; commands call it through <see cref="ClusterSession"/>.</param>
    public OvxCommandLine(ClusterConnector connect)
    {
        var connection = new ConnectionOptions();
        var runner = new CommandRunner(connection, connect);
        Root = new RootCommand(
            $"""
            ovx: the command-line tool of an OrleansVectors cluster.
            Exit codes: {ExitCodes.Success} done, {ExitCodes.Failed} the command failed (one line says why), {ExitCodes.Usage} the command line is wrong (nothing was sent), {ExitCodes.Interrupted} interrupted.
            """)
        {
            IndexCommands.BuildCreate(runner),
            IndexCommands.BuildIngest(runner),
            IndexCommands.BuildQuery(runner),
            IndexCommands.BuildStats(runner),
            IndexCommands.BuildDrop(runner),
            SnapshotCommands.BuildSnapshot(runner),
            SnapshotCommands.BuildList(runner),
            SnapshotCommands.BuildRestore(runner),
            SnapshotCommands.BuildSave(runner),
            ExportImportCommands.BuildExport(runner),
            ExportImportCommands.BuildImport(runner),
            KMeansCommand.Build(runner),
            DemoCommand.Build(runner),
        };
        foreach (var option in connection.All)
        {
            Root.Add(option);
        }

        Root.Add(HelpCommand());

        // no command: the help, as a usage error
        Root.SetAction(parseResult => WriteHelp(parseResult, [], ExitCodes.Usage));
    }

    /// <summary>The root command, for tests and completion.</summary>
    public RootCommand Root { get; }

    /// <summary>Parses <paramref name="args"/> and runs the command they name.</summary>
    /// <param name="args">The command line, without the tool's name.</param>
    /// <param name="output">Where help and --json go (default standard output); tables go to the console.</param>
    /// <param name="error">Where usage errors go (default standard error).</param>
    /// <returns>One of <see cref="ExitCodes"/>.</returns>
    public async Task<int> InvokeAsync(IReadOnlyList<string> args, TextWriter? output = null, TextWriter? error = null)
    {
        var parseResult = Root.Parse(args);
        var configuration = new InvocationConfiguration
        {
            Output = output ?? Console.Out,
            Error = error ?? Console.Error,
            ProcessTerminationTimeout = CancellationGrace,
        };
        if (parseResult.Action is ParseErrorAction)
        {
            return UsageErrors.Write(parseResult, configuration.Error);
        }

        return await parseResult.InvokeAsync(configuration);
    }

    /// <summary>ovx help [command]: the same as ovx [command] --help, kept for scripts that ask that way.</summary>
    private Command HelpCommand()
    {
        var topic = new Argument<string[]>("command") { Description = "The command to explain.", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("help", "Show the help of ovx or of a command.") { topic };
        command.Hidden = true;
        command.SetAction(parseResult => WriteHelp(parseResult, parseResult.GetValue(topic) ?? [], ExitCodes.Success));
        return command;
    }

    private int WriteHelp(ParseResult parseResult, string[] topic, int exitCode)
    {
        Root.Parse([.. topic, "--help"]).Invoke(parseResult.InvocationConfiguration);
        return exitCode;
    }
}
