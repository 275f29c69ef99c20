using System.Runtime.InteropServices;

namespace OrleansVectors.Inference.Faiss;

/// <summary>Status codes of the native layer (<c>ovf_status</c>).</summary>
internal enum FaissStatus
{
    Ok = 0,
    Faiss = 1,
    OutOfMemory = 2,
    Std = 3,
    Unknown = 4,
    Argument = 5,
    NotFound = 6,
}

internal static class FaissStatusExtensions
{
    /// <summary>Throws <see cref="FaissException"/> with the native message unless the status is Ok.</summary>
    public static void ThrowIfFailed(this FaissStatus status)
    {
        if (status != FaissStatus.Ok)
        {
            throw Failure(status);
        }
    }

    /// <summary>The exception for a failed status, carrying the calling thread's native message.</summary>
    public static FaissException Failure(FaissStatus status)
    {
        var message = Marshal.PtrToStringUTF8(NativeFaissMethods.LastError());
        return new FaissException((FaissErrorCode)status, string.IsNullOrEmpty(message) ? $"faiss call failed ({status})" : message);
    }
}
