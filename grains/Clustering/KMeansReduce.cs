namespace OrleansVectors.Grains.Clustering;

/// <summary>
/// The reduce of distributed k-means, in double precision: shards' per-centroid sums into new centroids, empty
/// clusters repaired as faiss repairs them, spherical renormalization.
/// </summary>
internal static class KMeansReduce
{
    /// <summary>faiss's perturbation when it splits a cluster to fill an empty one (1/1024).</summary>
    private const double Eps = 1.0 / 1024;

    /// <summary>Adds the shards' partial sums, counts and objectives.</summary>
    public static (double[] Sums, long[] Counts, double Objective) Combine(IEnumerable<KMeansPartial> partials, int k, int d)
    {
        var sums = new double[k * d];
        var counts = new long[k];
        var objective = 0.0;
        foreach (var partial in partials)
        {
            var part = partial.Sums;
            for (var i = 0; i < sums.Length; i++)
            {
                sums[i] += part[i];
            }

            for (var c = 0; c < k; c++)
            {
                counts[c] += partial.Counts[c];
            }

            objective += partial.Objective;
        }

        return (sums, counts, objective);
    }

    /// <summary>
    /// The new centroids: each cluster's mean; then every empty cluster takes a copy of a cluster picked with
    /// probability proportional to its size and both are pushed apart by a small symmetric perturbation (faiss's
    /// split_clusters, RNG seeded 1234 at each call); then, for spherical k-means, unit length.
    /// </summary>
    /// <returns>The centroids (k × d, row-major) and how many empty clusters were split.</returns>
    public static (float[] Centroids, int Split) Centroids(double[] sums, long[] counts, int d, bool spherical)
    {
        var k = counts.Length;
        var centroids = new double[k * d];
        for (var c = 0; c < k; c++)
        {
            if (counts[c] > 0)
            {
                for (var j = 0; j < d; j++)
                {
                    centroids[(c * d) + j] = sums[(c * d) + j] / counts[c];
                }
            }
        }

        var split = SplitEmpty(centroids, [.. counts.Select(c => (double)c)], d);
        var result = centroids.Select(v => (float)v).ToArray();
        if (spherical)
        {
            Normalize(result, d);
        }

        return (result, split);
    }

    /// <summary>Scales every centroid to unit length (spherical k-means; faiss does it after initialization too).</summary>
    public static void Normalize(float[] centroids, int d)
    {
        for (var c = 0; c < centroids.Length / d; c++)
        {
            var row = centroids.AsSpan(c * d, d);
            var norm = 0.0;
            foreach (var v in row)
            {
                norm += (double)v * v;
            }

            norm = Math.Sqrt(norm);
            if (norm > 0)
            {
                for (var j = 0; j < d; j++)
                {
                    row[j] = (float)(row[j] / norm);
                }
            }
        }
    }

    /// <summary>faiss's split_clusters over double centroids; <paramref name="sizes"/> is updated as faiss updates it.</summary>
    private static int SplitEmpty(double[] centroids, double[] sizes, int d)
    {
        var k = sizes.Length;
        var n = sizes.Sum();
        var random = new Random(1234);
        var split = 0;
        for (var ci = 0; ci < k; ci++)
        {
            if (sizes[ci] != 0)
            {
                continue;
            }

            // a cluster to split, with probability proportional to its size (beyond one point)
            var cj = 0;
            while (true)
            {
                var p = (sizes[cj] - 1.0) / (n - k);
                if (random.NextDouble() < p)
                {
                    break;
                }

                cj = (cj + 1) % k;
            }

            centroids.AsSpan(cj * d, d).CopyTo(centroids.AsSpan(ci * d, d));
            for (var j = 0; j < d; j++)
            {
                var (up, down) = j % 2 == 0 ? (1 + Eps, 1 - Eps) : (1 - Eps, 1 + Eps);
                centroids[(ci * d) + j] *= up;
                centroids[(cj * d) + j] *= down;
            }

            sizes[ci] = sizes[cj] / 2;
            sizes[cj] -= sizes[ci];
            split++;
        }

        return split;
    }
}
