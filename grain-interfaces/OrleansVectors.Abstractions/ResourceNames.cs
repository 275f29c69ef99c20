using System.Diagnostics.CodeAnalysis;

namespace OrleansVectors;

/// <summary>
/// What indexes, saved snapshots and models may be called, checked wherever a name arrives (the client, the grains,
/// the model catalog). Names become grain keys, storage paths, file names and log fields, so each rule admits a
/// small set of characters and nothing that could leave a folder or forge a log line.
/// </summary>
public static class ResourceNames
{
    /// <summary>
    /// Throws unless <paramref name="name"/> is a valid index name: 1 to <see cref="Limits.MaxIndexNameLength"/> ASCII
    /// letters, digits, '-', '_' and '.', starting with a letter or digit.
    /// </summary>
    /// <returns>The name.</returns>
    /// <exception cref="ArgumentException">The name is null, empty, too long or has a character outside the set.</exception>
    public static string RequireIndexName(string? name, string paramName = "index")
    {
        if (string.IsNullOrEmpty(name) || name.Length > Limits.MaxIndexNameLength || !char.IsAsciiLetterOrDigit(name[0]) || !name.All(IsNameCharacter))
        {
            throw new ArgumentException(
                $"Index names are 1 to {Limits.MaxIndexNameLength} ASCII letters, digits, '-', '_' or '.', starting with a letter or digit; got {Quote(name ?? "")}.", paramName);
        }

        return name;
    }

    /// <summary>
    /// Throws unless <paramref name="name"/> is a valid saved-snapshot name: 1 to <see cref="Limits.MaxSnapshotNameLength"/>
    /// ASCII letters, digits, '-', '_' and '.'.
    /// </summary>
    /// <returns>The name.</returns>
    /// <exception cref="ArgumentNullException">The name is null.</exception>
    /// <exception cref="ArgumentException">The name is empty, blank, too long or has a character outside the set.</exception>
    public static string RequireSnapshotName(string? name, string paramName = "name")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name, paramName);
        return name.Length <= Limits.MaxSnapshotNameLength && name.All(IsNameCharacter)
            ? name
            : throw new ArgumentException(
                $"A snapshot name is 1 to {Limits.MaxSnapshotNameLength} letters, digits, '-', '_' or '.'; got {Quote(name)}.", paramName);
    }

    /// <summary>
    /// Whether <paramref name="name"/> is a valid model name: a plain file name of 1 to
    /// <see cref="Limits.MaxModelNameLength"/> characters, not "." or "..", with no '/', '\' or control characters.
    /// </summary>
    public static bool IsModelName([NotNullWhen(true)] string? name) =>
        name is { Length: > 0 and <= Limits.MaxModelNameLength } and not ("." or "..") && !name.Any(c => c is '/' or '\\' || char.IsControl(c));

    /// <summary>Throws unless <paramref name="name"/> is a valid model name (<see cref="IsModelName"/>).</summary>
    /// <returns>The name.</returns>
    /// <exception cref="ArgumentException">The name is null, empty, too long, a path, or has a control character.</exception>
    public static string RequireModelName(string? name, string paramName = "model")
    {
        if (!IsModelName(name))
        {
            throw new ArgumentException(
                $"A model is named by its file in the silos' model folder (OrleansVectors:ModelDirectory): a plain file name of 1 to {Limits.MaxModelNameLength} characters (no '/', '\\' or control characters; not '.' or '..'); got {Quote(name ?? "")}.",
                paramName);
        }

        return name;
    }

    /// <summary>
    /// A name as it may be shown in messages and logs: quoted, cut short after <see cref="Limits.MaxIndexNameLength"/>
    /// characters, control characters and quotes escaped.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public static string Quote(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var shown = name.Length > Limits.MaxIndexNameLength ? name[..Limits.MaxIndexNameLength] : name;
        var escaped = string.Concat(shown.Select(c => char.IsControl(c) || c is '\'' ? $"\\u{(int)c:x4}" : c.ToString()));
        return name.Length > Limits.MaxIndexNameLength ? $"'{escaped}…' ({name.Length} characters)" : $"'{escaped}'";
    }

    private static bool IsNameCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';
}
