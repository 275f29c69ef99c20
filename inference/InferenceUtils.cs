using OrleansVectors.Inference.Faiss;
using OrleansVectors.Inference.Models;
using static TorchSharp.torch;

namespace OrleansVectors.Inference;

/// <summary>The seed's module-level functions of <c>utils.inference</c>.</summary>
public static class InferenceUtils
{
    /// <summary>
    /// The seed's <c>run_pca(x, output_dimensionality)</c>: trains faiss's PCA matrix on the rows of
    /// <paramref name="x"/> and returns their projections on the leading components (float32, on
    /// <paramref name="x"/>'s device).
    /// </summary>
    /// <exception cref="ArgumentException">Bad embeddings (not 2-D, empty, not finite).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outputDimensionality"/> is not in 1 … the input's dimension.</exception>
    public static Tensor RunPca(Tensor x, int outputDimensionality)
    {
        TensorChecks.RequireEmbeddings(x);
        var d = (int)x.shape[1];
        var projected = TensorInterop.WithRows(x, rows => FaissPca.Apply(rows, d, outputDimensionality));
        return TensorInterop.OnDevice(tensor(projected, [x.shape[0], outputDimensionality]), x.device);
    }
}
