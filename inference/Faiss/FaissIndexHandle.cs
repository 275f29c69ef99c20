using Microsoft.Win32.SafeHandles;

namespace OrleansVectors.Inference.Faiss;

/// <summary>Owns a native <c>faiss::Index*</c>; releasing it frees the index.</summary>
internal sealed class FaissIndexHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public FaissIndexHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        NativeFaissMethods.IndexFree(handle);
        return true;
    }
}
