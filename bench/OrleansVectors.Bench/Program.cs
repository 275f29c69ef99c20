using OrleansVectors.Bench;

return args.FirstOrDefault() switch
{
    "search" => FaissSearchBenchmark.Run(args[1..]),
    "engines" => EngineBenchmark.Run(args[1..]),
    "inference" => InferenceBenchmark.Run(args[1..]),
    "cluster" => await ClusterBenchmark.RunAsync(args[1..]),
    "durability" => await DurabilityBenchmark.RunAsync(args[1..]),
    "deployment" => await DeploymentBenchmark.RunAsync(args[1..]),
    "kmeans" => await KMeansBenchmark.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: OrleansVectors.Bench <command> [options]

          search     FaissIndex search throughput against Debian's python3-faiss, same data and threads
                     options: --base N (100000) --dim D (128) --queries N (1000) --k K (10) --threads T (all) --reps R (5)
          engines    the fused CPU engine against the sgemm peak, one streaming read and faiss (Flat L2, 100k and 1M vectors);
                     with --gpu and a CUDA device, the GPU engine against the device's bounds
                     options: --dim D (128) --k K (10) --queries N (1000) --singles N (200) --reps R (5) --threads T (all) --sizes N
                              --gpu [--gpu-device cuda|cpu] [--peak-tflops T (the device's FP32 peak, for the share)]
          inference  InferenceModel.GetNearestNeighbors against the trunk and FaissIndex by hand; CustomKnn against FaissKnn
                     options: --base N (50000) --input-dim D (64) --dim D (128) --queries N (1000) --k K (10) --reps R (5)
          cluster    search throughput and latency: FaissIndex in-process, 1 silo × 1 shard, 1 silo × 4 shards, 2 silo processes × 4 shards
                     options: --base N (100000) --dim D (128) --k K (10) --rounds R (20) --singles N (300) --engine faiss|cpu|auto (auto)
          deployment throughput of 1, 2 and 3 silo processes × 6 shards, TLS off and on, per-silo CPU, against a scaling model
                     options: --base N (120000) --dim D (128) --rounds R (30) --singles N (300)
          kmeans     k-means over 1 silo × 4 shards and 2 silo processes × 4 shards against single-node faiss, same data, same run
                     options: --base N (100000) --dim D (64) --k K (256) --iterations N (20) --reps R (3)
          durability ingest through 1 silo × 4 shards (log fsynced) against FaissIndex + the same log append; snapshot and
                     recovery against raw writes and reads of the same bytes, on files and on Azurite (when installed)
                     options: --base N (1000000) --dim D (128) --batch N (8192) --in-flight N (4)
        """);
    return 2;
}
