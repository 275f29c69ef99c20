namespace OrleansVectors.Grains.Hosting;

/// <summary>What the machine a silo runs on offers, found by looking at the machine rather than configured.</summary>
public interface IMachineCapabilities
{
    /// <summary>Whether the machine has an accelerator (a GPU) for shards to prefer.</summary>
    bool HasAccelerator { get; }
}

/// <summary>Finds this machine's capabilities by probing its device nodes, once, when first asked.</summary>
public sealed class MachineCapabilities : IMachineCapabilities
{
    /// <summary>The NVIDIA driver's control device: present on a machine with an NVIDIA GPU and its driver.</summary>
    public const string NvidiaControlDevice = "/dev/nvidiactl";

    private readonly Lazy<bool> _accelerator = new(() => File.Exists(NvidiaControlDevice));

    /// <inheritdoc/>
    public bool HasAccelerator => _accelerator.Value;
}
