using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace OrleansVectors.Inference.Models;

/// <summary>
/// Loads models exported from PyTorch with <c>torch.jit.script</c> or <c>torch.jit.trace</c> and
/// <c>.save(path)</c>, to use as an <see cref="InferenceModel"/> trunk or embedder.
/// </summary>
public static class TorchScriptModel
{
    /// <summary>Loads a TorchScript file taking and returning one tensor, onto <paramref name="device"/> (default: <see cref="InferenceDevice.Default"/>), in eval mode.</summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a TorchScript archive libtorch can read.</exception>
    public static jit.ScriptModule<Tensor, Tensor> Load(string path, Device? device = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException($"No TorchScript model at '{fullPath}'.", fullPath);
        }

        try
        {
            var module = jit.load<Tensor, Tensor>(fullPath, InferenceDevice.Resolve(device));
            module.eval();
            return module;
        }
        catch (ExternalException e)
        {
            throw new InvalidDataException($"'{fullPath}' is not a TorchScript model libtorch can load: {e.Message.Split('\n', 2)[0]}", e);
        }
    }
}
