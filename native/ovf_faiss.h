/*
 * ovf_faiss.h — the C ABI of OrleansVectors over faiss 1.7.3.
 *
 * Every function returns an ovf_status. On anything but OVF_OK the calling thread's last-error message
 * (ovf_last_error) says what failed; it stays valid until that thread's next failing call. No C++
 * exception ever crosses this boundary.
 *
 * Threading: faiss CPU indexes allow concurrent const calls (search, range search, reconstruct,
 * serialize) but no mutation (train, add, remove) concurrently with anything else on the same index.
 * This layer does not lock: the managed wrapper enforces it.
 */
#ifndef OVF_FAISS_H
#define OVF_FAISS_H

#include <stddef.h>
#include <stdint.h>

#if defined(OVF_BUILDING)
#define OVF_API __attribute__((visibility("default")))
#else
#define OVF_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ovf_status {
    OVF_OK = 0,
    OVF_ERR_FAISS = 1,        /* faiss threw faiss::FaissException */
    OVF_ERR_OUT_OF_MEMORY = 2,/* std::bad_alloc */
    OVF_ERR_STD = 3,          /* another std::exception */
    OVF_ERR_UNKNOWN = 4,      /* anything else thrown */
    OVF_ERR_ARGUMENT = 5,     /* an argument this layer rejected (null pointer, negative size, …) */
    OVF_ERR_NOT_FOUND = 6,    /* no vector has the requested id */
} ovf_status;

/* Values match faiss::MetricType. */
typedef enum ovf_metric {
    OVF_METRIC_INNER_PRODUCT = 0,
    OVF_METRIC_L2 = 1,
} ovf_metric;

typedef struct ovf_index ovf_index;
typedef struct ovf_range_result ovf_range_result;

/* Per-call search parameters; 0 means "the index's own setting". A non-zero value that the index type
 * has no use for is an OVF_ERR_ARGUMENT. */
typedef struct ovf_search_params {
    int32_t nprobe;    /* IVF: inverted lists probed */
    int32_t ef_search; /* HNSW: size of the dynamic candidate list */
} ovf_search_params;

typedef struct ovf_kmeans_params {
    int32_t niter;
    int32_t nredo;
    int32_t seed;
    int32_t spherical;               /* bool */
    int32_t min_points_per_centroid;
    int32_t max_points_per_centroid;
    int32_t verbose;                 /* bool: faiss prints progress to stdout */
    int32_t use_initial_centroids;   /* bool: centroids holds k*d initial values on input */
} ovf_kmeans_params;

/* The message of this thread's last failing call ("" if none). */
OVF_API const char* ovf_last_error(void);

/* faiss's version, e.g. 1.7.3. */
OVF_API ovf_status ovf_version(int32_t* major, int32_t* minor, int32_t* patch);

/* Process-wide OpenMP thread count for faiss calls made through this library; n <= 0 restores the
 * OpenMP default (OMP_NUM_THREADS or the core count). */
OVF_API ovf_status ovf_set_num_threads(int32_t n);
OVF_API ovf_status ovf_get_num_threads(int32_t* n);

/* Creates an index from an index-factory string ("Flat", "IVF100,Flat", "HNSW32", "IDMap,Flat", …). */
OVF_API ovf_status ovf_index_factory(int32_t d, const char* description, int32_t metric, ovf_index** out);
/* Frees an index; null is allowed. */
OVF_API void ovf_index_free(ovf_index* index);

OVF_API ovf_status ovf_index_info(const ovf_index* index, int32_t* d, int64_t* ntotal, int32_t* metric,
                                  int32_t* is_trained);
/* Capabilities: bit 0 nprobe applies, bit 1 ef_search applies, bit 2 the index maps arbitrary ids
 * (IDMap/IDMap2) rather than numbering vectors 0..ntotal-1, bit 3 exact Flat storage (L2 or inner product,
 * alone or under an id map): what the fused engine and the GPU engine serve. */
