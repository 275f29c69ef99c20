using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansVectors.Inference.Models;

/// <summary>Argument checks for tensors handed to distances, knn functions and k-means.</summary>
internal static class TensorChecks
{
    /// <summary>
    /// Requires a non-empty 2-D floating-point tensor of finite values (rows × columns), optionally with a given
    /// column count.
    /// </summary>
    public static void RequireEmbeddings(Tensor tensor, long? columns = null, [CallerArgumentExpression(nameof(tensor))] string? name = null)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        if (tensor.ndim != 2)
        {
            throw new ArgumentException(
                $"Embeddings must be a 2-D tensor of shape (rows, dimension); got {tensor.ndim}-D shape [{string.Join(", ", tensor.shape)}].", name);
        }

        if (!tensor.is_floating_point())
        {
            throw new ArgumentException($"Embeddings must be floating point; got {tensor.dtype}.", name);
        }

        if (tensor.shape[0] == 0 || tensor.shape[1] == 0)
        {
            throw new ArgumentException($"Embeddings must not be empty; got shape [{tensor.shape[0]}, {tensor.shape[1]}].", name);
        }

        if (columns is { } expected && tensor.shape[1] != expected)
        {
            throw new ArgumentException($"Dimension mismatch: the embeddings have {tensor.shape[1]} columns, {expected} were expected.", name);
        }

        if (!AllFinite(tensor))
        {
            throw new ArgumentException("Embeddings contain NaN or infinite values.", name);
        }
    }

    /// <summary>Whether every value is finite: a vectorized scan for contiguous float32 CPU tensors, torch elsewhere.</summary>
    public static bool AllFinite(Tensor tensor)
    {
        if (tensor.device_type == DeviceType.CPU && tensor.dtype == ScalarType.Float32 && tensor.is_contiguous())
        {
            return TensorPrimitives.IsFiniteAll(MemoryMarshal.Cast<byte, float>(tensor.bytes));
        }

        using var finite = torch.isfinite(tensor).all();
        return finite.item<bool>();
    }

    /// <summary>Requires a finite threshold.</summary>
    public static double RequireThreshold(double? threshold, [CallerArgumentExpression(nameof(threshold))] string? name = null)
    {
        if (threshold is not { } value)
        {
            throw new InvalidOperationException("No match threshold: pass one to this call or give the MatchFinder a default threshold.");
        }

        if (!double.IsFinite(value))
        {
            throw new ArgumentException($"The threshold must be a finite number; got {value}.", name);
        }

        return value;
    }
}
