using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Hosting;
using OrleansVectors.Inference;
using OrleansVectors.Inference.Models;
using static TorchSharp.torch;

namespace OrleansVectors.Grains.Models;

/// <summary>
/// Loads each TorchScript model once per silo (on its accelerator when there is one) and embeds batches with it
/// on the thread pool, a bounded number of rows at a time. Thread-safe.
/// </summary>
public sealed partial class TorchScriptModelHost(ILogger<TorchScriptModelHost> logger, ModelCatalog catalog, IOptions<OrleansVectorsOptions> options)
    : IModelHost, IDisposable
{
    private const int RowsPerBatch = 1024;
    private readonly ConcurrentDictionary<(string Name, bool Normalize), Lazy<InferenceModel>> _models = new();

    /// <inheritdoc/>
    public async Task<VectorBatch> EmbedAsync(IndexSpec spec, VectorBatch inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(inputs);
        if (spec.Model is null)
        {
            return inputs;
        }

        // the grain that received the batch checked its width against the spec (InputChecks)
        Debug.Assert(inputs.Dimension == spec.InputDimension, $"The model of this index takes rows of {spec.InputDimension} values; got {inputs.Dimension}.");

        // PublicationOnly: a failed load (a file not there yet) is retried on the next call, not cached
        var lazy = _models.GetOrAdd(
            (spec.Model, spec.NormalizeEmbeddings),
            key => new Lazy<InferenceModel>(() => Load(key.Name, key.Normalize), LazyThreadSafetyMode.PublicationOnly));
        var model = lazy.IsValueCreated ? lazy.Value : await LoadWithinTimeoutAsync(spec.Model, lazy, cancellationToken).ConfigureAwait(false);
        return await Task.Run(() => Embed(model, spec, inputs), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var model in _models.Values.Where(m => m.IsValueCreated))
        {
            (model.Value.Trunk as IDisposable)?.Dispose();
            model.Value.Dispose();
        }
    }

    private static VectorBatch Embed(InferenceModel model, IndexSpec spec, VectorBatch inputs)
    {
        using var scope = NewDisposeScope();
        var rows = tensor(inputs.Values.ToArray(), [inputs.Count, inputs.Dimension]);
        var embeddings = model.GetEmbeddings(rows, RowsPerBatch).to_type(ScalarType.Float32).cpu().contiguous();
        if (embeddings.shape[1] != spec.Dimension)
        {
            throw new InvalidOperationException($"The model '{spec.Model}' returns {embeddings.shape[1]} values per row; the index has dimension {spec.Dimension}.");
        }

        return VectorBatch.FromRows(MemoryMarshal.Cast<byte, float>(embeddings.bytes), spec.Dimension);
    }

    private async Task<InferenceModel> LoadWithinTimeoutAsync(string name, Lazy<InferenceModel> lazy, CancellationToken cancellationToken)
    {
        var timeout = options.Value.ModelLoadTimeout;
        try
        {
            return await Task.Run(() => lazy.Value, CancellationToken.None).WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"Model '{name}' did not load within {timeout.TotalSeconds:0} s; try again (the load goes on).");
        }
    }

    private InferenceModel Load(string name, bool normalize)
    {
        var path = catalog.Resolve(name);
        TorchSharp.torch.jit.ScriptModule<Tensor, Tensor> module;
        try
        {
            module = TorchScriptModel.Load(path);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // libtorch's messages carry its native stack and the file's path: the first line says what failed
            var reason = e.Message.Split('\n', 2)[0].Replace(path, name, StringComparison.Ordinal);
            throw new InvalidOperationException($"Model '{name}' could not be loaded as TorchScript: {(reason.Length > 300 ? reason[..300] + "…" : reason)}");
        }

        LogModelLoaded(name, path, InferenceDevice.Default.ToString());
        return new InferenceModel(module, normalizeEmbeddings: normalize);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded model {Name} from {Path} on {Device}")]
    private partial void LogModelLoaded(string name, string path, string device);
}
