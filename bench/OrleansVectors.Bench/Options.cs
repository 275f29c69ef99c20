using System.Globalization;

namespace OrleansVectors.Bench;

/// <summary>"--name value" pairs from the command line, with defaults.</summary>
internal sealed class Options(string[] args)
{
    public int Int(string name, int fallback)
    {
        var at = Array.IndexOf(args, "--" + name);
        if (at < 0)
        {
            return fallback;
        }

        if (at + 1 >= args.Length || !int.TryParse(args[at + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < 0)
        {
            throw new ArgumentException($"--{name} needs a non-negative integer.");
        }

        return value;
    }

    public string Text(string name, string fallback)
    {
        var at = Array.IndexOf(args, "--" + name);
        if (at < 0)
        {
            return fallback;
        }

        return at + 1 < args.Length ? args[at + 1] : throw new ArgumentException($"--{name} needs a value.");
    }
}
