namespace OrleansVectors.GrainInterfaces;

/// <summary>
/// What an index may be called: 1 to 64 ASCII letters, digits, '-', '_' and '.', starting with a letter or digit.
/// Names become grain keys, storage paths and log fields, so nothing else is accepted (no '/', no spaces, no
/// control characters that could forge a log line).
/// </summary>
public static class IndexNames
{
    /// <summary>The longest index name.</summary>
    public const int MaxLength = 64;

    /// <summary>Throws unless <paramref name="name"/> is a valid index name.</summary>
    /// <exception cref="ArgumentException">The name is empty, too long or has a character outside the set.</exception>
    public static string Require(string? name, string paramName = "index")
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength || !char.IsAsciiLetterOrDigit(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException(
                $"Index names are 1 to {MaxLength} ASCII letters, digits, '-', '_' or '.', starting with a letter or digit; got {Quote(name ?? "")}.", paramName);
        }

        return name;
    }

    /// <summary>A name as it may be shown in messages and logs: quoted, cut short, control characters escaped.</summary>
    public static string Quote(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var shown = name.Length > MaxLength ? name[..MaxLength] : name;
        var escaped = string.Concat(shown.Select(c => char.IsControl(c) || c is '\'' ? $"\\u{(int)c:x4}" : c.ToString()));
        return name.Length > MaxLength ? $"'{escaped}…' ({name.Length} characters)" : $"'{escaped}'";
    }
}
