namespace OrleansVectors.Inference.Engines;

/// <summary>
/// An <see cref="IlgpuFlatEngine"/> operation would need more device memory than its budget allows. The engine is
/// left as it was before the call.
/// </summary>
public sealed class DeviceMemoryBudgetExceededException : InvalidOperationException
{
    /// <summary>Creates the exception for an operation that needs <paramref name="bytesNeeded"/> bytes in all.</summary>
    /// <param name="bytesNeeded">Device bytes the engine would hold with the operation done.</param>
    /// <param name="budgetBytes">The engine's budget in bytes.</param>
    /// <param name="what">What was being allocated, for the message.</param>
    public DeviceMemoryBudgetExceededException(long bytesNeeded, long budgetBytes, string what)
        : base($"{what} needs {bytesNeeded:N0} bytes of device memory in all, over the budget of {budgetBytes:N0} bytes.")
    {
        BytesNeeded = bytesNeeded;
        BudgetBytes = budgetBytes;
    }

    /// <summary>Creates the exception with a message of the caller's.</summary>
    public DeviceMemoryBudgetExceededException()
    {
    }

    /// <summary>Creates the exception with a message of the caller's.</summary>
    public DeviceMemoryBudgetExceededException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message of the caller's and its cause.</summary>
    public DeviceMemoryBudgetExceededException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Device bytes the engine would have held with the operation done (0 when not known).</summary>
    public long BytesNeeded { get; }

    /// <summary>The engine's device memory budget in bytes (0 when not known).</summary>
    public long BudgetBytes { get; }
}
