using Xunit.Abstractions;

namespace OrleansVectors.Client.Tests;

/// <summary>
/// The production topology without Kubernetes: silo processes clustered through Azure Table storage and keeping
/// everything durable in blobs (both on Azurite), and a client that finds the gateways in the membership table.
/// </summary>
[Collection(FailoverRuns.Name)]
public sealed class ProductionTopologyTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const int D = 32;
    private const string Index = "prod";

    /// <summary>The longest stretch of failing queries a crash or a restart may cause (membership declares a silo dead in seconds here).</summary>
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task Three_silos_on_Azure_Table_membership_answer_completely_after_a_SIGKILL_and_through_a_rolling_restart()
    {
        await using var silos = new SiloProcesses(3, new SiloClusterSetup { StorageConnectionString = azurite.ConnectionString });
        await Task.WhenAll(Enumerable.Range(0, silos.Count).Select(silos.StartAsync));
        for (var i = 0; i < silos.Count; i++)
        {
            await silos.WaitReadyAsync(i, TimeSpan.FromSeconds(60));
        }

        var client = await silos.ConnectAsync();
        await client.CreateIndexAsync(Index, new IndexSpec { Dimension = D, ShardCount = 6 });
        var vectors = TestData.Uniform(6500, D, seed: 91);
        await client.AddAsync(Index, vectors.AsMemory(0, 6000 * D), D, batchRows: 500);
        var queries = vectors.AsMemory(0, 20 * D);
        var expected = await client.SearchAsync(Index, queries, D, 10);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), expected.Labels.ToArray().Where((_, j) => j % 10 == 0));

        // a crash: no goodbye to the cluster. The other silos declare it dead, its shards activate on them and
        // restore from their logs, and answers are complete and identical again.
        await silos.KillAsync(1);
        var crash = Stopwatch.StartNew();
        await UntilAsync(async () => Same(expected, await client.SearchAsync(Index, queries, D, 10)), Window, "complete answers after the SIGKILL");
        output.WriteLine($"complete answers {crash.Elapsed.TotalSeconds:0.0} s after the SIGKILL");
        Assert.Equal(6000, await client.CountAsync(Index)); // nothing acknowledged is lost
        await client.AddAsync(Index, vectors.AsMemory(6000 * D), D, batchRows: 250);
        Assert.Equal(6500, await client.CountAsync(Index));
        expected = await client.SearchAsync(Index, queries, D, 10);

        // a rolling restart, one silo at a time (the crashed one first comes back), with queries throughout
        using var stop = new CancellationTokenSource();
        var load = QueryContinuouslyAsync(client, queries, expected, stop.Token);
        await silos.StartAsync(1);
        await silos.WaitReadyAsync(1, TimeSpan.FromSeconds(120));
        for (var i = 0; i < silos.Count; i++)
        {
            await silos.TerminateAsync(i);
            await silos.StartAsync(i);
            await silos.WaitReadyAsync(i, TimeSpan.FromSeconds(120));
        }

        await Task.Delay(TimeSpan.FromSeconds(2));
        await stop.CancelAsync();
        var outcomes = await load;
        var (ok, failed, longest) = Summarize(outcomes);
        output.WriteLine($"rolling restart: {ok} queries answered completely, {failed} failed, longest failing stretch {longest.TotalSeconds:0.0} s");
        Assert.True(ok > 10, $"only {ok} queries answered during the rolling restart");
        Assert.True(longest < Window, $"queries failed for {longest.TotalSeconds:0.0} s in a row during the rolling restart");
        Assert.True(outcomes[^1].Ok, "the last query of the rolling restart failed");
        Assert.Equal(6500, await client.CountAsync(Index));
        Assert.True(Same(expected, await client.SearchAsync(Index, queries, D, 10)));
    }

    private static bool Same(NeighborResults expected, NeighborResults actual) =>
        expected.Labels.SequenceEqual(actual.Labels) && expected.Distances.SequenceEqual(actual.Distances);

    /// <summary>Queries until cancelled: when each one ended, and whether it was complete and identical to <paramref name="expected"/>.</summary>
    private static async Task<List<(TimeSpan At, bool Ok)>> QueryContinuouslyAsync(VectorIndexClient client, ReadOnlyMemory<float> queries, NeighborResults expected, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        var outcomes = new List<(TimeSpan, bool)>();
        while (!stop.IsCancellationRequested)
        {
            bool ok;
            try
            {
                ok = Same(expected, await client.SearchAsync(Index, queries, D, 10, cancellationToken: CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None));
            }
            catch (Exception e) when (e is OrleansException or ShardUnavailableException or TimeoutException or InvalidOperationException)
            {
                ok = false;
            }

            outcomes.Add((clock.Elapsed, ok));
            await Task.Delay(100, CancellationToken.None);
        }

        return outcomes;
    }

    private static (int Ok, int Failed, TimeSpan Longest) Summarize(List<(TimeSpan At, bool Ok)> outcomes)
    {
        var longest = TimeSpan.Zero;
        var lastOk = TimeSpan.Zero;
        foreach (var (at, ok) in outcomes)
        {
            if (ok)
            {
                lastOk = at;
            }
            else if (at - lastOk > longest)
            {
                longest = at - lastOk;
            }
        }

        return (outcomes.Count(o => o.Ok), outcomes.Count(o => !o.Ok), longest);
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition().WaitAsync(TimeSpan.FromSeconds(30)))
                {
                    return;
                }
            }
            catch (Exception e) when (e is OrleansException or ShardUnavailableException or TimeoutException or InvalidOperationException)
            {
                last = e;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"no {what} within {timeout.TotalSeconds:0} s (last error: {last?.Message ?? "none; answers differed"})");
    }
}
