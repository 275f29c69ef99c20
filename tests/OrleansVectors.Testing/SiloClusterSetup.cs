namespace OrleansVectors.Testing;

/// <summary>How a <see cref="SiloProcesses"/> cluster is set up.</summary>
public sealed record SiloClusterSetup
{
    /// <summary>Membership in Azure Table storage and everything durable in this account; null: localhost clustering and files.</summary>
    public string? StorageConnectionString { get; init; }

    /// <summary>Arguments every silo gets besides the cluster's own (TLS files, options).</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>Arguments of one silo (by number) after the common ones: a cluster whose silos differ (engines, devices).</summary>
    public Func<int, IEnumerable<string>>? ArgumentsOf { get; init; }

    /// <summary>
    /// How long a silo waits for another's answer to a membership probe. Short by default, so the tests that kill a
    /// silo see it declared dead within seconds; null leaves the silo's own default (the bench, whose silos are busy
    /// and must not suspect each other).
    /// </summary>
    public TimeSpan? ProbeTimeout { get; init; } = TimeSpan.FromSeconds(2);
}
