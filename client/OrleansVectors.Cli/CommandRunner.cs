using Microsoft.Extensions.Options;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Cli;

/// <summary>A command's work, given its parsed command line, the session it connects through and the Ctrl+C token.</summary>
internal delegate Task<int> CommandBody(ParseResult parseResult, ClusterSession cluster, CancellationToken cancellationToken);

/// <summary>The work of a command on one index, given the index's name (the command's first argument).</summary>
internal delegate Task<int> IndexCommandBody(ParseResult parseResult, string index, ClusterSession cluster, CancellationToken cancellationToken);

/// <summary>
/// Runs commands once their command line has parsed: a session that connects when the command asks, and each
/// failure reported in one line and turned into its <see cref="ExitCodes"/> value.
/// </summary>
internal sealed class CommandRunner(ConnectionOptions connection, ClusterConnector connect)
{
    /// <summary>Makes <paramref name="body"/> the action of <paramref name="command"/>.</summary>
    public void SetAction(Command command, CommandBody body) =>
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, body, cancellationToken));

    /// <summary>A command whose first argument is an index's name, then <paramref name="symbols"/> (arguments and options).</summary>
    public Command IndexCommand(string name, string description, IEnumerable<Symbol> symbols, IndexCommandBody body)
    {
        var index = new Argument<string>("index") { Description = "The index's name." };
        var command = new Command(name, description) { index };
        foreach (var symbol in symbols)
        {
            if (symbol is Argument argument)
            {
                command.Add(argument);
            }
            else
            {
                command.Add((Option)symbol);
            }
        }

        SetAction(command, (parseResult, cluster, cancellationToken) => body(parseResult, parseResult.GetRequiredValue(index), cluster, cancellationToken));
        return command;
    }

    private async Task<int> RunAsync(ParseResult parseResult, CommandBody body, CancellationToken cancellationToken)
    {
        using var cluster = new ClusterSession(parseResult, connection, connect);
        try
        {
            return await body(parseResult, cluster, cancellationToken);
        }
        catch (UsageException e)
        {
            return UsageErrors.Write(parseResult, e);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            AnsiConsole.MarkupLine("[yellow]cancelled[/]");
            return ExitCodes.Interrupted;
        }
        catch (Exception e) when (e is ArgumentException or OptionsValidationException or InvalidOperationException or IndexNotFoundException or ShardUnavailableException
            or IOException or InvalidDataException or FormatException or TimeoutException or OrleansException or UnauthorizedAccessException
            or ReplyTooLargeException or AddIncompleteException or KMeansFailedException or OperationCanceledException
            or StaleGenerationException or ShardLostException or FaissException or NotSupportedException)
        {
            // one line, no stack trace: these are the cluster's and the input's answers, not the tool's bugs
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return ExitCodes.Failed;
        }
    }
}
