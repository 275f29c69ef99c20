#!/usr/bin/python3
"""Golden outputs produced by running the seed itself (pytorch-metric-learning's utils.inference and
distances), imported from a checkout of it, under Debian's python3-torch (1.13) and python3-faiss (1.7.3).

Usage: /usr/bin/python3 make_seed_fixtures.py PATH_TO_PML_SRC [OUTPUT_DIR]
  PATH_TO_PML_SRC  a checkout of KevinMusgrave/pytorch-metric-learning: its root, or its src/ folder (the one
                   holding pytorch_metric_learning/). Nothing of the seed is copied here; it is imported from there.
  OUTPUT_DIR       default: ../Fixtures/seed beside this script
  PML_COMMIT       (environment, optional) the seed's commit, recorded in the manifest when the checkout is
                   not a git work tree (e.g. extracted with git archive)
Packages: native/install-deps.sh fixtures, plus python3-scipy and python3-tqdm, which the seed's
utils/common_functions.py imports at module level. Neither is used by anything computed here, so when one
is missing the script puts an empty stand-in module in sys.modules (listed under _seed.stubs in the
manifest); every number below is computed by the seed's own functions.

The format is that of make_inference_fixtures.py: each array raw little-endian in NAME.bin (float64 is
stored as float32; dtypes float32 / int64 / bool), with {"shape", "dtype"} in manifest.json. Keys starting
with "_" are metadata: _seed (commit, versions), _kmeans_kwargs (what faiss.Kmeans accepts), _notes.

<name> is one of the distance configs: cosine = CosineSimilarity(); dot = DotProductSimilarity();
dot_raw = DotProductSimilarity(normalize_embeddings=False); lp = LpDistance();
lp_raw_p1 = LpDistance(normalize_embeddings=False, p=1); lp_pow2 = LpDistance(power=2);
lp_raw_pow2 = LpDistance(normalize_embeddings=False, power=2); snr = SNRDistance();
cosine_p1 = CosineSimilarity(p=1) (accepted: normalizes with the L1 norm); dot_p1 = DotProductSimilarity(p=1);
snr_p1 = SNRDistance(p=1).

Fixture                          Seed function that produced it
pair_x, pair_y                   inputs: torch.randn(6, 5) * 3 each (not normalized)
mat_q, mat_r                     inputs: torch.randn(4, 5) * 2, torch.randn(7, 5) * 2
pairwise_<name>                  distances.<Config>.pairwise_distance(pair_x, pair_y)  (no normalization, no power)
matrix_<name>                    distances.<Config>.__call__ = BaseDistance.forward(mat_q, mat_r)
norm_<name>                      BaseDistance.get_norm(mat_q)
normalized_<name>                BaseDistance.maybe_normalize(mat_q)
smallest_<name>                  BaseDistance.smallest_dist(matrix_<name>)  (a reduction: max if inverted else min; 0-d)
largest_<name>                   BaseDistance.largest_dist(matrix_<name>)   (min if inverted else max; 0-d)
margin_a, margin_b               inputs: two fixed 3-element tensors
margin_<name>                    BaseDistance.margin(margin_a, margin_b)  (b - a if inverted else a - b)
is_match_<name>                  utils.inference.MatchFinder(distance, threshold).is_match(pair_x, pair_y)  (numpy bool (6,))
is_match_single_<name>           MatchFinder.is_match(pair_x[:1], pair_y[:1]): one pair returns a Python bool (saved 0-d)
                                   for cosine (0.3), lp (1.0), lp_raw_pow2 (20.0), dot_raw (1.0)
matching_<name>                  MatchFinder(distance, threshold).get_matching_pairs(mat_q, mat_r)  (bool (4, 7))
matching_tuples_<name>           get_matching_pairs(mat_q, mat_r, return_tuples=True) as int64 (n, 2)
                                   for cosine (0.2) and lp (1.2)
knn_ref, knn_q                   inputs: torch.randn(3, 4), torch.randn(2, 4)
knn_pad_D, knn_pad_I             utils.inference.FaissKNN()(knn_q, 5, knn_ref)  (k > len(reference): faiss pads)
knn_same_D, knn_same_I           FaissKNN()(knn_ref, 5, knn_ref, ref_includes_query=True)
pca_x                            input: torch.randn(50, 8) @ a fixed random 8x8 matrix + offset
pca_out3, pca_out8               utils.inference.run_pca(pca_x, 3), run_pca(pca_x, 8)
list_in                          input: torch.randn(5, 8) (the input width of Fixtures/inference/trunk.pt)
list_embeddings                  InferenceModel(trunk, data_device=cpu).get_embeddings([5 row tensors])
list_matches                     InferenceModel.get_matches([5 row tensors])  (default MatchFinder: cosine, 0.9)
list_is_match                    InferenceModel.is_match([rows 0..2], [rows 2..4])  (numpy bool (3,))
_kmeans_kwargs (manifest only)   the keyword arguments faiss.Kmeans (used by utils.inference.FaissKMeans) accepts
"""
import inspect
import json
import os
import subprocess
import sys
import types

