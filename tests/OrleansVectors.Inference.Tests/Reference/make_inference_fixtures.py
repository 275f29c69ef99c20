#!/usr/bin/python3
"""Golden outputs of the seed's inference API (pytorch-metric-learning's utils.inference and distances),
computed with Debian's python3-torch (1.13) and python3-faiss (1.7.3), for the parity tests of
OrleansVectors.Inference.

Usage: /usr/bin/python3 make_inference_fixtures.py [OUTPUT_DIR]
       (default: ../Fixtures/inference beside this script; native/install-deps.sh fixtures installs the packages)

pytorch-metric-learning itself is not packaged by Debian, so the few lines of its semantics that these tests
pin down are restated here, each next to the function of the seed it mirrors (make_seed_fixtures.py runs the
seed's own code for the rest, Fixtures/seed):
  BaseDistance.forward: normalize rows (p-norm) when normalize_embeddings, compute the matrix, raise it to
  `power` when power != 1; reference defaults to the query. The `*_pairwise` and `ismatch_*` arrays here are
  the diagonal of forward (normalized, with power): OrleansVectors' ComputePairs and IsMatchNormalized, not the
  seed's pairwise_distance/is_match, which take the rows as given.
  FaissKNN / CustomKNN: k+1 neighbours when the reference includes the query, then return_results drops each
  row's own index, or the last column of a row that lacks it.

Every array is written raw (little-endian) with its shape and dtype in manifest.json. The TorchScript models
are saved with torch.jit.script, as a user of the seed would export them.
"""
import json
import os
import sys

import faiss
import numpy as np
import torch

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "inference")
manifest = {}


def save(name, tensor):
    array = tensor.detach().cpu().numpy() if isinstance(tensor, torch.Tensor) else np.asarray(tensor)
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    dtype = {np.dtype(np.float32): "float32", np.dtype(np.int64): "int64", np.dtype(np.bool_): "bool"}[array.dtype]
    np.ascontiguousarray(array).tofile(os.path.join(OUT, name + ".bin"))
    manifest[name] = {"shape": list(array.shape), "dtype": dtype}


# ---- the seed's semantics ------------------------------------------------------------------------------

class Distance:
    def __init__(self, kind, normalize=True, p=2.0, power=1.0):
        self.kind, self.normalize, self.p, self.power = kind, normalize, p, power
        self.is_inverted = kind in ("cosine", "dot")

    def maybe_normalize(self, x):
        # cosine always normalizes (CosineSimilarity asserts normalize_embeddings)
        if self.normalize or self.kind == "cosine":
            return torch.nn.functional.normalize(x, p=2 if self.kind == "cosine" else self.p, dim=1)
        return x

    def __call__(self, query, ref=None):
        q = self.maybe_normalize(query)
        r = q if ref is None else self.maybe_normalize(ref)
        if self.kind in ("cosine", "dot"):
            mat = torch.matmul(q, r.t())
        elif self.kind == "lp":
            mat = torch.cdist(q, r, p=self.p)
        elif self.kind == "snr":
            mat = torch.var(q.unsqueeze(1) - r, dim=2) / torch.var(q, dim=1).unsqueeze(1)
        if self.power != 1:
            mat = mat ** self.power
        return mat

    def pairwise(self, query, ref):
        q, r = self.maybe_normalize(query), self.maybe_normalize(ref)
        if self.kind in ("cosine", "dot"):
            d = torch.sum(q * r, dim=1)
        elif self.kind == "lp":
            d = torch.nn.functional.pairwise_distance(q, r, p=self.p)
        elif self.kind == "snr":
            d = torch.var(q - r, dim=1) / torch.var(q, dim=1)
        return d ** self.power if self.power != 1 else d


def return_results(D, I, same_source):
    if same_source:
        self_idx = torch.arange(len(I))
        matches_self_idx = I == self_idx.unsqueeze(1)
        row_has_match = torch.any(matches_self_idx, dim=1)
        if not torch.all(row_has_match):
            matches_self_idx[~row_has_match, -1] = True
        I = I[~matches_self_idx].view(I.shape[0], -1)
        D = D[~matches_self_idx].view(D.shape[0], -1)
    return D, I


def faiss_knn(index, query, k, reference, same_source):
    if same_source:
        k = k + 1
    index.add(reference.numpy())
    D, I = index.search(query.numpy(), k)
    return return_results(torch.from_numpy(D), torch.from_numpy(I), same_source)


def custom_knn(distance, query, k, reference, same_source, batch_size=None):
    if same_source:
        k = k + 1
    if batch_size:
        D = torch.zeros(len(query), k)
        I = torch.zeros(len(query), k, dtype=torch.long)
        for s in range(0, len(query), batch_size):
            d, i = torch.topk(distance(query[s:s + batch_size], reference), k, largest=distance.is_inverted, dim=1)
            D[s:s + batch_size], I[s:s + batch_size] = d, i
    else:
        D, I = torch.topk(distance(query, reference), k, largest=distance.is_inverted, dim=1)
    return return_results(D, I, same_source)