OVF_API ovf_status ovf_index_search_params_supported(const ovf_index* index, int32_t* mask);

OVF_API ovf_status ovf_index_train(ovf_index* index, int64_t n, const float* x);
OVF_API ovf_status ovf_index_add(ovf_index* index, int64_t n, const float* x);
OVF_API ovf_status ovf_index_add_with_ids(ovf_index* index, int64_t n, const float* x, const int64_t* ids);

/* k-NN search: distances and labels are n*k, row-major. Missing neighbours have label -1. params may be
 * null. A non-zero ef_search on an HNSW index sets the index's efSearch for the duration of the call
 * (faiss 1.7.3 honours SearchParametersHNSW only in part): such a call is a mutation for threading. */
OVF_API ovf_status ovf_index_search(const ovf_index* index, int64_t n, const float* x, int64_t k,
                                    const ovf_search_params* params, float* distances, int64_t* labels);

/* Range search: every stored vector within radius (L2: squared distance < radius; inner product:
 * similarity > radius). The result is read with ovf_range_result_* and freed with ovf_range_result_free. */
OVF_API ovf_status ovf_index_range_search(const ovf_index* index, int64_t n, const float* x, float radius,
                                          const ovf_search_params* params, ovf_range_result** out);
/* Total number of results over all queries. */
OVF_API ovf_status ovf_range_result_size(const ovf_range_result* result, int64_t* total);
/* Copies offsets (n+1 entries), distances and labels (total entries each). */
OVF_API ovf_status ovf_range_result_copy(const ovf_range_result* result, int64_t* offsets, float* distances,
                                         int64_t* labels);
OVF_API void ovf_range_result_free(ovf_range_result* result);

/* Removes the given ids; *removed receives how many were present. */
OVF_API ovf_status ovf_index_remove_ids(ovf_index* index, int64_t n, const int64_t* ids, int64_t* removed);
/* Writes the stored vector of id key into out (d floats). OVF_ERR_NOT_FOUND when no vector has that id
 * (checked here: faiss 1.7.3 does not bound-check positional indexes). */
OVF_API ovf_status ovf_index_reconstruct(const ovf_index* index, int64_t key, float* out);
/* Rows offset … offset+n−1 in storage order: their ids (the id map's, or the positions) and vectors (n × d; lossy
 * for PQ/SQ). OVF_ERR_FAISS for types that cannot reconstruct by position (IVF without a direct map). */
OVF_API ovf_status ovf_index_rows(const ovf_index* index, int64_t offset, int64_t n, int64_t* ids, float* vectors);
/* Moves every vector of source into target (source is left empty). Both must be of one mergeable type with the
 * same dimension and metric: flat-code types (Flat, PQ, SQ) alone or under the same kind of id map, or IVF types
 * sharing one trained quantizer. */
OVF_API ovf_status ovf_index_merge_from(ovf_index* target, ovf_index* source);

/* Serialization in faiss's own format (readable by faiss.deserialize_index): ovf_index_write_segments below. */
OVF_API ovf_status ovf_index_deserialize(const uint8_t* data, int64_t size, ovf_index** out);
/* Serializes without copying: segment(context, data, size) receives each piece faiss's format is made of, in
 * order, where it lies (the large ones point into the index's own arrays, valid until the index next changes). It
 * returns 0, or a negative number to stop the write (the caller keeps its reason; the status is then
 * OVF_ERR_FAISS). */
typedef int64_t (*ovf_segment_fn)(void* context, const uint8_t* data, int64_t size);
OVF_API ovf_status ovf_index_write_segments(const ovf_index* index, ovf_segment_fn segment, void* context);
/* Reads an index from a stream: read(context, buffer, size) fills up to size bytes and returns how many, 0 at the
 * end, or a negative number on failure (the caller keeps its reason). Reads exactly the index's bytes. */
