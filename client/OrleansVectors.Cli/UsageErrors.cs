using System.CommandLine.Parsing;

namespace OrleansVectors.Cli;

/// <summary>
/// Reports a command line that did not parse: each unknown command or option by name with the nearest valid one,
/// then the other errors, then where the help is. Nothing has connected at this point.
/// </summary>
internal static class UsageErrors
{
    /// <summary>Writes the parse errors to <paramref name="error"/>.</summary>
    /// <returns><see cref="ExitCodes.Usage"/>.</returns>
    public static int Write(ParseResult parseResult, TextWriter error)
    {
        var command = parseResult.CommandResult;
        var path = CommandPath(command);
        var unmatched = parseResult.UnmatchedTokens;
        var lines = new List<string>();
        var afterUnknownOption = false;
        foreach (var token in unmatched)
        {
            if (token.StartsWith('-'))
            {
                lines.Add($"unknown option '{token}' for '{path}'{DidYouMean(token.Split('=')[0], OptionNames(command))}");
                afterUnknownOption = true;
            }
            else if (afterUnknownOption)
            {
                afterUnknownOption = false; // most likely the unknown option's value: one error is enough
            }
            else if (command.Parent is null && command.Command.Subcommands.Count > 0)
            {
                lines.Add($"unknown command '{token}'{DidYouMean(token, CommandNames(command.Command))}");
                break; // what follows belongs to a command that does not exist
            }
            else
            {
                lines.Add($"unexpected argument '{token}' for '{path}'");
            }
        }

        // the parser's own error for an unmatched token says less than the lines above
        lines.AddRange(parseResult.Errors
            .Select(e => e.Message)
            .Where(message => !unmatched.Any(token => message.Contains($"'{token}'", StringComparison.Ordinal))));
        return Write(error, path, lines);
    }

    /// <summary>Writes a setting found wrong after parsing (an OVX_* variable, options that go together).</summary>
    /// <returns><see cref="ExitCodes.Usage"/>.</returns>
    public static int Write(ParseResult parseResult, UsageException exception) =>
        Write(parseResult.InvocationConfiguration.Error, CommandPath(parseResult.CommandResult), [exception.Message]);

    private static int Write(TextWriter error, string path, IEnumerable<string> lines)
    {
        foreach (var line in lines.Distinct())
        {
            error.WriteLine($"error: {line}");
        }

        error.WriteLine($"See '{path} --help'.");
        error.Flush();
        return ExitCodes.Usage;
    }

    /// <summary>"ovx create": the tool's name, whatever the process is called (dotnet ovx.dll, a test host).</summary>
    private static string CommandPath(CommandResult command)
    {
        var names = new List<string>();
        for (var c = command; c.Parent is CommandResult parent; c = parent)
        {
            names.Insert(0, c.Command.Name);
        }

        return string.Join(' ', ["ovx", .. names]);
    }

    /// <summary>The options valid at the command: its own and those every command takes.</summary>
    private static IEnumerable<string> OptionNames(CommandResult command)
    {
        var options = command.Command.Options.AsEnumerable();
        for (var parent = command.Parent as CommandResult; parent is not null; parent = parent.Parent as CommandResult)
        {
            options = options.Concat(parent.Command.Options.Where(o => o.Recursive));
        }

        return options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--", StringComparison.Ordinal));
    }

    private static IEnumerable<string> CommandNames(Command command) =>
        command.Subcommands.Where(c => !c.Hidden).SelectMany(c => c.Aliases.Prepend(c.Name));

    /// <summary>"; did you mean '--shards'?" for the nearest candidates, or nothing when none is near.</summary>
    internal static string DidYouMean(string token, IEnumerable<string> candidates)
    {
        var typed = token.TrimStart('-');
        var near = candidates
            .Select(c => (Name: c, Distance: Nearness(typed, c.TrimStart('-'))))
            .Where(c => c.Distance is not null)
            .OrderBy(c => c.Distance)
            .ToList();
        if (near.Count == 0)
        {
            return "";
        }

        var best = near.Where(c => c.Distance == near[0].Distance).Select(c => $"'{c.Name}'").Distinct();
        return $"; did you mean {string.Join(" or ", best)}?";
    }

    /// <summary>
    /// The edit distance when it is small for the word's length (a third of it, at least 1, at most 3), or one more
    /// than that when one word starts the other ("--dimension" for "--dim"); null when the words are not alike.
    /// </summary>
    private static int? Nearness(string typed, string candidate)
    {
        var allowed = Math.Clamp(typed.Length / 3, 1, 3);
        var distance = EditDistance(typed, candidate);
        if (distance <= allowed)
        {
            return distance;
        }

        var shorter = Math.Min(typed.Length, candidate.Length);
        return shorter >= 3 && (typed.StartsWith(candidate, StringComparison.Ordinal) || candidate.StartsWith(typed, StringComparison.Ordinal))
            ? allowed + 1
            : null;
    }

    /// <summary>Edits from one word to the other: insertions, deletions, substitutions and swaps of neighbours ("craete").</summary>
    private static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
