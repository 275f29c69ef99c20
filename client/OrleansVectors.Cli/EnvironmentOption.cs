namespace OrleansVectors.Cli;

/// <summary>
/// An option that every command takes and that falls back to an environment variable: <c>--api-key</c> and
/// <c>OVX_API_KEY</c>. The command line wins; either text goes through the same parse rule, so a bad value is named
/// the same way wherever it came from. The help shows the variable, never its value (it may hold a key).
/// </summary>
internal sealed class EnvironmentOption<T> : Option<T>
{
    private readonly Func<string, T> _parse;

    /// <param name="name">The option, "--api-key"; its variable is OVX_ and the name in capitals with underscores.</param>
    /// <param name="description">What it sets, for the help.</param>
    /// <param name="parse">Turns the text into the value; throws <see cref="FormatException"/> with the rule when it cannot.</param>
    public EnvironmentOption(string name, string description, Func<string, T> parse)
        : base(name)
    {
        _parse = parse;
        Variable = "OVX_" + name.TrimStart('-').Replace('-', '_').ToUpperInvariant();
        Description = $"{description} [env: {Variable}]";
        Recursive = true;
        CustomParser = result =>
        {
            try
            {
                return parse(result.Tokens[0].Value);
            }
            catch (FormatException e)
            {
                result.AddError($"{name}: {e.Message}");
                return default;
            }
        };
    }

    /// <summary>The environment variable read when the option is not given: OVX_API_KEY.</summary>
    public string Variable { get; }

    /// <summary>The option's value, else its environment variable's, else the default.</summary>
    /// <exception cref="UsageException">The variable's value breaks the option's rule.</exception>
    public T? Resolve(ParseResult parseResult)
    {
        if (parseResult.GetResult(this) is { Implicit: false })
        {
            return parseResult.GetValue(this);
        }

        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } text)
        {
            return parseResult.GetValue(this);
        }

        try
        {
            return _parse(text);
        }
        catch (FormatException e)
        {
            throw new UsageException($"{Variable} (for {Name}): {e.Message}");
        }
    }
}