typedef int64_t (*ovf_read_fn)(void* context, uint8_t* buffer, int64_t size);
OVF_API ovf_status ovf_index_read_stream(ovf_read_fn read, void* context, ovf_index** out);
OVF_API ovf_status ovf_index_write_file(const ovf_index* index, const char* path);
OVF_API ovf_status ovf_index_read_file(const char* path, ovf_index** out);

/* faiss k-means (faiss::Clustering over an exact L2 index; inner product when spherical, as python's
 * faiss.Kmeans). centroids: k*d floats, read as the initial centroids when params->use_initial_centroids,
 * written with the result. objective: room for niter*nredo floats; receives the objective of each
 * iteration of the best run, *iterations of them. assignments (n, may be null): nearest centroid of each
 * input. */
OVF_API ovf_status ovf_kmeans(int32_t d, int64_t n, const float* x, int32_t k, const ovf_kmeans_params* params,
                              float* centroids, float* objective, int32_t* iterations, int64_t* assignments);

/* PCA with faiss::PCAMatrix, as the seed's run_pca: trains on the n input vectors (d_in each) and writes their
 * projections on the d_out leading components (n*d_out floats) to out. */
OVF_API ovf_status ovf_pca(int32_t d_in, int64_t n, const float* x, int32_t d_out, float* out);


/* ---- The fused exact-search engine (ovf_flat.cpp) ----
 *
 * Exact k-NN and range search over a Flat index (IndexFlatL2/IP, alone or under IDMap/IDMap2) that reads the
 * index's own vector storage: a batch runs as a blocked matrix product (packed 6x16 AVX2/FMA micro-kernel) whose
 * distance tiles are filtered against each query's current k-th distance while still in L1, a single query as
 * one streaming pass over the stored vectors split over the OpenMP team by base blocks. Ties are broken by the
 * smaller label; k beyond the stored count pads with label -1 and FLT_MAX (L2) / -FLT_MAX (inner product), as
 * faiss does. The engine holds the squared norms of the stored rows (L2); the owner calls ovf_flat_engine_sync
 * after every mutation of the index, under the same exclusion as the mutation. */
typedef struct ovf_flat_engine ovf_flat_engine;

/* Creates the engine for a Flat index. OVF_ERR_ARGUMENT when the index is not a Flat type or the CPU lacks
 * AVX2/FMA (the caller then searches through faiss). */
OVF_API ovf_status ovf_flat_engine_create(const ovf_index* index, ovf_flat_engine** out);
OVF_API void ovf_flat_engine_free(ovf_flat_engine* engine);
/* Brings the engine's norms in step with the index: rows from_row … ntotal−1 are (re)computed, rows past ntotal
 * dropped. After an add, from_row is the count before it; after anything that moves rows (remove, merge, load), 0. */
OVF_API ovf_status ovf_flat_engine_sync(ovf_flat_engine* engine, const ovf_index* index, int64_t from_row);
/* k-NN search, as ovf_index_search without parameters. OVF_ERR_ARGUMENT when the engine is out of step. */
OVF_API ovf_status ovf_flat_engine_search(const ovf_flat_engine* engine, const ovf_index* index, int64_t n,
                                          const float* x, int64_t k, float* distances, int64_t* labels);
/* The memory bound of a single query, for benchmarks: reads every stored float of a Flat index once (AVX2, eight
 * independent sums, the team split by row blocks as a search splits it) and returns their sum. */
OVF_API ovf_status ovf_flat_stream_read(const ovf_index* index, double* sum);
/* Range search, as ovf_index_range_search; each query's results sorted best first (ties by label). */
OVF_API ovf_status ovf_flat_engine_range_search(const ovf_flat_engine* engine, const ovf_index* index, int64_t n,
                                                const float* x, float radius, ovf_range_result** out);

#ifdef __cplusplus
}
#endif

#endif /* OVF_FAISS_H */
