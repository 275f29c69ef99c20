namespace OrleansVectors.Client.Tests;

/// <summary>
/// Tests that time a cluster's failover (a SIGKILL, a rolling restart) with membership probes of 2 s. They run alone,
/// after the parallel tests: on 2 cores, silo processes that other tests start at the same time (the bad-settings
/// theory, the package test's build) starve the probes, and live silos are declared dead.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FailoverRuns : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "failover, run alone";
}