import faiss
import numpy as np
import torch

if len(sys.argv) < 2:
    sys.exit(__doc__.split("\n\n")[1])
SRC = os.path.abspath(sys.argv[1])
if os.path.isdir(os.path.join(SRC, "src", "pytorch_metric_learning")):
    SRC = os.path.join(SRC, "src")
if not os.path.isdir(os.path.join(SRC, "pytorch_metric_learning")):
    sys.exit(f"no pytorch_metric_learning package under {sys.argv[1]}")
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "Fixtures", "seed")
TRUNK = os.path.join(HERE, "..", "Fixtures", "inference", "trunk.pt")

# Module-level imports of the seed's utils/common_functions.py that nothing used here touches.
STUBS = []
for missing in ("scipy", "tqdm"):
    try:
        __import__(missing)
    except ModuleNotFoundError:
        STUBS.append(missing)
        module = types.ModuleType(missing)
        sys.modules[missing] = module
        if missing == "scipy":
            sys.modules["scipy.stats"] = module.stats = types.ModuleType("scipy.stats")
        else:
            module.tqdm = None

sys.path.insert(0, SRC)
import pytorch_metric_learning  # noqa: E402
from pytorch_metric_learning import distances  # noqa: E402
from pytorch_metric_learning.utils import inference  # noqa: E402

assert os.path.abspath(pytorch_metric_learning.__file__).startswith(SRC + os.sep), pytorch_metric_learning.__file__

manifest = {}


def save(name, tensor):
    array = tensor.detach().cpu().numpy() if isinstance(tensor, torch.Tensor) else np.asarray(tensor)
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    dtype = {np.dtype(np.float32): "float32", np.dtype(np.int64): "int64", np.dtype(np.bool_): "bool"}[array.dtype]
    np.ascontiguousarray(array).tofile(os.path.join(OUT, name + ".bin"))
    manifest[name] = {"shape": list(array.shape), "dtype": dtype}


