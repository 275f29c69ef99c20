// ovf_faiss.cpp — implementation of the C ABI declared in ovf_faiss.h.
//
// The pattern follows TorchSharp's native shim: every export runs its body inside OVF_TRY, which turns
// any C++ exception into a status code and a thread-local message. The handles are the faiss objects
// themselves, behind opaque struct names.

#include "ovf_faiss.h"
#include "ovf_internal.h"

#include <faiss/AutoTune.h>
#include <faiss/Clustering.h>
#include <faiss/IVFlib.h>
#include <faiss/Index.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexFlatCodes.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/VectorTransform.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace ovf;

faiss::Index* as_faiss(ovf_index* index) { return reinterpret_cast<faiss::Index*>(index); }
const faiss::Index* as_faiss(const ovf_index* index) { return reinterpret_cast<const faiss::Index*>(index); }
ovf_index* as_handle(faiss::Index* index) { return reinterpret_cast<ovf_index*>(index); }

// Per-call parameters travel as faiss::SearchParameters. faiss 1.7.3's IndexIDMap refuses them, so an
// IDMap is searched through its inner index and the labels are translated here.
const faiss::IndexIDMap* as_idmap(const faiss::Index* index) {
    return dynamic_cast<const faiss::IndexIDMap*>(index);
}

const faiss::Index* param_target(const faiss::Index* index) {
    const faiss::IndexIDMap* idmap = as_idmap(index);
    return idmap ? idmap->index : index;
}

int32_t supported_params(const faiss::Index* index) {
    const faiss::Index* target = param_target(index);
    int32_t mask = 0;
    if (dynamic_cast<const faiss::IndexIVF*>(target)) mask |= 1;
    if (dynamic_cast<const faiss::IndexHNSW*>(target)) mask |= 2;
    if (as_idmap(index)) mask |= 4;
    if (const auto* flat = dynamic_cast<const faiss::IndexFlat*>(target);
        flat && (flat->metric_type == faiss::METRIC_L2 || flat->metric_type == faiss::METRIC_INNER_PRODUCT)) {
        mask |= 8;
    }
    return mask;
}

// Owns whichever SearchParameters subclass the call needs (or none). faiss 1.7.3's HNSW search sizes its
// candidate heap from the index's own efSearch and reads SearchParametersHNSW only for its stopping rule,
// so a per-call efSearch is also set on the index for the duration of the call (and restored after);
// the caller holds the index exclusively for such a call (see ovf_index_search).
struct CallParams {
    faiss::SearchParametersIVF ivf;
    faiss::SearchParametersHNSW hnsw;
    const faiss::SearchParameters* params = nullptr;
    faiss::IndexHNSW* hnsw_index = nullptr;
    int saved_ef_search = 0;

    CallParams(const CallParams&) = delete;
    CallParams& operator=(const CallParams&) = delete;

    ~CallParams() {
        if (hnsw_index) hnsw_index->hnsw.efSearch = saved_ef_search;
    }

    CallParams(const faiss::Index* index, const ovf_search_params* p) {
        if (!p || (p->nprobe == 0 && p->ef_search == 0)) return;
        require(p->nprobe >= 0, "nprobe must be positive");
        require(p->ef_search >= 0, "ef_search must be positive");
        const int32_t mask = supported_params(index);
        if (p->nprobe > 0) {
            require(mask & 1, "nprobe applies only to IVF indexes");
            ivf.nprobe = static_cast<size_t>(p->nprobe);
            params = &ivf;
        }
        if (p->ef_search > 0) {
            require(mask & 2, "ef_search applies only to HNSW indexes");
            hnsw.efSearch = p->ef_search;
            params = &hnsw;
            hnsw_index = const_cast<faiss::IndexHNSW*>(dynamic_cast<const faiss::IndexHNSW*>(param_target(index)));
            saved_ef_search = hnsw_index->hnsw.efSearch;
            hnsw_index->hnsw.efSearch = p->ef_search;
        }
    }
};

