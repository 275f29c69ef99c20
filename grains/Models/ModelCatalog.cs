using Microsoft.Extensions.Options;
using OrleansVectors.Grains.Hosting;

namespace OrleansVectors.Grains.Models;

/// <summary>
/// The models a silo serves: regular files directly in its model folder (<see cref="OrleansVectorsOptions.ModelDirectory"/>),
/// named by file name. A spec names a model, never a path, so a client cannot make a silo open (or say whether it
/// has) any other file; links, devices, pipes, empty and oversized files are refused. Messages name the model, not
/// the folder.
/// </summary>
public sealed class ModelCatalog(IOptions<OrleansVectorsOptions> options)
{
    /// <summary>The file of model <paramref name="name"/>, checked.</summary>
    /// <exception cref="ArgumentException">The silo serves no models, or none by that name that it can open.</exception>
    public string Resolve(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var folder = options.Value.ModelDirectory;
        if (string.IsNullOrEmpty(folder))
        {
            throw new ArgumentException($"This cluster serves no models (set OrleansVectors:ModelDirectory on the silos); the index names model '{name}'.", nameof(name));
        }

        // IndexSpec.Validate admits only plain file names; checked again here, where the file is opened, because a
        // path that slipped through would open a file outside the folder
        ResourceNames.RequireModelName(name, nameof(name));

        var file = new FileInfo(Path.Combine(Path.GetFullPath(folder), name));
        var limit = options.Value.MaxModelBytes;

        // a FIFO or a device reports length 0: refused without being opened
        if (!file.Exists || file.Attributes.HasFlag(FileAttributes.ReparsePoint) || file.Length == 0 || file.Length > limit)
        {
            throw new ArgumentException(
                $"Model '{name}' is not one this cluster serves: its model folder has no regular, non-empty file of that name of at most {limit / Limits.BytesPerMiB:N0} MiB.", nameof(name));
        }

        return file.FullName;
    }
}
