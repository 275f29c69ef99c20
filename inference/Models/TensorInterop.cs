using System.Runtime.InteropServices;
using OrleansVectors.Inference.Faiss;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansVectors.Inference.Models;

/// <summary>A callback over the row-major float32 values of embeddings.</summary>
internal delegate TResult RowsFunc<out TResult>(ReadOnlySpan<float> rows);

/// <summary>Moves embeddings between TorchSharp tensors and the row-major float buffers faiss takes.</summary>
internal static class TensorInterop
{
    /// <summary>
    /// Calls <paramref name="func"/> with the embeddings as contiguous float32 values on the CPU: no copy when the
    /// tensor already is one, one conversion otherwise (freed when the call returns).
    /// </summary>
    public static TResult WithRows<TResult>(Tensor embeddings, RowsFunc<TResult> func)
    {
        using var scope = NewDisposeScope();
        var rows = embeddings.to_type(ScalarType.Float32).cpu().contiguous();
        return func(MemoryMarshal.Cast<byte, float>(rows.bytes));
    }

    /// <summary>A 2-D tensor's values as a rows × columns array, copied to the CPU.</summary>
    public static T[,] ToArray2D<T>(Tensor tensor)
        where T : unmanaged
    {
        using var cpu = tensor.cpu();
        var flat = cpu.data<T>().ToArray();
        var result = new T[(int)tensor.shape[0], (int)tensor.shape[1]];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        return result;
    }

    /// <summary>A faiss k-NN result as (distances, indices) tensors of shape rows × k on <paramref name="device"/>.</summary>
    public static KnnResultTensors ToTensors(FaissKnnResult result, Device device)
    {
        long[] shape = [result.QueryCount, result.K];
        var distances = OnDevice(tensor(result.Distances, shape), device);
        try
        {
            return new(distances, OnDevice(tensor(result.Labels, shape), device));
        }
        catch
        {
            distances.Dispose();
            throw;
        }
    }

    /// <summary>Moves a CPU tensor to <paramref name="device"/>, disposing the CPU copy when a move happens.</summary>
    public static Tensor OnDevice(Tensor cpuTensor, Device device)
    {
        if (device.type == DeviceType.CPU)
        {
            return cpuTensor;
        }

        using (cpuTensor)
        {
            return cpuTensor.to(device);
        }
    }

    internal readonly record struct KnnResultTensors(Tensor Distances, Tensor Indices);
}