void translate_labels(const faiss::IndexIDMap* idmap, size_t count, faiss::Index::idx_t* labels) {
    const auto size = static_cast<faiss::Index::idx_t>(idmap->id_map.size());
    for (size_t i = 0; i < count; i++) {
        if (labels[i] >= 0) {
            if (labels[i] >= size) throw std::runtime_error("id map out of step with its index");
            labels[i] = idmap->id_map[labels[i]];
        }
    }
}

struct SpanReader : faiss::IOReader {
    const uint8_t* data;
    size_t size;
    size_t position = 0;

    SpanReader(const uint8_t* d, size_t s) : data(d), size(s) { name = "<memory>"; }

    size_t operator()(void* ptr, size_t item_size, size_t nitems) override {
        if (item_size == 0 || nitems == 0) return 0;
        const size_t available = (size - position) / item_size;
        const size_t count = nitems < available ? nitems : available;
        std::memcpy(ptr, data + position, count * item_size);
        position += count * item_size;
        return count;
    }
};

/* Pulls bytes from the caller through a callback: read_index straight from a stream into faiss's own memory. */
struct CallbackReader : faiss::IOReader {
    ovf_read_fn read;
    void* context;

    CallbackReader(ovf_read_fn r, void* c) : read(r), context(c) { name = "<stream>"; }

    size_t operator()(void* ptr, size_t item_size, size_t nitems) override {
        if (item_size == 0 || nitems == 0) return 0;
        const size_t wanted = item_size * nitems;
        auto* out = static_cast<uint8_t*>(ptr);
        size_t got = 0;
        while (got < wanted) {
            const size_t chunk = std::min(wanted - got, static_cast<size_t>(1) << 30);
            const int64_t n = read(context, out + got, static_cast<int64_t>(chunk));
            if (n <= 0) break;  // the end, or a failure the caller keeps
            got += static_cast<size_t>(n);
        }
        return got / item_size;
    }
};

/* Hands every piece write_index writes to the caller, in order, where it lies: the large ones are faiss's own
 * arrays (no copy is made here). */
struct CallbackWriter : faiss::IOWriter {
    ovf_segment_fn segment;
    void* context;

    CallbackWriter(ovf_segment_fn s, void* c) : segment(s), context(c) { name = "<segments>"; }

    size_t operator()(const void* ptr, size_t item_size, size_t nitems) override {
        const size_t bytes = item_size * nitems;
        if (bytes == 0) return nitems;
        if (segment(context, static_cast<const uint8_t*>(ptr), static_cast<int64_t>(bytes)) < 0) return 0;
        return nitems;
    }
};

}  // namespace

