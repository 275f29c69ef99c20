using OrleansVectors.Cli;
using Xunit.Abstractions;

namespace OrleansVectors.Client.Tests;

/// <summary>k-means as a map-reduce over the shards of a three-silo cluster, against faiss in-process and python3-faiss.</summary>
public sealed class KMeansTests(ClusterFixture fixture, ITestOutputHelper output) : IClassFixture<ClusterFixture>
{
    private readonly VectorIndexClient _client = new(fixture.Client);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    public async Task From_the_same_initial_centroids_the_distributed_iterations_equal_single_node_Lloyd(int shards)
    {
        const int N = 4000, D = 16, K = 12;
        var data = TestData.Blobs(N, D, 15, seed: 40 + shards);
        var index = await LoadAsync($"lloyd-{shards}", data, D, shards);
        var options = new FaissKMeansOptions { Iterations = 8, MaxPointsPerCentroid = 100_000, MinPointsPerCentroid = 1, InitialCentroids = data[..(K * D)] };

        var local = FaissClustering.KMeans(data, D, K, options);
        var distributed = await _client.KMeansAsync(index, K, options);

        Assert.Equal(N, distributed.TrainingPoints);
        AssertClose(local.Centroids, distributed.Centroids.Values.ToArray(), 1e-4);
        Assert.Equal(local.Objective.Length, distributed.Objective.Length);
        Assert.All(local.Objective.Zip(distributed.Objective), o => Assert.True(Math.Abs(o.First - o.Second) <= 1e-4 * Math.Abs(o.First), $"objective {o.First} vs {o.Second}"));

        // assignments equal except ties (a vector as near to two centroids)
        var clusters = await _client.GetClustersAsync(index, [.. Enumerable.Range(0, N).Select(i => (long)i)]);
        var differing = Enumerable.Range(0, N).Where(i => clusters[i] != local.Assignments[i]).ToList();
        foreach (var i in differing)
        {
            var vector = data.AsSpan(i * D, D);
            var (a, b) = (Distance(vector, local.Centroids.AsSpan((int)local.Assignments[i] * D, D)), Distance(vector, local.Centroids.AsSpan(clusters[i] * D, D)));
            Assert.True(Math.Abs(a - b) <= 1e-4 * Math.Max(1, a), $"vector {i}: cluster {clusters[i]} at {b}, faiss's {local.Assignments[i]} at {a}");
        }

        Assert.Equal(local.Assignments.GroupBy(a => a).ToDictionary(g => (int)g.Key, g => (long)g.Count()).OrderBy(p => p.Key).Select(p => p.Value), distributed.Sizes.Where(s => s > 0));
    }

