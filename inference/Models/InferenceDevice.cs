using TorchSharp;

namespace OrleansVectors.Inference.Models;

/// <summary>The one place that decides where models and tensors run.</summary>
public static class InferenceDevice
{
    /// <summary>CUDA when a CUDA libtorch is loaded and a GPU is visible, otherwise the CPU.</summary>
    public static torch.Device Default => torch.cuda.is_available() ? torch.CUDA : torch.CPU;

    /// <summary>The requested device, or <see cref="Default"/> when none was requested.</summary>
    public static torch.Device Resolve(torch.Device? requested) => requested ?? Default;
}