extern "C" {

const char* ovf_last_error(void) { return t_last_error.c_str(); }

ovf_status ovf_version(int32_t* major, int32_t* minor, int32_t* patch) {
    OVF_TRY
    require(major && minor && patch, "null output pointer");
    *major = FAISS_VERSION_MAJOR;
    *minor = FAISS_VERSION_MINOR;
    *patch = FAISS_VERSION_PATCH;
    OVF_CATCH
}

ovf_status ovf_set_num_threads(int32_t n) {
    g_threads.store(n > 0 ? n : 0, std::memory_order_relaxed);
    return OVF_OK;
}

ovf_status ovf_get_num_threads(int32_t* n) {
    OVF_TRY
    require(n, "null output pointer");
    const int t = g_threads.load(std::memory_order_relaxed);
    *n = t > 0 ? t : g_default_threads;
    OVF_CATCH
}

ovf_status ovf_index_factory(int32_t d, const char* description, int32_t metric, ovf_index** out) {
    OVF_TRY
    require(out && description, "null argument");
    require(d > 0, "dimension must be positive");
    require(metric == OVF_METRIC_L2 || metric == OVF_METRIC_INNER_PRODUCT, "unknown metric");
    *out = as_handle(faiss::index_factory(d, description, static_cast<faiss::MetricType>(metric)));
    OVF_CATCH
}

void ovf_index_free(ovf_index* index) { delete as_faiss(index); }

ovf_status ovf_index_info(const ovf_index* index, int32_t* d, int64_t* ntotal, int32_t* metric,
                          int32_t* is_trained) {
    OVF_TRY
    require(index && d && ntotal && metric && is_trained, "null argument");
    const faiss::Index* idx = as_faiss(index);
    *d = idx->d;
    *ntotal = idx->ntotal;
    *metric = static_cast<int32_t>(idx->metric_type);
    *is_trained = idx->is_trained ? 1 : 0;
    OVF_CATCH
}

ovf_status ovf_index_search_params_supported(const ovf_index* index, int32_t* mask) {
    OVF_TRY
    require(index && mask, "null argument");
    *mask = supported_params(as_faiss(index));
    OVF_CATCH
}

ovf_status ovf_index_train(ovf_index* index, int64_t n, const float* x) {
    OVF_TRY
    require(index && x, "null argument");
    require(n > 0, "n must be positive");
    apply_threads();
    as_faiss(index)->train(n, x);
    OVF_CATCH
}

ovf_status ovf_index_add(ovf_index* index, int64_t n, const float* x) {
    OVF_TRY
    require(index && x, "null argument");
    require(n >= 0, "n must not be negative");
    apply_threads();
    as_faiss(index)->add(n, x);
    OVF_CATCH
}

ovf_status ovf_index_add_with_ids(ovf_index* index, int64_t n, const float* x, const int64_t* ids) {
    OVF_TRY
    require(index && x && ids, "null argument");
    require(n >= 0, "n must not be negative");
    apply_threads();
    as_faiss(index)->add_with_ids(n, x, ids);
    OVF_CATCH
}

ovf_status ovf_index_search(const ovf_index* index, int64_t n, const float* x, int64_t k,
                            const ovf_search_params* params, float* distances, int64_t* labels) {
    OVF_TRY
    require(index && x && distances && labels, "null argument");
    require(n >= 0, "n must not be negative");
    require(k > 0, "k must be positive");
    const faiss::Index* idx = as_faiss(index);
    CallParams call(idx, params);
    apply_threads();
    const faiss::IndexIDMap* idmap = call.params ? as_idmap(idx) : nullptr;
    if (idmap) {
        idmap->index->search(n, x, k, distances, labels, call.params);
        translate_labels(idmap, static_cast<size_t>(n * k), labels);
    } else {
        idx->search(n, x, k, distances, labels, call.params);
    }
    OVF_CATCH
}

ovf_status ovf_index_range_search(const ovf_index* index, int64_t n, const float* x, float radius,
                                  const ovf_search_params* params, ovf_range_result** out) {
    OVF_TRY
    require(index && x && out, "null argument");
    require(n >= 0, "n must not be negative");
    const faiss::Index* idx = as_faiss(index);
    CallParams call(idx, params);
    apply_threads();
    auto result = std::make_unique<faiss::RangeSearchResult>(n);
    const faiss::IndexIDMap* idmap = call.params ? as_idmap(idx) : nullptr;
    if (idmap) {
        idmap->index->range_search(n, x, radius, result.get(), call.params);
        translate_labels(idmap, result->lims[n], result->labels);
    } else {
        idx->range_search(n, x, radius, result.get(), call.params);
    }
    *out = reinterpret_cast<ovf_range_result*>(result.release());
    OVF_CATCH
}

ovf_status ovf_range_result_size(const ovf_range_result* result, int64_t* total) {
    OVF_TRY
    require(result && total, "null argument");
    const auto* r = reinterpret_cast<const faiss::RangeSearchResult*>(result);
    *total = static_cast<int64_t>(r->lims[r->nq]);
    OVF_CATCH
}

ovf_status ovf_range_result_copy(const ovf_range_result* result, int64_t* offsets, float* distances,
                                 int64_t* labels) {
    OVF_TRY
    require(result && offsets, "null argument");
    const auto* r = reinterpret_cast<const faiss::RangeSearchResult*>(result);
    for (size_t i = 0; i <= r->nq; i++) offsets[i] = static_cast<int64_t>(r->lims[i]);
    const size_t total = r->lims[r->nq];
    if (total > 0) {
        require(distances && labels, "null argument");
        std::memcpy(distances, r->distances, total * sizeof(float));
        std::memcpy(labels, r->labels, total * sizeof(int64_t));
    }
    OVF_CATCH
}

void ovf_range_result_free(ovf_range_result* result) {
    delete reinterpret_cast<faiss::RangeSearchResult*>(result);
}

ovf_status ovf_index_remove_ids(ovf_index* index, int64_t n, const int64_t* ids, int64_t* removed) {
    OVF_TRY
    require(index && removed && (ids || n == 0), "null argument");
    require(n >= 0, "n must not be negative");
    faiss::Index* idx = as_faiss(index);
    // faiss 1.7.3's IndexIDMap compacts its id map on removal, which only matches an inner index that
    // compacts too (the flat-code types); over IVF it would corrupt the mapping, so it is refused.
    if (const faiss::IndexIDMap* idmap = as_idmap(idx)) {
        require(dynamic_cast<const faiss::IndexFlatCodes*>(idmap->index) != nullptr,
                "remove is supported on IDMap indexes over flat-code types (Flat, SQ, PQ) only; IVF types take ids themselves");
    }
    faiss::IDSelectorBatch selector(n, ids);
    *removed = static_cast<int64_t>(idx->remove_ids(selector));
    OVF_CATCH
}

ovf_status ovf_index_reconstruct(const ovf_index* index, int64_t key, float* out) {
    OVF_TRY
    require(index && out, "null argument");
    const faiss::Index* idx = as_faiss(index);
    if (const auto* idmap2 = dynamic_cast<const faiss::IndexIDMap2*>(idx)) {
        if (idmap2->rev_map.find(key) == idmap2->rev_map.end()) return fail(OVF_ERR_NOT_FOUND, "id not found");
    } else if (!as_idmap(idx) && !faiss::ivflib::try_extract_index_ivf(idx) && (key < 0 || key >= idx->ntotal)) {
        return fail(OVF_ERR_NOT_FOUND, "id not found");
    }
    idx->reconstruct(key, out);
    OVF_CATCH
}

ovf_status ovf_index_rows(const ovf_index* index, int64_t offset, int64_t n, int64_t* ids, float* vectors) {
    OVF_TRY
    require(index && ids && vectors, "null argument");
    const faiss::Index* idx = as_faiss(index);
    require(offset >= 0 && n >= 0 && n <= idx->ntotal - offset, "rows out of range");
    const faiss::IndexIDMap* idmap = as_idmap(idx);
    const faiss::Index* inner = idmap ? idmap->index : idx;
    // IVF's reconstruct_n reads by id, not by position: refuse rather than return the wrong rows
    if (faiss::ivflib::try_extract_index_ivf(inner)) return fail(OVF_ERR_FAISS, "IVF indexes cannot be read back by position");
    inner->reconstruct_n(offset, n, vectors);
    for (int64_t i = 0; i < n; i++) ids[i] = idmap ? idmap->id_map[offset + i] : offset + i;
    OVF_CATCH
}

ovf_status ovf_index_merge_from(ovf_index* target, ovf_index* source) {
    OVF_TRY
    require(target && source, "null argument");
    require(target != source, "an index cannot be merged into itself");
    faiss::Index* t = as_faiss(target);
    faiss::Index* s = as_faiss(source);
    require(t->d == s->d, "the indexes have different dimensions");
    require(t->metric_type == s->metric_type, "the indexes have different metrics");
    t->check_compatible_for_merge(*s);
    t->merge_from(*s, 0);
    OVF_CATCH
}

ovf_status ovf_index_deserialize(const uint8_t* data, int64_t size, ovf_index** out) {
    OVF_TRY
    require(data && out, "null argument");
    require(size > 0, "size must be positive");
    SpanReader reader(data, static_cast<size_t>(size));
    std::unique_ptr<faiss::Index> index(faiss::read_index(&reader));
    require(reader.position == reader.size, "trailing bytes after the serialized index");
    *out = as_handle(index.release());
    OVF_CATCH
}

ovf_status ovf_index_write_segments(const ovf_index* index, ovf_segment_fn segment, void* context) {
    OVF_TRY
    require(index && segment, "null argument");
    CallbackWriter writer(segment, context);
    faiss::write_index(as_faiss(index), &writer);
    OVF_CATCH
}

ovf_status ovf_index_read_stream(ovf_read_fn read, void* context, ovf_index** out) {
    OVF_TRY
    require(read && out, "null argument");
    CallbackReader reader(read, context);
    std::unique_ptr<faiss::Index> index(faiss::read_index(&reader));
    *out = as_handle(index.release());
    OVF_CATCH
}

ovf_status ovf_index_write_file(const ovf_index* index, const char* path) {
    OVF_TRY
    require(index && path, "null argument");
    faiss::write_index(as_faiss(index), path);
    OVF_CATCH
}

ovf_status ovf_index_read_file(const char* path, ovf_index** out) {
    OVF_TRY
    require(path && out, "null argument");
    *out = as_handle(faiss::read_index(path));
    OVF_CATCH
}

ovf_status ovf_kmeans(int32_t d, int64_t n, const float* x, int32_t k, const ovf_kmeans_params* params,
                      float* centroids, float* objective, int32_t* iterations, int64_t* assignments) {
    OVF_TRY
    require(x && params && centroids && objective && iterations, "null argument");
    require(d > 0 && k > 0 && n >= k, "need d > 0, k > 0 and at least k points");
    require(params->niter > 0 && params->nredo > 0, "niter and nredo must be positive");

    faiss::ClusteringParameters cp;
    cp.niter = params->niter;
    cp.nredo = params->nredo;
    cp.seed = params->seed;
    cp.spherical = params->spherical != 0;
    cp.verbose = params->verbose != 0;
    cp.min_points_per_centroid = params->min_points_per_centroid;
    cp.max_points_per_centroid = params->max_points_per_centroid;

    faiss::Clustering clustering(d, k, cp);
    const size_t centroid_floats = static_cast<size_t>(k) * static_cast<size_t>(d);
    if (params->use_initial_centroids) clustering.centroids.assign(centroids, centroids + centroid_floats);

    // As python's faiss.Kmeans: spherical k-means assigns by inner product.
    std::unique_ptr<faiss::Index> assigner;
    if (cp.spherical) assigner = std::make_unique<faiss::IndexFlatIP>(d);
    else assigner = std::make_unique<faiss::IndexFlatL2>(d);

    apply_threads();
    clustering.train(n, x, *assigner);

    std::memcpy(centroids, clustering.centroids.data(), centroid_floats * sizeof(float));
    // faiss keeps the statistics of the best run only.
    const size_t count = std::min(clustering.iteration_stats.size(), static_cast<size_t>(params->niter) * params->nredo);
    for (size_t i = 0; i < count; i++) objective[i] = clustering.iteration_stats[i].obj;
    *iterations = static_cast<int32_t>(count);
    if (assignments) {
        std::vector<float> distances(static_cast<size_t>(n));
        assigner->search(n, x, 1, distances.data(), assignments);
    }
    OVF_CATCH
}

ovf_status ovf_pca(int32_t d_in, int64_t n, const float* x, int32_t d_out, float* out) {
    OVF_TRY
    require(x && out, "null argument");
    require(d_in > 0 && d_out > 0 && d_out <= d_in, "need 0 < output dimensionality <= input dimensionality");
    require(n > 0, "need at least one vector");
    faiss::PCAMatrix pca(d_in, d_out);
    apply_threads();
    pca.train(n, x);
    require(pca.is_trained, "the PCA matrix did not train");
    pca.apply_noalloc(n, x, out);
    OVF_CATCH
}

}  // extern "C"