def seed_commit():
    if os.environ.get("PML_COMMIT"):
        return os.environ["PML_COMMIT"]
    try:  # only when SRC is the work tree of the seed's own repository, not a folder inside another one
        git = lambda *a: subprocess.run(["git", "-C", SRC, *a], capture_output=True, text=True, check=True).stdout.strip()
        top = os.path.realpath(git("rev-parse", "--show-toplevel"))
        if top in (os.path.realpath(SRC), os.path.realpath(os.path.dirname(SRC))):
            return git("rev-parse", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        pass
    return "unknown"


def kmeans_kwargs():
    """Keyword arguments of faiss.Kmeans(d, k, **kwargs): each is set on a ClusteringParameters (unknown
    names raise), except gpu; progressive_dim_steps switches to ProgressiveDimClusteringParameters."""
    source = inspect.getsource(faiss.Kmeans.__init__)
    assert "ClusteringParameters()" in source and "'gpu'" in source, source
    plain = faiss.ClusteringParameters()
    kwargs = [{"name": n, "default": getattr(plain, n), "via": "ClusteringParameters"}
              for n in dir(plain) if not n.startswith("_") and n not in ("this", "thisown")]
    if "progressive_dim_steps" in source:
        progressive = faiss.ProgressiveDimClusteringParameters()
        kwargs += [{"name": n, "default": getattr(progressive, n), "via": "ProgressiveDimClusteringParameters"}
                   for n in dir(progressive)
                   if not n.startswith("_") and n not in ("this", "thisown") and not hasattr(plain, n)]
    kwargs.append({"name": "gpu", "default": False, "via": "Kmeans (True or -1: all GPUs)"})
    return kwargs


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20261201)
    faiss.omp_set_num_threads(1)
    notes = {}

    # ---- distances on inputs that are not normalized ----
    x, y = torch.randn(6, 5) * 3, torch.randn(6, 5) * 3
    q, r = torch.randn(4, 5) * 2, torch.randn(7, 5) * 2
    save("pair_x", x); save("pair_y", y); save("mat_q", q); save("mat_r", r)
    margin_a = torch.tensor([0.5, -1.0, 2.0])
    margin_b = torch.tensor([1.5, 0.25, 2.0])
    save("margin_a", margin_a); save("margin_b", margin_b)

    configs = {
        "cosine": lambda: distances.CosineSimilarity(),
        "dot": lambda: distances.DotProductSimilarity(),
        "dot_raw": lambda: distances.DotProductSimilarity(normalize_embeddings=False),
        "lp": lambda: distances.LpDistance(),
        "lp_raw_p1": lambda: distances.LpDistance(normalize_embeddings=False, p=1),
        "lp_pow2": lambda: distances.LpDistance(power=2),
        "lp_raw_pow2": lambda: distances.LpDistance(normalize_embeddings=False, power=2),
        "snr": lambda: distances.SNRDistance(),
        "cosine_p1": lambda: distances.CosineSimilarity(p=1),
        "dot_p1": lambda: distances.DotProductSimilarity(p=1),
        "snr_p1": lambda: distances.SNRDistance(p=1),
    }
    built = {}
    for name, make in configs.items():
        try:
            distance = make()
        except (AssertionError, TypeError) as e:
            notes[f"skipped_{name}"] = f"{type(e).__name__}: {e}"
            continue
        built[name] = distance
        with torch.no_grad():
            save(f"pairwise_{name}", distance.pairwise_distance(x, y))
            matrix = distance(q, r)
            save(f"matrix_{name}", matrix)
            if hasattr(distance, "get_norm"):
                save(f"norm_{name}", distance.get_norm(q))
            save(f"normalized_{name}", distance.maybe_normalize(q))
            if hasattr(distance, "smallest_dist"):
                save(f"smallest_{name}", distance.smallest_dist(matrix))
            if hasattr(distance, "largest_dist"):
                save(f"largest_{name}", distance.largest_dist(matrix))
            save(f"margin_{name}", distance.margin(margin_a, margin_b))

    # ---- MatchFinder ----
    for name, threshold in (("cosine", 0.3), ("lp", 1.0), ("lp_raw_pow2", 20.0), ("dot_raw", 1.0)):
        finder = inference.MatchFinder(configs[name](), threshold)
        many = finder.is_match(x, y)
        assert isinstance(many, np.ndarray), type(many)
        save(f"is_match_{name}", many)
        single = finder.is_match(x[:1], y[:1])
        notes["is_match_single_type"] = type(single).__name__
        save(f"is_match_single_{name}", np.array(single, dtype=np.bool_))
    for name, threshold in (("cosine", 0.2), ("lp", 1.2)):
        finder = inference.MatchFinder(configs[name](), threshold)
        save(f"matching_{name}", finder.get_matching_pairs(q, r))
        tuples = finder.get_matching_pairs(q, r, return_tuples=True)
        save(f"matching_tuples_{name}", np.array([[int(i), int(j)] for i, j in tuples], dtype=np.int64).reshape(-1, 2))

    # ---- FaissKNN with fewer references than k ----
    knn_ref, knn_q = torch.randn(3, 4), torch.randn(2, 4)
    save("knn_ref", knn_ref); save("knn_q", knn_q)
    D, I = inference.FaissKNN()(knn_q, 5, knn_ref)
    save("knn_pad_D", D); save("knn_pad_I", I)
    D, I = inference.FaissKNN()(knn_ref, 5, knn_ref, ref_includes_query=True)
    save("knn_same_D", D); save("knn_same_I", I)

    # ---- run_pca ----
    mixing = torch.randn(8, 8)
    offset = torch.randn(8) * 5
    pca_x = torch.randn(50, 8) @ mixing + offset
    save("pca_x", pca_x)
    save("pca_out3", inference.run_pca(pca_x, 3))
    save("pca_out8", inference.run_pca(pca_x, 8))

    # ---- InferenceModel with lists of row tensors ----
    trunk = torch.jit.load(TRUNK)
    model = inference.InferenceModel(trunk, data_device=torch.device("cpu"))
    list_in = torch.randn(5, trunk.fc1.weight.shape[1])
    save("list_in", list_in)
    rows = [list_in[i] for i in range(5)]
    save("list_embeddings", model.get_embeddings(rows))
    save("list_matches", model.get_matches(rows))
    save("list_is_match", model.is_match(rows[:3], rows[2:5]))

    manifest["_seed"] = {
        "commit": seed_commit(),
        "pytorch_metric_learning": getattr(pytorch_metric_learning, "__version__", "unknown"),
        "torch": torch.__version__,
        "faiss": faiss.__version__,
        "numpy": np.__version__,
        "stubs": STUBS,
        "script": os.path.basename(__file__),
    }
    manifest["_kmeans_kwargs"] = kmeans_kwargs()
    manifest["_notes"] = notes
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