class Trunk(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(8, 16)
        self.fc2 = torch.nn.Linear(16, 16)

    def forward(self, x):
        return torch.relu(self.fc2(torch.relu(self.fc1(x))))


class Embedder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(16, 6)

    def forward(self, x):
        return self.fc(x)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20261130)
    faiss.omp_set_num_threads(1)

    query = torch.randn(12, 8)
    ref = torch.randn(20, 8)
    save("query", query)
    save("ref", ref)

    distances = {
        "cosine": Distance("cosine"),
        "cosine_power2": Distance("cosine", power=2.0),
        "dot": Distance("dot"),
        "dot_raw": Distance("dot", normalize=False),
        "lp": Distance("lp"),
        "lp_p1": Distance("lp", p=1.0),
        "lp_power2": Distance("lp", power=2.0),
        "lp_raw": Distance("lp", normalize=False),
        "lp_p3_raw": Distance("lp", p=3.0, normalize=False),
        "snr": Distance("snr"),
        "snr_raw": Distance("snr", normalize=False),
    }
    for name, distance in distances.items():
        save(f"dist_{name}_mat", distance(query, ref))
        save(f"dist_{name}_self", distance(query))
        save(f"dist_{name}_pairwise", distance.pairwise(query, ref[:12]))

    # MatchFinder: inverted (cosine, >=) and not inverted (L2, <=)
    save("match_cosine_0.3", distances["cosine"](query, ref) >= 0.3)
    save("match_cosine_0.3_self", distances["cosine"](query) >= 0.3)
    save("ismatch_cosine_0.3", distances["cosine"].pairwise(query, ref[:12]) >= 0.3)
    save("match_lp_1.2", distances["lp"](query, ref) <= 1.2)
    save("ismatch_lp_1.2", distances["lp"].pairwise(query, ref[:12]) <= 1.2)

    # FaissKNN: L2 with a separate reference; inner product on raw vectors with the query as the
    # reference, where larger-norm rows outrank a row's own index, so some rows lack their own index
    D, I = faiss_knn(faiss.IndexFlatL2(8), query, 5, ref, False)
    save("faissknn_l2_D", D); save("faissknn_l2_I", I)
    D, I = faiss_knn(faiss.IndexFlatL2(8), ref, 5, ref, True)
    save("faissknn_l2_same_D", D); save("faissknn_l2_same_I", I)
    scaled = ref * torch.linspace(0.2, 3.0, 20).unsqueeze(1)
    save("scaled", scaled)
    D, I = faiss_knn(faiss.IndexFlatIP(8), scaled, 4, scaled, True)
    save("faissknn_ip_same_D", D); save("faissknn_ip_same_I", I)

    # CustomKNN
    D, I = custom_knn(distances["cosine"], query, 5, ref, False)
    save("customknn_cosine_D", D); save("customknn_cosine_I", I)
    D, I = custom_knn(distances["lp"], query, 5, ref, False, batch_size=5)
    save("customknn_lp_batched_D", D); save("customknn_lp_batched_I", I)
    D, I = custom_knn(distances["dot_raw"], scaled, 4, scaled, True)
    save("customknn_dot_same_D", D); save("customknn_dot_same_I", I)
    D, I = custom_knn(distances["dot_raw"], scaled, 4, scaled, True, batch_size=3)
    save("customknn_dot_same_batched_D", D); save("customknn_dot_same_batched_I", I)

    # FaissKMeans (faiss.Kmeans, then each point's nearest centroid)
    centres = torch.randn(4, 8) * 4
    points = torch.cat([c + 0.5 * torch.randn(60, 8) for c in centres])
    save("kmeans_x", points)
    kmeans = faiss.Kmeans(8, 4, niter=20, seed=123, verbose=False)
    kmeans.train(points.numpy())
    _, assignments = kmeans.index.search(points.numpy(), 1)
    save("kmeans_assignments", torch.from_numpy(assignments.ravel().astype(np.int64)))
    save("kmeans_centroids", torch.from_numpy(kmeans.centroids))

    # TorchScript models and the embeddings InferenceModel must produce from them
    trunk, embedder = Trunk().eval(), Embedder().eval()
    torch.jit.script(trunk).save(os.path.join(OUT, "trunk.pt"))
    torch.jit.script(embedder).save(os.path.join(OUT, "embedder.pt"))
    model_input = torch.randn(10, 8)
    save("model_input", model_input)
    with torch.no_grad():
        trunk_out = trunk(model_input)
        emb = embedder(trunk_out)
    save("model_trunk_out", trunk_out)
    save("model_embeddings_raw", emb)
    save("model_embeddings", torch.nn.functional.normalize(emb, p=2, dim=1))

    manifest["_about"] = {"torch": torch.__version__, "faiss": faiss.__version__, "script": os.path.basename(__file__)}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
