namespace OrleansVectors.Inference.Faiss;

/// <summary>What kind of native failure a <see cref="FaissException"/> reports.</summary>
public enum FaissErrorCode
{
    /// <summary>faiss itself raised an error (its message is the exception's message).</summary>
    Faiss = 1,

    /// <summary>faiss ran out of memory.</summary>
    OutOfMemory = 2,

    /// <summary>A C++ standard library error inside faiss.</summary>
    Standard = 3,

    /// <summary>An unidentified native exception.</summary>
    Unknown = 4,

    /// <summary>The native layer rejected an argument that the managed layer should have caught.</summary>
    InvalidArgument = 5,

    /// <summary>No vector has the requested id.</summary>
    NotFound = 6,
}

/// <summary>
/// A failure reported by faiss. The message is faiss's own. The index the call was made on is unchanged
/// unless the documentation of the call says otherwise.
/// </summary>
public sealed class FaissException : Exception
{
    /// <summary>Creates an exception with the given code and message.</summary>
    public FaissException(FaissErrorCode errorCode, string message)
        : base(message) => ErrorCode = errorCode;

    /// <summary>Creates an exception with <see cref="FaissErrorCode.Faiss"/>.</summary>
    public FaissException()
        : this(FaissErrorCode.Faiss, "faiss call failed")
    {
    }

    /// <summary>Creates an exception with <see cref="FaissErrorCode.Faiss"/> and a message.</summary>
    public FaissException(string message)
        : this(FaissErrorCode.Faiss, message)
    {
    }

    /// <summary>Creates an exception with <see cref="FaissErrorCode.Faiss"/>, a message and an inner exception.</summary>
    public FaissException(string message, Exception innerException)
        : base(message, innerException) => ErrorCode = FaissErrorCode.Faiss;

    /// <summary>What kind of native failure this is.</summary>
    public FaissErrorCode ErrorCode { get; }
}
