namespace OrleansVectors.GrainInterfaces;

/// <summary>What an index is: fixed when it is created.</summary>
[GenerateSerializer, Immutable, Alias("ov.IndexSpec")]
public sealed record IndexSpec
{
    /// <summary>Dimension of the stored vectors (the model's output dimension when a model is set), 1 to <see cref="Limits.MaxDimension"/>.</summary>
    [Id(0)] public required int Dimension { get; init; }

    /// <summary>How vectors are compared (default L2).</summary>
    [Id(1)] public VectorMetric Metric { get; init; } = VectorMetric.L2;

    /// <summary>The faiss index-factory string of every shard (default "Flat"); shards keep global ids: a string that keeps ids itself (an IDMap prefix, IVF) is used as is, any other under an IDMap.</summary>
    [Id(2)] public string Factory { get; init; } = "Flat";

    /// <summary>Number of shards, 1 to <see cref="Limits.MaxShards"/> (default 1).</summary>
    [Id(3)] public int ShardCount { get; init; } = 1;

    /// <summary>The TorchScript model that embeds raw inputs, named by its file name in the silos' model folder (OrleansVectors:ModelDirectory), or null when callers send embeddings.</summary>
    [Id(4)] public string? Model { get; init; }

    /// <summary>Width of a raw input row when a model is set (what the model takes), else null.</summary>
    [Id(5)] public int? InputDimension { get; init; }

    /// <summary>The default threshold of matches, in the metric's units, or null to require one per call.</summary>
    [Id(6)] public double? MatchThreshold { get; init; }

    /// <summary>Whether model outputs are L2-normalized before indexing (default true, as InferenceModel).</summary>
    [Id(7)] public bool NormalizeEmbeddings { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first field that is out of range.</summary>
    public void Validate()
    {
        if (Dimension is < 1 or > Limits.MaxDimension)
        {
            throw new ArgumentException($"Dimension must be between 1 and {Limits.MaxDimension}; got {Dimension}.", nameof(Dimension));
        }

        if (!Enum.IsDefined(Metric))
        {
            throw new ArgumentException($"Metric must be L2 or InnerProduct; got {Metric}.", nameof(Metric));
        }

        if (string.IsNullOrWhiteSpace(Factory))
        {
            throw new ArgumentException("Factory must be a faiss index-factory string such as \"Flat\" or \"IVF256,Flat\".", nameof(Factory));
        }

        if (ShardCount < 1 || ShardCount > Limits.MaxShards)
        {
            throw new ArgumentException($"ShardCount must be between 1 and {Limits.MaxShards}; got {ShardCount}.", nameof(ShardCount));
        }

        if (Model is not null)
        {
            ResourceNames.RequireModelName(Model, nameof(Model));
        }

        if ((Model is null) != (InputDimension is null))
        {
            throw new ArgumentException("Model and InputDimension go together: set both (raw inputs are embedded by the model) or neither.", nameof(InputDimension));
        }

        if (InputDimension is < 1 or > Limits.MaxDimension)
        {
            throw new ArgumentException($"InputDimension must be between 1 and {Limits.MaxDimension}; got {InputDimension}.", nameof(InputDimension));
        }

        if (MatchThreshold is { } threshold)
        {
            RequireThreshold(threshold, Metric, nameof(MatchThreshold));
        }
    }

    /// <summary>Throws unless <paramref name="threshold"/> is a match threshold that works for <paramref name="metric"/>.</summary>
    /// <exception cref="ArgumentException">It is not finite, outside the float range, or negative for L2.</exception>
    public static void RequireThreshold(double threshold, VectorMetric metric, string paramName)
    {
        if (!double.IsFinite(threshold) || Math.Abs(threshold) > float.MaxValue)
        {
            throw new ArgumentException($"A match threshold must be a finite number within ±{float.MaxValue:g3} (distances are floats); got {threshold:g}.", paramName);
        }

        if (metric == VectorMetric.L2 && threshold < 0)
        {
            throw new ArgumentException($"An L2 match threshold is a squared distance and cannot be negative; got {threshold:g}.", paramName);
        }
    }
}
