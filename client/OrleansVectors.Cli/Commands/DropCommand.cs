using System.CommandLine;
using OrleansVectors.GrainInterfaces;
using Spectre.Console;

namespace OrleansVectors.Cli.Commands;

/// <summary>ovx drop: delete an index.</summary>
internal static class DropCommand
{
    public static Command Build(CommandRunner runner)
    {
        var index = ToolOptions.Index();
        var command = new Command("drop", "Delete an index (its saved snapshots stay).") { index };
        runner.SetAction(command, async (parseResult, cluster, _) =>
        {
            var name = parseResult.GetRequiredValue(index);
            var client = await cluster.ConnectAsync();
            if (!await client.DropIndexAsync(name))
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] no index named {IndexNames.Quote(name)}; nothing was dropped");
                return ExitCodes.Failed;
            }

            AnsiConsole.MarkupLineInterpolated($"dropped {name}");
            return ExitCodes.Success;
        });
        return command;
    }
}
