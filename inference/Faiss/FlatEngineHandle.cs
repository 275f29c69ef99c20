using Microsoft.Win32.SafeHandles;

namespace OrleansVectors.Inference.Faiss;

/// <summary>Owns a native <c>ovf_flat_engine*</c>; releasing it frees the engine.</summary>
internal sealed class FlatEngineHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public FlatEngineHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        NativeFaissMethods.FlatEngineFree(handle);
        return true;
    }
}
