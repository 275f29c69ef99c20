using System.Runtime.CompilerServices;
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

        using var finite = torch.isfinite(tensor).all();
        if (!finite.item<bool>())
        {
            throw new ArgumentException("Embeddings contain NaN or infinite values.", name);
        }
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
