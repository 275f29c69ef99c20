using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansVectors.Cli;

/// <summary>
/// What --json writes: records of the tool's own, so the output's shape (camelCase property names) stays put when the
/// client's types change. One JSON document on standard output; progress and messages stay off it.
/// </summary>
internal static class ToolJson
{
    /// <summary>Writes <paramref name="value"/> as one indented JSON document and a newline to the command's output.</summary>
    public static void Write<T>(ParseResult parseResult, T value)
    {
        var output = parseResult.InvocationConfiguration.Output;
        output.WriteLine(JsonSerializer.Serialize(value, typeof(T), ToolJsonContext.Default));
        output.Flush();
    }

    /// <summary>The metric as --metric takes it: "l2" or "ip".</summary>
    public static string MetricName(VectorMetric metric) => metric == VectorMetric.InnerProduct ? "ip" : "l2";

    public static IndexJson From(IndexDescription description) => new(
        description.Name,
        description.Count,
        description.Spec.Dimension,
        MetricName(description.Spec.Metric),
        description.Spec.Factory,
        description.Spec.ShardCount,
        description.Spec.MatchThreshold,
        description.Spec.Model,
        description.Spec.InputDimension,
        [.. description.Shards.Select(s => new ShardJson(s.Shard, s.Count, s.Silo, s.Engine))]);
}

/// <summary>ovx stats/describe --json: the index's spec and each shard's count, silo and engine.</summary>
internal sealed record IndexJson(
    string Name, long Count, int Dimension, string Metric, string Factory, int ShardCount, double? MatchThreshold, string? Model, int? InputDimension,
    IReadOnlyList<ShardJson> Shards);

/// <summary>One shard of <see cref="IndexJson"/>.</summary>
internal sealed record ShardJson(int Shard, long Count, string Silo, string Engine);

/// <summary>ovx query --json: each query's neighbours, nearest first; partial when some shards (failedShards) did not answer.</summary>
internal sealed record QueryJson(string Index, int K, bool Partial, IReadOnlyList<int> FailedShards, IReadOnlyList<QueryResultJson> Queries);

/// <summary>One query (its row in the file) of <see cref="QueryJson"/>.</summary>
internal sealed record QueryResultJson(int Query, IReadOnlyList<NeighborJson> Neighbors);

/// <summary>A neighbour's id and its distance under the index's metric.</summary>
internal sealed record NeighborJson(long Id, float Distance);

/// <summary>ovx snapshots --json: retained versions (name null) and saved snapshots (version of the save).</summary>
internal sealed record SnapshotsJson(string Index, IReadOnlyList<SnapshotJson> Snapshots);

/// <summary>One snapshot of <see cref="SnapshotsJson"/>; created is UTC, ISO 8601.</summary>
internal sealed record SnapshotJson(long Version, string? Name, DateTimeOffset Created, long Count, long Bytes);

/// <summary>ovx kmeans --json: the result of the run, centroids row by row.</summary>
internal sealed record KMeansJson(
    string Index, int K, int Dimension, long Points, long TrainingPoints, bool Spherical, IReadOnlyList<double> Objective,
    IReadOnlyList<double> RunObjectives, IReadOnlyList<long> Sizes, IReadOnlyList<float[]> Centroids);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(IndexJson))]
[JsonSerializable(typeof(QueryJson))]
[JsonSerializable(typeof(SnapshotsJson))]
[JsonSerializable(typeof(KMeansJson))]
internal sealed partial class ToolJsonContext : JsonSerializerContext;
