namespace OrleansVectors.Testing;

/// <summary>The checkout the running tests or benchmarks were built from.</summary>
public static class Repository
{
    private static readonly Lazy<string> FoundRoot = new(FindRoot);

    /// <summary>The folder holding OrleansVectors.sln, found upwards from the program's folder.</summary>
    /// <exception cref="InvalidOperationException">The program does not run from inside a checkout.</exception>
    public static string Root => FoundRoot.Value;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OrleansVectors.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No OrleansVectors.sln above {AppContext.BaseDirectory}: run from the repository's build output.");
    }
}
