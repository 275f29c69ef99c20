#!/usr/bin/python3
"""The python-faiss side of `OrleansVectors.Bench search`: the same measurements as the C# side, on the
same bytes, with the same thread count. Prints one JSON object of timings (seconds) to stdout.

Usage: /usr/bin/python3 faiss_search_bench.py BASE.f32 QUERIES.f32 SMALL.f32 D K THREADS REPS
"""
import json
import sys
import time

import faiss
import numpy as np


def timed(action, reps):
    action()  # warm-up
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def single_queries(index, queries, k):
    def run():
        for i in range(len(queries)):
            index.search(queries[i:i + 1], k)
    return run


def main():
    base_path, queries_path, small_path, d, k, threads, reps = sys.argv[1:8]
    d, k, threads, reps = int(d), int(k), int(threads), int(reps)
    faiss.omp_set_num_threads(threads)
    base = np.fromfile(base_path, dtype=np.float32).reshape(-1, d)
    queries = np.fromfile(queries_path, dtype=np.float32).reshape(-1, d)
    small = np.fromfile(small_path, dtype=np.float32).reshape(-1, d)

    index = faiss.IndexFlatL2(d)
    index.add(base)
    small_index = faiss.IndexFlatL2(d)
    small_index.add(small)
    single = queries[:200]

    print(json.dumps({
        "batch": timed(lambda: index.search(queries, k), reps),
        "single": timed(single_queries(index, single, k), reps),
        "single_small": timed(single_queries(small_index, queries, k), reps),
        "single_count": len(single),
        "small_count": len(queries),
    }))


if __name__ == "__main__":
    main()
