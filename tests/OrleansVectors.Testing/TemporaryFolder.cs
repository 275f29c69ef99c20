namespace OrleansVectors.Testing;

/// <summary>A temporary folder, deleted with everything in it when disposed.</summary>
public sealed class TemporaryFolder(string prefix) : IDisposable
{
    /// <summary>The folder's full path.</summary>
    public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
