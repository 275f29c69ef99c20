using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace OrleansVectors.Client;

/// <summary>Tensors as the row-major floats the cluster takes.</summary>
internal static class TensorRows
{
    /// <summary>A tensor's rows as row-major float32 values (rows × the product of the other dimensions).</summary>
    public static (float[] Values, int Width) Of(Tensor inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.ndim < 1 || inputs.shape[0] == 0)
        {
            throw new ArgumentException($"The input must have at least one row; got shape [{string.Join(", ", inputs.shape)}].", nameof(inputs));
        }

        using var scope = NewDisposeScope();
        var rows = inputs.reshape(inputs.shape[0], -1).to_type(ScalarType.Float32).cpu().contiguous();
        return (MemoryMarshal.Cast<byte, float>(rows.bytes).ToArray(), (int)rows.shape[1]);
    }
}
