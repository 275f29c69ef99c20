namespace OrleansVectors;

/// <summary>
/// The limits every layer enforces, each with one name: the client and the tool before they send, the grains on
/// what arrives, the in-process API before faiss. A limit of one layer alone (the cluster's largest k, a reply's
/// size) stays with the type that enforces it.
/// </summary>
public static class Limits
{
    /// <summary>The widest vector (and model input) anything takes: an index, faiss, a vector file read by the tool.</summary>
    public const int MaxDimension = 1 << 16;

    /// <summary>The most shards an index may have.</summary>
    public const int MaxShards = 256;

    /// <summary>The most IVF lists a factory string may ask for, and so the most lists a query may probe.</summary>
    public const int MaxLists = 1 << 20;

    /// <summary>The largest HNSW candidate list (efSearch) a search may ask for.</summary>
    public const int MaxEfSearch = 1 << 16;

    /// <summary>The largest part of an export one read returns (16 MiB): the client reads parts of this size.</summary>
    public const int MaxExportChunkBytes = 16 << 20;

    /// <summary>The longest index name: names become grain keys, storage paths and log fields.</summary>
    public const int MaxIndexNameLength = 64;

    /// <summary>The longest saved-snapshot name.</summary>
    public const int MaxSnapshotNameLength = 128;

    /// <summary>The longest model name (a file name in the silos' model folder).</summary>
    public const int MaxModelNameLength = 128;

    /// <summary>Bytes in a mebibyte, for sizes shown in messages.</summary>
    public const int BytesPerMiB = 1 << 20;
}
