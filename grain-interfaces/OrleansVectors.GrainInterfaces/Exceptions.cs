namespace OrleansVectors.GrainInterfaces;

/// <summary>A query could not be answered because a shard failed or did not answer in time.</summary>
[GenerateSerializer, Alias("ov.ShardUnavailableException")]
public sealed class ShardUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ShardUnavailableException(string index, int shard, string reason, Exception? inner = null)
        : base($"Shard {shard} of index '{index}' failed: {reason}", inner)
    {
        Index = index;
        Shard = shard;
    }

    /// <summary>Creates the exception.</summary>
    public ShardUnavailableException()
        : this("", -1, "unknown")
    {
    }

    /// <summary>Creates the exception.</summary>
    public ShardUnavailableException(string message)
        : base(message)
    {
        Index = "";
    }

    /// <summary>Creates the exception.</summary>
    public ShardUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
        Index = "";
    }

    /// <summary>The index.</summary>
    [Id(0)] public string Index { get; } = "";

    /// <summary>The shard that failed.</summary>
    [Id(1)] public int Shard { get; }
}

/// <summary>The named index does not exist (never created, or dropped).</summary>
[GenerateSerializer, Alias("ov.IndexNotFoundException")]
public sealed class IndexNotFoundException : Exception
{
    /// <summary>Creates the exception.</summary>
    public IndexNotFoundException(string index)
        : base($"No index named '{index}': create it first.") => Index = index;

    /// <summary>Creates the exception.</summary>
    public IndexNotFoundException()
        : this("")
    {
    }

    /// <summary>Creates the exception.</summary>
    public IndexNotFoundException(string message, Exception innerException)
        : base(message, innerException) => Index = "";

    /// <summary>The index name.</summary>
    [Id(0)] public string Index { get; } = "";
}

/// <summary>A shard was addressed with another generation of its index (the index was dropped and created again).</summary>
[GenerateSerializer, Alias("ov.StaleGenerationException")]
public sealed class StaleGenerationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StaleGenerationException(string shard)
        : base($"Shard '{shard}' belongs to another generation of its index (dropped and created again).")
    {
    }

    /// <summary>Creates the exception.</summary>
    public StaleGenerationException()
        : this("?")
    {
    }

    /// <summary>Creates the exception.</summary>
    public StaleGenerationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A shard has no index in its current activation: its index was dropped (or never created).</summary>
[GenerateSerializer, Alias("ov.ShardLostException")]
public sealed class ShardLostException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ShardLostException(string shard)
        : base($"Shard '{shard}' has no index: its index was dropped or never created.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public ShardLostException()
        : this("?")
    {
    }

    /// <summary>Creates the exception.</summary>
    public ShardLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A reply would be larger than one message may carry (<see cref="QueryOptions.MaxReplyBytes"/>): the caller sends
/// fewer queries per call, a smaller k, or a tighter threshold. The client library splits its queries and tries
/// again.
/// </summary>
[GenerateSerializer, Alias("ov.ReplyTooLargeException")]
public sealed class ReplyTooLargeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ReplyTooLargeException(string message, int queries, long bytes)
        : base(message)
    {
        Queries = queries;
        Bytes = bytes;
    }

    /// <summary>
    /// Throws when <paramref name="results"/> neighbours or matches for <paramref name="queries"/> queries would
    /// pass <see cref="QueryOptions.MaxReplyBytes"/>; <paramref name="subject"/> names what answers, and
    /// <paramref name="remedy"/> says what the caller does instead.
    /// </summary>
    public static void ThrowIfPastLimit(string subject, int queries, long results, string remedy)
    {
        var bytes = results * BytesPerResult;
        if (bytes > QueryOptions.MaxReplyBytes)
        {
            throw new ReplyTooLargeException(
                $"{subject} would answer {queries} queries with {results:N0} results ({bytes >> 20} MiB), past the {QueryOptions.MaxReplyBytes >> 20} MiB a reply may carry: {remedy}.",
                queries,
                bytes);
        }
    }

    /// <summary>Creates the exception.</summary>
    public ReplyTooLargeException()
        : this("The reply is too large.", 0, 0)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ReplyTooLargeException(string message)
        : this(message, 0, 0)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ReplyTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Bytes a reply spends on each neighbour or match: a float distance and a long id.</summary>
    public const int BytesPerResult = sizeof(float) + sizeof(long);

    /// <summary>How many queries the refused call held.</summary>
    [Id(0)] public int Queries { get; }

    /// <summary>The size the reply would have had, in bytes.</summary>
    [Id(1)] public long Bytes { get; }
}