    [Theory]
    [InlineData("HNSW16")]
    [InlineData("IVF8,Flat")]
    public async Task An_index_whose_shards_read_their_vectors_back_clusters_as_Flat_and_one_that_cannot_says_so(string factory)
    {
        const int N = 1200, D = 8, K = 5;
        var data = TestData.Blobs(N, D, 6, seed: 61);
        var name = $"readback-{factory.Replace(',', '-')}";
        await _client.DropIndexAsync(name);
        await _client.CreateIndexAsync(name, new IndexSpec { Dimension = D, ShardCount = 2, Factory = factory });
        if (factory.StartsWith("IVF", StringComparison.Ordinal))
        {
            await fixture.Client.GetGrain<IIndexGrain>(name).TrainAsync(VectorBatch.FromRows(data, D));
        }

        await _client.AddAsync(name, data, D, batchRows: 400);
        var options = new FaissKMeansOptions { Iterations = 4, MinPointsPerCentroid = 1, InitialCentroids = data[..(K * D)] };
        if (factory.StartsWith("HNSW", StringComparison.Ordinal))
        {
            // HNSW keeps its vectors in flat storage: read back exactly, the run is faiss's over the same rows
            var local = FaissClustering.KMeans(data, D, K, options);
            var clustered = await _client.KMeansAsync(name, K, options);
            AssertClose(local.Centroids, clustered.Centroids.Values.ToArray(), 1e-4);
        }
        else
        {
            // IVF lists hold vectors by id, not by position: the run fails and says why
            var failed = await Assert.ThrowsAsync<KMeansFailedException>(() => _client.KMeansAsync(name, K, options));
            Assert.Contains("IVF", failed.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_final_objective_is_within_one_percent_of_python_faiss_Kmeans_over_five_seeds()
    {
        using var python = new PythonFaiss();
        // overlapping components: the objective's local minima are close, so five seeds measure the algorithm, not luck
        var blobs = TestData.Blobs(20_000, 32, 24, seed: 5, spread: 0.8f);
        var digits = ReadDigits();
        foreach (var (name, data, d, k) in new[] { ("mixture", blobs, 32, 20), ("digits", digits, 64, 10) })
        {
            var index = await LoadAsync($"quality-{name}", data, d, 4);
            var (ours, theirs) = (0.0, 0.0);
            for (var seed = 1; seed <= 5; seed++)
            {
                var result = await _client.KMeansAsync(index, k, new FaissKMeansOptions { Iterations = 20, Seed = seed });
                ours += result.Objective[^1];
                var objective = python.NewPath();
                python.Run(new
                {
                    op = "kmeans", d, k, niter = 20, nredo = 1, seed, spherical = false, min_points = 39, max_points = 256,
                    x = python.Write<float>(data), out_centroids = python.NewPath(), out_objective = objective, out_assignments = python.NewPath(),
                });
                var reference = PythonFaiss.Read<float>(objective)[^1];
                theirs += reference;
                output.WriteLine($"{name}, seed {seed}: {result.Objective[^1]:G6} here, {reference:G6} python faiss");
            }

            output.WriteLine($"{name}: mean final objective {ours / 5:G6} here, {theirs / 5:G6} python faiss, ratio {ours / theirs:0.0000}");
            Assert.InRange(ours / theirs, 0.99, 1.01);
        }
    }

    [Fact]
    public async Task Spherical_k_means_gives_unit_centroids_and_assigns_by_inner_product()
    {
        var data = TestData.Blobs(2000, 8, 6, seed: 2);
        var index = await LoadAsync("spherical", data, 8, 3);
        var result = await _client.KMeansAsync(index, 6, new FaissKMeansOptions { Iterations = 10, Spherical = true, MinPointsPerCentroid = 1 });
        Assert.True(result.Spherical);
        for (var c = 0; c < result.K; c++)
        {
            var norm = Math.Sqrt(result.Centroids.Values.Slice(c * 8, 8).ToArray().Sum(v => (double)v * v));
            Assert.InRange(norm, 1 - 1e-5, 1 + 1e-5);
        }

        // the objective is a sum of similarities, and it grows
        Assert.True(result.Objective[^1] >= result.Objective[0], $"objective {string.Join(", ", result.Objective)}");
        var local = FaissClustering.KMeans(data, 8, 6, new FaissKMeansOptions { Iterations = 10, Spherical = true, MinPointsPerCentroid = 1, MaxPointsPerCentroid = 100_000, InitialCentroids = result.Centroids.Values.ToArray() });
        Assert.All(local.Centroids.Zip(result.Centroids.Values.ToArray()), p => Assert.True(Math.Abs(p.First - p.Second) < 0.05, $"{p.First} vs {p.Second}"));
    }

    [Fact]
    public async Task Redo_keeps_the_best_of_its_runs()
    {
        var data = TestData.Blobs(3000, 8, 9, seed: 12, spread: 0.4f);
        var index = await LoadAsync("redo", data, 8, 3);
        var once = await _client.KMeansAsync(index, 9, new FaissKMeansOptions { Iterations = 5, Seed = 3 });
        var thrice = await _client.KMeansAsync(index, 9, new FaissKMeansOptions { Iterations = 5, Seed = 3, Redo = 3 });
        Assert.Single(once.RunObjectives);
        Assert.Equal(3, thrice.RunObjectives.Length);
        Assert.Equal(once.RunObjectives[0], thrice.RunObjectives[0], 6); // run 0 has the same initial centroids
        Assert.Equal(thrice.RunObjectives.Min(), thrice.Objective[^1]);
        Assert.True(thrice.RunObjectives.Distinct().Count() > 1, "the redo runs started from the same centroids");
    }

    [Fact]
    public async Task Max_points_per_centroid_samples_the_same_points_however_the_index_is_sharded()
    {
        var data = TestData.Blobs(3000, 8, 5, seed: 8);
        var one = await LoadAsync("sample-1", data, 8, 1);
        var three = await LoadAsync("sample-3", data, 8, 3);
        var options = new FaissKMeansOptions { Iterations = 6, MaxPointsPerCentroid = 40, MinPointsPerCentroid = 1, Seed = 77 };
        var a = await _client.KMeansAsync(one, 5, options);
        var b = await _client.KMeansAsync(three, 5, options);
        Assert.Equal(200, a.TrainingPoints);
        Assert.Equal(200, b.TrainingPoints);
        AssertClose(a.Centroids.Values.ToArray(), b.Centroids.Values.ToArray(), 1e-5);
        Assert.Equal(3000, a.Points);
        var all = await _client.KMeansAsync(one, 5, options with { MaxPointsPerCentroid = 1000 });
        Assert.Equal(3000, all.TrainingPoints);
    }

    [Fact]
    public async Task An_empty_cluster_is_repaired_by_splitting_a_large_one()
    {
        const int D = 4;
        // every vector near (10, 10, 10, 10), none near the origin, where an empty cluster's mean would be left
        var data = TestData.Blobs(1000, D, 3, seed: 21).Select(v => v + 10).ToArray();
        var index = await LoadAsync("empty", data, D, 3);
        var initial = data[..(3 * D)].Concat(Enumerable.Repeat(1000f, D)).ToArray(); // the fourth is far from every vector
        var result = await _client.KMeansAsync(index, 4, new FaissKMeansOptions { Iterations = 6, InitialCentroids = initial, MinPointsPerCentroid = 1 });
        Assert.All(result.Sizes, size => Assert.True(size > 0, $"sizes {string.Join(", ", result.Sizes)}"));
        Assert.All(result.Centroids.Values.ToArray(), v => Assert.InRange(v, 7f, 13f));
    }

    [Fact]
    public async Task Members_and_clusters_follow_the_last_result_and_later_adds()
    {
        var data = TestData.Blobs(1200, 8, 4, seed: 31);
        var index = await LoadAsync("members", data.AsSpan(0, 1000 * 8).ToArray(), 8, 3);
        var result = await _client.KMeansAsync(index, 4, new FaissKMeansOptions { Iterations = 8, MinPointsPerCentroid = 1 });
        var clusters = await _client.GetClustersAsync(index, [.. Enumerable.Range(0, 1000).Select(i => (long)i), 5000]);
        Assert.Equal(-1, clusters[^1]);
        for (var c = 0; c < 4; c++)
        {
            var members = await _client.GetClusterMembersAsync(index, c);
            Assert.Equal(result.Sizes[c], members.Length);
            Assert.Equal(Enumerable.Range(0, 1000).Where(i => clusters[i] == c).Select(i => (long)i), members);
        }

        await _client.AddAsync(index, data.AsMemory(1000 * 8), 8);
        var after = await _client.GetClustersAsync(index, [.. Enumerable.Range(1000, 200).Select(i => (long)i)]);
        Assert.All(after, c => Assert.InRange(c, 0, 3));
        var total = 0L;
        for (var c = 0; c < 4; c++)
        {
            total += (await _client.GetClusterMembersAsync(index, c)).Length;
        }

        Assert.Equal(1200, total);
        Assert.Equal(result.RunId, (await _client.GetKMeansResultAsync(index))!.RunId);
    }

    [Fact]
    public async Task Bad_requests_get_specific_errors()
    {
        var index = await LoadAsync("bad", TestData.Uniform(50, 4, seed: 1), 4, 2);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _client.KMeansAsync(index, 0));
        var tooMany = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _client.KMeansAsync(index, 51));
        Assert.Contains("50", tooMany.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _client.KMeansAsync(index, 3, new FaissKMeansOptions { Iterations = 0 }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _client.KMeansAsync(index, 3, new FaissKMeansOptions { Redo = 0 }));
        await Assert.ThrowsAsync<IndexNotFoundException>(() => _client.KMeansAsync("no-such-index", 3));
        await _client.CreateIndexAsync("empty-index", new IndexSpec { Dimension = 4, ShardCount = 2 });
        var empty = await Assert.ThrowsAsync<InvalidOperationException>(() => _client.KMeansAsync("empty-index", 3));
        Assert.Contains("empty", empty.Message, StringComparison.Ordinal);
        var missing = await Assert.ThrowsAsync<KMeansFailedException>(() => _client.KMeansAsync(index, 2, ids: [1, 2, 3, 999]));
        Assert.Contains("1 of the 4 ids", missing.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => _client.KMeansAsync(index, 2, new FaissKMeansOptions { InitialCentroids = new float[12] }));
        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.GetClusterMembersAsync("empty-index", 0));
    }

    [Fact]
    public async Task Searches_go_on_during_a_run_and_a_cancelled_run_says_so()
    {
        var data = TestData.Blobs(20_000, 16, 30, seed: 4);
        var index = await LoadAsync("busy", data, 16, 4);
        using var cancel = new CancellationTokenSource();
        var seen = new List<KMeansProgress>();
        var run = _client.KMeansAsync(index, 30, new FaissKMeansOptions { Iterations = 100_000 }, progress: new SyncProgress(seen), cancellationToken: cancel.Token);
        while (Last(seen) is not { Iteration: >= 2 })
        {
            await Task.Delay(50);
        }

        for (var i = 0; i < 20; i++)
        {
            var hits = await _client.SearchAsync(index, data.AsMemory(i * 16, 16), 16, 3);
            Assert.Equal(i, hits.Labels[0]);
        }

        // one run at a time per index, even when two starts race
        var again = await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
            await Record.ExceptionAsync(() => _client.KMeansAsync(index, 5, new FaissKMeansOptions { Iterations = 2 }))));
        Assert.All(again, e => Assert.Contains("going on", Assert.IsType<InvalidOperationException>(e).Message, StringComparison.Ordinal));

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Contains(seen, p => p.State == KMeansState.Iterating && p.Objective.Length >= 2);
        var progress = await fixture.Client.GetGrain<IKMeansGrain>(index).GetProgressAsync();
        Assert.Equal(KMeansState.Cancelled, progress.State);
    }

    [Fact]
    public async Task A_silo_killed_mid_run_fails_the_run_clearly_or_it_completes_correctly()
    {
        var own = new ClusterFixture();
        await own.InitializeAsync();
        try
        {
            var client = new VectorIndexClient(own.Client);
            var data = TestData.Blobs(20_000, 16, 20, seed: 6);
            await client.CreateIndexAsync("killed", new IndexSpec { Dimension = 16, ShardCount = 6 });
            await client.AddAsync("killed", data, 16);
            var options = new FaissKMeansOptions { Iterations = 300, Seed = 5 };
            var seen = new List<KMeansProgress>();
            var run = client.KMeansAsync("killed", 20, options, progress: new SyncProgress(seen));
            while (Last(seen) is not { Iteration: >= 3 })
            {
                await Task.Delay(50);
            }

            await own.Cluster.KillSiloAsync(own.Cluster.Silos[^1]);
            try
            {
                var result = await run;
                var again = await client.KMeansAsync("killed", 20, options); // deterministic from the seed
                AssertClose(again.Centroids.Values.ToArray(), result.Centroids.Values.ToArray(), 1e-5);
                output.WriteLine("the run completed");
            }
            catch (KMeansFailedException e)
            {
                output.WriteLine(e.Message);
                Assert.Contains("k-means", e.Message, StringComparison.Ordinal);
            }

            // searches work once the shards have moved
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (true)
            {
                try
                {
                    var hits = await client.SearchAsync("killed", data.AsMemory(0, 16), 16, 1);
                    Assert.Equal(0, hits.Labels[0]);
                    break;
                }
                catch (Exception e) when (e is OrleansException or ShardUnavailableException or TimeoutException && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(500);
                }
            }
        }
        finally
        {
            await own.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_cluster_FaissKMeans_clusters_a_tensors_rows_as_the_in_process_one()
    {
        var data = TestData.Blobs(600, 8, 4, seed: 17, spread: 0.05f);
        using var x = TorchSharp.torch.tensor(data, [600, 8]);
        var options = new FaissKMeansOptions { Iterations = 10, Redo = 3, MinPointsPerCentroid = 1 };
        using var local = new Inference.FaissKMeans(options).Cluster(x, 4);
        using var remote = await new ClusterFaissKMeans(_client, options, shards: 3).ClusterAsync(x, 4);
        var (a, b) = (local.data<long>().ToArray(), remote.data<long>().ToArray());
        Assert.Equal(600, b.Length);
        Assert.All(b, c => Assert.InRange(c, 0, 3));

        // the same partition, whatever the cluster numbers
        var pairs = a.Zip(b).Distinct().ToList();
        Assert.Equal(4, pairs.Count);
        Assert.Equal(4, pairs.Select(p => p.First).Distinct().Count());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => new ClusterFaissKMeans(_client).ClusterAsync(x, 601));
    }

    private async Task<string> LoadAsync(string name, float[] data, int d, int shards)
    {
        await _client.DropIndexAsync(name);
        await _client.CreateIndexAsync(name, new IndexSpec { Dimension = d, ShardCount = shards });
        await _client.AddAsync(name, data, d, batchRows: 500);
        return name;
    }

    private static float[] ReadDigits()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "bench", "data", "digits.csv.gz");
            if (File.Exists(path))
            {
                return VectorFiles.Read(path, lastColumnIsLabel: true).Values;
            }
        }

        throw new FileNotFoundException("bench/data/digits.csv.gz is not above the test's folder.");
    }

    private static double Distance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += (a[i] - b[i]) * (double)(a[i] - b[i]);
        }

        return sum;
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(worst <= tolerance, $"largest difference {worst}");
    }

    private static KMeansProgress? Last(List<KMeansProgress> seen)
    {
        lock (seen)
        {
            return seen.Count == 0 ? null : seen[^1];
        }
    }

    /// <summary>Records progress as it is reported (Progress&lt;T&gt; would post it later).</summary>
    private sealed class SyncProgress(List<KMeansProgress> seen) : IProgress<KMeansProgress>
    {
        public void Report(KMeansProgress value)
        {
            lock (seen)
            {
                seen.Add(value);
            }
        }
    }
}
