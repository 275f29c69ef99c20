#!/usr/bin/python3
"""Ground truth from Debian's python3-faiss (1.7.3) for the parity tests of the C# faiss binding.

Usage: /usr/bin/python3 faiss_reference.py REQUEST.json

The request names an operation and the files that hold its inputs; the script writes its outputs to the
files the request names. Arrays are raw little-endian: float32 for vectors and distances, int64 for ids and
offsets. The C# tests generate the inputs, so both sides see the same bytes. Run by Debian's system python3
(not a pyenv one), which is where apt installs faiss and numpy.
"""
import json
import sys

import faiss
import numpy as np


def load(path, dtype, cols=None):
    a = np.fromfile(path, dtype=dtype)
    return a.reshape(-1, cols) if cols else a


def save(path, array, dtype):
    np.ascontiguousarray(array, dtype=dtype).tofile(path)


def metric(name):
    return {"L2": faiss.METRIC_L2, "InnerProduct": faiss.METRIC_INNER_PRODUCT}[name]


def build(req):
    d = req["d"]
    index = faiss.index_factory(d, req["factory"], metric(req["metric"]))
    if "train" in req:
        index.train(load(req["train"], np.float32, d))
    if "base" in req:
        base = load(req["base"], np.float32, d)
        if "ids" in req:
            index.add_with_ids(base, load(req["ids"], np.int64))
        else:
            index.add(base)
    return index


def set_params(index, req):
    if req.get("nprobe"):
        faiss.extract_index_ivf(index).nprobe = req["nprobe"]
    if req.get("efSearch"):
        faiss.downcast_index(index).hnsw.efSearch = req["efSearch"]


def search(index, req):
    set_params(index, req)
    queries = load(req["queries"], np.float32, req["d"])
    distances, labels = index.search(queries, req["k"])
    save(req["out_distances"], distances, np.float32)
    save(req["out_labels"], labels, np.int64)


def op_search(req):
    search(build(req), req)


def op_range_search(req):
    index = build(req)
    set_params(index, req)
    lims, distances, labels = index.range_search(load(req["queries"], np.float32, req["d"]), req["radius"])
    save(req["out_offsets"], lims, np.int64)
    save(req["out_distances"], distances, np.float32)
    save(req["out_labels"], labels, np.int64)


def op_remove(req):
    index = build(req)
    removed = index.remove_ids(load(req["remove"], np.int64))
    with open(req["out_removed"], "w") as f:
        f.write(f"{removed} {index.ntotal}")
    search(index, req)


def op_reconstruct(req):
    index = build(req)
    keys = load(req["keys"], np.int64)
    save(req["out_vectors"], np.stack([index.reconstruct(int(key)) for key in keys]), np.float32)


def op_serialize(req):
    """Writes python's serialization of the built index, and searches it."""
    index = build(req)
    save(req["out_bytes"], faiss.serialize_index(index), np.uint8)
    search(index, req)


def op_deserialize_search(req):
    """Reads an index serialized by the C# side and searches it."""
    index = faiss.deserialize_index(np.fromfile(req["bytes"], dtype=np.uint8))
    with open(req["out_info"], "w") as f:
        f.write(f"{index.d} {index.ntotal} {index.metric_type}")
    search(index, req)


def op_kmeans(req):
    d, k = req["d"], req["k"]
    kmeans = faiss.Kmeans(
        d, k,
        niter=req["niter"], nredo=req["nredo"], seed=req["seed"], spherical=req["spherical"],
        min_points_per_centroid=req["min_points"], max_points_per_centroid=req["max_points"],
        verbose=False)
    x = load(req["x"], np.float32, d)
    init = load(req["init"], np.float32, d) if "init" in req else None
    kmeans.train(x, init_centroids=init)
    _, assignments = kmeans.index.search(x, 1)
    save(req["out_centroids"], kmeans.centroids, np.float32)
    save(req["out_objective"], kmeans.obj, np.float32)
    save(req["out_assignments"], assignments.ravel(), np.int64)


def main():
    with open(sys.argv[1]) as f:
        req = json.load(f)
    faiss.omp_set_num_threads(req.get("threads", 0) or faiss.omp_get_max_threads())
    globals()["op_" + req["op"]](req)


if __name__ == "__main__":
    main()
