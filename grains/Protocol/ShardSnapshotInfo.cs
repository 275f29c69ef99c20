namespace OrleansVectors.Grains;

/// <summary>One shard's part of a snapshot: its blob, checksum, vector count, size, and the first log segment it does not cover.</summary>
[GenerateSerializer, Immutable, Alias("ov.ShardSnapshotInfo")]
public sealed record ShardSnapshotInfo(
    [property: Id(0)] int Shard,
    [property: Id(1)] string Blob,
    [property: Id(2)] string Checksum,
    [property: Id(3)] long Count,
    [property: Id(4)] long Bytes,
    [property: Id(5)] long LogFromSegment);
