// ovf_flat.cpp — the fused exact-search engine declared at the end of ovf_faiss.h.
//
// faiss 1.7.3 searches a Flat batch as one BLAS product into a distance matrix that it then scans with scalar
// heaps, and a single query as a pass that updates a heap per row: both leave most of the machine idle. Here:
//
// - A batch (8 queries or more) is a blocked matrix product with a packed 6x16 AVX2/FMA micro-kernel. Each
//   thread takes a share of the queries, packs a block of kBaseBlock stored rows once, and runs its queries
//   against it six at a time; the kernel writes a 6 x kBaseBlock tile of partial distances (||y||² − 2q·y for L2,
//   −q·y for inner product) that the top-k selection reads straight from L1: eight values compared with the
//   query's current k-th value per instruction, a heap push only for the few that pass. OpenBLAS is not called:
//   Debian's build runs every call on its own pthread pool, which cannot be held to one thread per caller and
//   fights the OpenMP team for the cores between products.
// - Fewer queries are one streaming pass each over the stored vectors, direct differences (as faiss's
//   single-query path), split over the team by base blocks whose heaps are merged at the end.
//
// Everything selects on (value, label) pairs, so ties go to the smaller label; faiss's own tie order differs
// between L2 and inner product. The team size is the process-wide setting of ovf_set_num_threads.

#include "ovf_faiss.h"
#include "ovf_internal.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIDMap.h>
#include <faiss/impl/AuxIndexStructures.h>

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

struct ovf_flat_engine {
    std::vector<float> norms;  // squared L2 norm of each stored row; empty for inner product
    bool inner_product = false;
    int d = 0;
};

namespace {

using namespace ovf;

#define OVF_AVX2 __attribute__((target("avx2,fma")))

constexpr int kRows = 6;          // queries per micro-kernel call
constexpr int kCols = 16;         // stored rows per micro-kernel call (two ymm registers)
constexpr int kBaseBlock = 256;   // stored rows packed at a time: 128 KiB at d=128, within L2
constexpr int64_t kBatchThreshold = 8;  // from this many queries on, the blocked product beats streaming passes

// The stored vectors of a Flat index, with the labels a search reports.
struct FlatView {
    const float* xb;
    int64_t nb;
    int d;
    bool inner_product;
    const int64_t* ids;  // the id map, or null: the label is the row

    int64_t label(int64_t row) const { return ids ? ids[row] : row; }
};

FlatView view_of(const ovf_index* handle) {
    require(handle, "null index");
    const auto* index = reinterpret_cast<const faiss::Index*>(handle);
    const int64_t* ids = nullptr;
    if (const auto* idmap = dynamic_cast<const faiss::IndexIDMap*>(index)) {
        ids = idmap->id_map.data();
        index = idmap->index;
    }
    const auto* flat = dynamic_cast<const faiss::IndexFlat*>(index);
    require(flat != nullptr, "the fused engine searches Flat indexes only");
    require(flat->metric_type == faiss::METRIC_L2 || flat->metric_type == faiss::METRIC_INNER_PRODUCT,
            "the fused engine supports L2 and inner product only");
    return FlatView{flat->get_xb(), flat->ntotal, static_cast<int>(flat->d),
                    flat->metric_type == faiss::METRIC_INNER_PRODUCT, ids};
}

bool cpu_supports_engine() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// ---- selection ---------------------------------------------------------------------------------------------

// (value, label) before (value', label'): the order results are reported in.
inline bool precedes(float v, int64_t l, float v2, int64_t l2) { return v < v2 || (v == v2 && l < l2); }

// The k best (smallest value) pairs seen so far, as a max-heap over caller-owned arrays.
struct TopK {
    float* values;
    int64_t* labels;
    int64_t k;
    int64_t size = 0;

    float threshold() const { return size < k ? std::numeric_limits<float>::infinity() : values[0]; }

    void push(float v, int64_t l) {
        if (size < k) {
            int64_t i = size++;
            while (i > 0) {
                const int64_t parent = (i - 1) / 2;
                if (!precedes(values[parent], labels[parent], v, l)) break;
                values[i] = values[parent];
                labels[i] = labels[parent];
                i = parent;
            }
            values[i] = v;
            labels[i] = l;
            return;
        }
        if (!precedes(v, l, values[0], labels[0])) return;
        sift_down_from_top(v, l, size);
    }

    // Sorts best first in place; returns how many entries hold results.
    int64_t sort() {
        const int64_t filled = size;
        for (int64_t end = filled - 1; end > 0; end--) {
            const float v = values[end];
            const int64_t l = labels[end];
            values[end] = values[0];
            labels[end] = labels[0];
            sift_down_from_top(v, l, end);
        }
        return filled;
    }

private:
    void sift_down_from_top(float v, int64_t l, int64_t n) {
        int64_t i = 0;
        for (;;) {
            int64_t child = 2 * i + 1;
            if (child >= n) break;
            if (child + 1 < n && precedes(values[child], labels[child], values[child + 1], labels[child + 1])) child++;
            if (!precedes(v, l, values[child], labels[child])) break;
            values[i] = values[child];
            labels[i] = labels[child];
            i = child;
        }
        values[i] = v;
        labels[i] = l;
    }
};

// Pushes the values of rows row0 … row0+m−1 that can enter the heap: eight compared per instruction.
OVF_AVX2 void select_into(TopK& heap, const float* v, int64_t row0, int m, const FlatView& base) {
    __m256 threshold = _mm256_set1_ps(heap.threshold());
    int j = 0;
    for (; j + 8 <= m; j += 8) {
        int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(v + j), threshold, _CMP_LE_OQ));
        while (mask) {
            const int bit = __builtin_ctz(mask);
            mask &= mask - 1;
            heap.push(v[j + bit], base.label(row0 + j + bit));
            threshold = _mm256_set1_ps(heap.threshold());
        }
    }
    for (; j < m; j++) {
        if (v[j] <= heap.threshold()) heap.push(v[j], base.label(row0 + j));
    }
}

// Turns a sorted heap of partial values into faiss's distances, padding to k. Adding the query's norm (and the
// clamp at 0) can round distinct partial values to one distance: such runs are put back in label order.
void finish_knn(TopK& heap, float query_norm, bool inner_product) {
    const int64_t filled = heap.sort();
    for (int64_t i = 0; i < filled; i++) {
        if (inner_product) {
            heap.values[i] = -heap.values[i];
        } else {
            const float dis = heap.values[i] + query_norm;
            heap.values[i] = dis < 0 ? 0 : dis;  // round-off makes a duplicate's distance slightly negative
        }
    }
    for (int64_t start = 0; start < filled;) {
        int64_t end = start + 1;
        while (end < filled && heap.values[end] == heap.values[start]) end++;
        if (end - start > 1) std::sort(heap.labels + start, heap.labels + end);
        start = end;
    }
    for (int64_t i = filled; i < heap.k; i++) {
        heap.values[i] = inner_product ? -FLT_MAX : FLT_MAX;
        heap.labels[i] = -1;
    }
}

// ---- the blocked product -------------------------------------------------------------------------------------

// Packs rows [row0, row0 + count) as kCols-wide column panels: panel p holds, for each dimension t, the t-th
// coordinate of its kCols rows side by side (zeros past count).
void pack_base(const FlatView& base, int64_t row0, int count, float* packed) {
    const int d = base.d;
    const int panels = (count + kCols - 1) / kCols;
    for (int p = 0; p < panels; p++) {
        float* out = packed + static_cast<size_t>(p) * d * kCols;
        for (int c = 0; c < kCols; c++) {
            const int r = p * kCols + c;
            if (r < count) {
                const float* y = base.xb + (row0 + r) * d;
                for (int t = 0; t < d; t++) out[t * kCols + c] = y[t];
            } else {
                for (int t = 0; t < d; t++) out[t * kCols + c] = 0;
            }
        }
    }
}

// Packs queries [q0, q0 + count) as kRows-tall panels: for each dimension t, the t-th coordinate of its six
// queries side by side (zeros past count).
void pack_queries(const float* x, int d, int64_t q0, int64_t count, float* packed) {
    const int64_t panels = (count + kRows - 1) / kRows;
    for (int64_t p = 0; p < panels; p++) {
        float* out = packed + p * d * kRows;
        for (int r = 0; r < kRows; r++) {
            const int64_t q = p * kRows + r;
            if (q < count) {
                const float* row = x + (q0 + q) * d;
                for (int t = 0; t < d; t++) out[t * kRows + r] = row[t];
            } else {
                for (int t = 0; t < d; t++) out[t * kRows + r] = 0;
            }
        }
    }
}

// tile[r][c] = scale · (a_r · b_c) + bias[c] for a 6-query panel and a 16-row panel; tile rows are ld apart.
OVF_AVX2 void micro_kernel(const float* a, const float* b, int d, float alpha, const float* bias, float* tile,
                           int ld) {
    const __m256 scale = _mm256_set1_ps(alpha);
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int t = 0; t < d; t++) {
        const __m256 b0 = _mm256_load_ps(b);
        const __m256 b1 = _mm256_load_ps(b + 8);
        __m256 av = _mm256_broadcast_ss(a);
        c00 = _mm256_fmadd_ps(av, b0, c00);
        c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(av, b0, c10);
        c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(av, b0, c20);
        c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(av, b0, c30);
        c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(av, b0, c40);
        c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(av, b0, c50);
        c51 = _mm256_fmadd_ps(av, b1, c51);
        a += kRows;
        b += kCols;
    }
    const __m256 bias0 = _mm256_loadu_ps(bias);
    const __m256 bias1 = _mm256_loadu_ps(bias + 8);
    _mm256_storeu_ps(tile + 0 * ld, _mm256_fmadd_ps(scale, c00, bias0));
    _mm256_storeu_ps(tile + 0 * ld + 8, _mm256_fmadd_ps(scale, c01, bias1));
    _mm256_storeu_ps(tile + 1 * ld, _mm256_fmadd_ps(scale, c10, bias0));
    _mm256_storeu_ps(tile + 1 * ld + 8, _mm256_fmadd_ps(scale, c11, bias1));
    _mm256_storeu_ps(tile + 2 * ld, _mm256_fmadd_ps(scale, c20, bias0));
    _mm256_storeu_ps(tile + 2 * ld + 8, _mm256_fmadd_ps(scale, c21, bias1));
    _mm256_storeu_ps(tile + 3 * ld, _mm256_fmadd_ps(scale, c30, bias0));
    _mm256_storeu_ps(tile + 3 * ld + 8, _mm256_fmadd_ps(scale, c31, bias1));
    _mm256_storeu_ps(tile + 4 * ld, _mm256_fmadd_ps(scale, c40, bias0));
    _mm256_storeu_ps(tile + 4 * ld + 8, _mm256_fmadd_ps(scale, c41, bias1));
    _mm256_storeu_ps(tile + 5 * ld, _mm256_fmadd_ps(scale, c50, bias0));
    _mm256_storeu_ps(tile + 5 * ld + 8, _mm256_fmadd_ps(scale, c51, bias1));
}

template <typename T>
struct AlignedBuffer {
    T* data = nullptr;
    explicit AlignedBuffer(size_t count) {
        data = static_cast<T*>(std::aligned_alloc(64, std::max<size_t>(64, (count * sizeof(T) + 63) / 64 * 64)));
        if (!data) throw std::bad_alloc();
    }
    ~AlignedBuffer() { std::free(data); }
    AlignedBuffer(const AlignedBuffer&) = delete;
    AlignedBuffer& operator=(const AlignedBuffer&) = delete;
};

// Runs queries [0, n) against every stored row with the blocked product; consume(q, tile_row, row0, count)
// receives each query's partial values for a block of rows. The team splits the queries.
template <typename Consume>
void run_blocked(const FlatView& base, const float* norms, const float* x, int64_t n, Consume&& consume) {
    const int d = base.d;
    const int threads = static_cast<int>(std::min<int64_t>(thread_count(), (n + kRows - 1) / kRows));
    const float scale = base.inner_product ? -1.0f : -2.0f;
    std::exception_ptr failure;
#pragma omp parallel num_threads(threads)
    {
        try {
            const int t = omp_get_thread_num();
            const int team = omp_get_num_threads();
            const int64_t panels = (n + kRows - 1) / kRows;
            const int64_t p0 = panels * t / team, p1 = panels * (t + 1) / team;
            const int64_t q0 = p0 * kRows, q1 = std::min<int64_t>(n, p1 * kRows);
            if (q0 < q1) {
                AlignedBuffer<float> a(static_cast<size_t>(p1 - p0) * kRows * d);
                AlignedBuffer<float> b(static_cast<size_t>(kBaseBlock) * d);
                AlignedBuffer<float> tile(static_cast<size_t>(kRows) * kBaseBlock);
                AlignedBuffer<float> bias(kBaseBlock);
                pack_queries(x, d, q0, q1 - q0, a.data);
                for (int64_t row0 = 0; row0 < base.nb; row0 += kBaseBlock) {
                    const int count = static_cast<int>(std::min<int64_t>(kBaseBlock, base.nb - row0));
                    const int col_panels = (count + kCols - 1) / kCols;
                    pack_base(base, row0, count, b.data);
                    if (norms) {
                        std::memcpy(bias.data, norms + row0, count * sizeof(float));
                    } else {
                        std::memset(bias.data, 0, count * sizeof(float));
                    }
                    std::memset(bias.data + count, 0, (col_panels * kCols - count) * sizeof(float));
                    for (int64_t p = p0; p < p1; p++) {
                        const float* ap = a.data + (p - p0) * kRows * d;
                        for (int c = 0; c < col_panels; c++) {
                            micro_kernel(ap, b.data + static_cast<size_t>(c) * d * kCols, d, scale,
                                         bias.data + c * kCols, tile.data + c * kCols, kBaseBlock);
                        }
                        const int64_t first = p * kRows;
                        const int rows = static_cast<int>(std::min<int64_t>(kRows, q1 - first));
                        for (int r = 0; r < rows; r++) consume(first + r, tile.data + r * kBaseBlock, row0, count);
                    }
                }
            }
        } catch (...) {
#pragma omp critical(ovf_flat_failure)
            if (!failure) failure = std::current_exception();
        }
    }
    if (failure) std::rethrow_exception(failure);
}

// The sum of a vector's eight lanes.
OVF_AVX2 inline float horizontal_sum(__m256 s) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

// ---- the streaming pass ------------------------------------------------------------------------------------

// The partial value of one stored row: squared L2 distance, or −inner product.
OVF_AVX2 inline float row_value(const float* q, const float* y, int d, bool inner_product) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int t = 0;
    if (inner_product) {
        for (; t + 32 <= d; t += 32) {
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + t), _mm256_loadu_ps(y + t), s0);
            s1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + t + 8), _mm256_loadu_ps(y + t + 8), s1);
            s2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + t + 16), _mm256_loadu_ps(y + t + 16), s2);
            s3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + t + 24), _mm256_loadu_ps(y + t + 24), s3);
        }
        for (; t + 8 <= d; t += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + t), _mm256_loadu_ps(y + t), s0);
    } else {
        for (; t + 32 <= d; t += 32) {
            const __m256 e0 = _mm256_sub_ps(_mm256_loadu_ps(q + t), _mm256_loadu_ps(y + t));
            const __m256 e1 = _mm256_sub_ps(_mm256_loadu_ps(q + t + 8), _mm256_loadu_ps(y + t + 8));
            const __m256 e2 = _mm256_sub_ps(_mm256_loadu_ps(q + t + 16), _mm256_loadu_ps(y + t + 16));
            const __m256 e3 = _mm256_sub_ps(_mm256_loadu_ps(q + t + 24), _mm256_loadu_ps(y + t + 24));
            s0 = _mm256_fmadd_ps(e0, e0, s0);
            s1 = _mm256_fmadd_ps(e1, e1, s1);
            s2 = _mm256_fmadd_ps(e2, e2, s2);
            s3 = _mm256_fmadd_ps(e3, e3, s3);
        }
        for (; t + 8 <= d; t += 8) {
            const __m256 e = _mm256_sub_ps(_mm256_loadu_ps(q + t), _mm256_loadu_ps(y + t));
            s0 = _mm256_fmadd_ps(e, e, s0);
        }
    }
    const __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
    float sum = horizontal_sum(s);
    for (; t < d; t++) sum += inner_product ? q[t] * y[t] : (q[t] - y[t]) * (q[t] - y[t]);
    return inner_product ? -sum : sum;
}

// Threads for a pass over the stored rows: the team, but no thread with fewer than 4,096 rows to read.
int streaming_threads(const FlatView& base) {
    return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(thread_count(), base.nb / 4096)));
}

// One pass of query q over every stored row; the team splits the rows, visit(thread, row0, values, count) sees
// each block's values.
template <typename Visit>
void run_streaming(const FlatView& base, const float* q, int threads, Visit&& visit) {
    constexpr int kBlock = 512;
    std::exception_ptr failure;
#pragma omp parallel num_threads(threads)
    {
        try {
            const int t = omp_get_thread_num();
            const int team = omp_get_num_threads();
            const int64_t r0 = base.nb * t / team, r1 = base.nb * (t + 1) / team;
            float values[kBlock];
            for (int64_t row0 = r0; row0 < r1; row0 += kBlock) {
                const int count = static_cast<int>(std::min<int64_t>(kBlock, r1 - row0));
                const float* y = base.xb + row0 * base.d;
                for (int j = 0; j < count; j++) values[j] = row_value(q, y + static_cast<int64_t>(j) * base.d, base.d, base.inner_product);
                visit(t, row0, values, count);
            }
        } catch (...) {
#pragma omp critical(ovf_flat_failure)
            if (!failure) failure = std::current_exception();
        }
    }
    if (failure) std::rethrow_exception(failure);
}

OVF_AVX2 float squared_norm(const float* y, int d) {
    int t = 0;
    __m256 s = _mm256_setzero_ps();
    for (; t + 8 <= d; t += 8) {
        const __m256 v = _mm256_loadu_ps(y + t);
        s = _mm256_fmadd_ps(v, v, s);
    }
    float sum = horizontal_sum(s);
    for (; t < d; t++) sum += y[t] * y[t];
    return sum;
}

// Each query's squared norm, the term the blocked product leaves out of L2 distances; zeros for inner product.
std::vector<float> query_norms_of(const FlatView& base, const float* x, int64_t n) {
    std::vector<float> norms(n, 0.0f);
    if (!base.inner_product) {
        for (int64_t q = 0; q < n; q++) norms[q] = squared_norm(x + q * base.d, base.d);
    }
    return norms;
}

// Sums rows [r0, r1): a pure read at the rate the memory system allows (eight chains hide the add latency).
OVF_AVX2 double sum_rows(const FlatView& base, int64_t r0, int64_t r1) {
    const float* p = base.xb + r0 * base.d;
    const int64_t n = (r1 - r0) * base.d;
    __m256 s[8];
    for (auto& v : s) v = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        for (int j = 0; j < 8; j++) s[j] = _mm256_add_ps(s[j], _mm256_loadu_ps(p + i + 8 * j));
    }
    for (int j = 1; j < 8; j++) s[0] = _mm256_add_ps(s[0], s[j]);
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, s[0]);
    double sum = 0;
    for (float lane : lanes) sum += lane;
    for (; i < n; i++) sum += p[i];
    return sum;
}

const FlatView& checked(const ovf_flat_engine* engine, const FlatView& base) {
    require(base.d == engine->d && base.inner_product == engine->inner_product,
            "the fused engine was created for another index");
    require(base.inner_product || static_cast<int64_t>(engine->norms.size()) == base.nb,
            "the fused engine is out of step with its index (ovf_flat_engine_sync was not called)");
    return base;
}

void knn(const ovf_flat_engine* engine, const FlatView& base, int64_t n, const float* x, int64_t k,
         float* distances, int64_t* labels) {
    const float* norms = base.inner_product ? nullptr : engine->norms.data();
    if (n >= kBatchThreshold) {
        const std::vector<float> query_norms = query_norms_of(base, x, n);
        std::vector<TopK> heaps;
        heaps.reserve(n);
        for (int64_t q = 0; q < n; q++) heaps.push_back(TopK{distances + q * k, labels + q * k, k});
        run_blocked(base, norms, x, n, [&](int64_t q, const float* values, int64_t row0, int count) {
            select_into(heaps[q], values, row0, count, base);
        });
#pragma omp parallel for num_threads(thread_count()) schedule(static)
        for (int64_t q = 0; q < n; q++) finish_knn(heaps[q], query_norms[q], base.inner_product);
        return;
    }

    // Streaming: per-thread heaps over slices of the rows, merged into the query's own.
    const int threads = streaming_threads(base);
    std::vector<float> scratch_values(static_cast<size_t>(threads) * k);
    std::vector<int64_t> scratch_labels(static_cast<size_t>(threads) * k);
    for (int64_t q = 0; q < n; q++) {
        std::vector<TopK> partial;
        for (int t = 0; t < threads; t++) partial.push_back(TopK{scratch_values.data() + t * k, scratch_labels.data() + t * k, k});
        run_streaming(base, x + q * base.d, threads, [&](int t, int64_t row0, const float* values, int count) {
            select_into(partial[t], values, row0, count, base);
        });
        TopK heap{distances + q * k, labels + q * k, k};
        for (const TopK& p : partial) {
            for (int64_t i = 0; i < p.size; i++) heap.push(p.values[i], p.labels[i]);
        }
        // The streaming values are whole distances: no query norm to add.
        finish_knn(heap, 0.0f, base.inner_product);
    }
}

struct Hit {
    float value;
    int64_t label;
    bool operator<(const Hit& other) const { return precedes(value, label, other.value, other.label); }
};

// Appends the hits of one block: values ≤ limit pass the vector filter; accept decides on the final distance.
template <typename Accept>
OVF_AVX2 void collect(std::vector<Hit>& hits, const float* v, int64_t row0, int m, float limit, const FlatView& base,
                      Accept&& accept) {
    const __m256 lim = _mm256_set1_ps(limit);
    int j = 0;
    for (; j + 8 <= m; j += 8) {
        int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(v + j), lim, _CMP_LE_OQ));
        while (mask) {
            const int bit = __builtin_ctz(mask);
            mask &= mask - 1;
            accept(hits, v[j + bit], base.label(row0 + j + bit));
        }
    }
    for (; j < m; j++) {
        if (v[j] <= limit) accept(hits, v[j], base.label(row0 + j));
    }
}

std::unique_ptr<faiss::RangeSearchResult> range(const ovf_flat_engine* engine, const FlatView& base, int64_t n,
                                                const float* x, float radius) {
    // Final distances: L2 max(0, value + ‖q‖²) < radius; inner product −value > radius. Hits keep final distances
    // as (L2) or negated similarities (inner product), so that sorting them puts the best first.
    std::vector<std::vector<Hit>> hits(n);
    const bool ip = base.inner_product;
    if (n >= kBatchThreshold) {
        const std::vector<float> query_norms = query_norms_of(base, x, n);
        run_blocked(base, ip ? nullptr : engine->norms.data(), x, n,
                    [&](int64_t q, const float* values, int64_t row0, int count) {
                        const float qn = query_norms[q];
                        // A little slack in the filter: the exact test below runs on the final distance.
                        const float limit = ip ? -radius : radius - qn + std::abs(radius - qn) * 1e-6f + 1e-30f;
                        collect(hits[q], values, row0, count, limit, base, [&](std::vector<Hit>& out, float v, int64_t l) {
                            if (ip) {
                                if (-v > radius) out.push_back({v, l});
                            } else {
                                const float dis = std::max(0.0f, v + qn);
                                if (dis < radius) out.push_back({dis, l});
                            }
                        });
                    });
    } else {
        const int threads = streaming_threads(base);
        for (int64_t q = 0; q < n; q++) {
            std::vector<std::vector<Hit>> partial(threads);
            run_streaming(base, x + q * base.d, threads, [&](int t, int64_t row0, const float* values, int count) {
                collect(partial[t], values, row0, count, ip ? -radius : radius, base, [&](std::vector<Hit>& out, float v, int64_t l) {
                    if (ip ? -v > radius : v < radius) out.push_back({v, l});
                });
            });
            for (auto& p : partial) hits[q].insert(hits[q].end(), p.begin(), p.end());
        }
    }

    auto result = std::make_unique<faiss::RangeSearchResult>(n);
    for (int64_t q = 0; q < n; q++) result->lims[q] = hits[q].size();
    result->do_allocation();  // lims: from counts to offsets
    for (int64_t q = 0; q < n; q++) {
        std::sort(hits[q].begin(), hits[q].end());
        size_t at = result->lims[q];
        for (const Hit& hit : hits[q]) {
            result->distances[at] = ip ? -hit.value : hit.value;
            result->labels[at++] = hit.label;
        }
    }
    return result;
}

}  // namespace

ovf_status ovf_flat_engine_create(const ovf_index* index, ovf_flat_engine** out) {
    OVF_TRY
    require(out, "null argument");
    const FlatView base = view_of(index);
    require(cpu_supports_engine(), "the fused engine needs a CPU with AVX2 and FMA");
    auto engine = std::make_unique<ovf_flat_engine>();
    engine->d = base.d;
    engine->inner_product = base.inner_product;
    *out = engine.release();
    OVF_CATCH
}

void ovf_flat_engine_free(ovf_flat_engine* engine) { delete engine; }

ovf_status ovf_flat_engine_sync(ovf_flat_engine* engine, const ovf_index* index, int64_t from_row) {
    OVF_TRY
    require(engine, "null engine");
    const FlatView base = view_of(index);
    require(base.d == engine->d && base.inner_product == engine->inner_product,
            "the fused engine was created for another index");
    require(from_row >= 0, "from_row must not be negative");
    if (base.inner_product) return OVF_OK;
    const int64_t from = std::min<int64_t>({from_row, base.nb, static_cast<int64_t>(engine->norms.size())});
    engine->norms.resize(base.nb);
    for (int64_t row = from; row < base.nb; row++) engine->norms[row] = squared_norm(base.xb + row * base.d, base.d);
    OVF_CATCH
}

ovf_status ovf_flat_engine_search(const ovf_flat_engine* engine, const ovf_index* index, int64_t n, const float* x,
                                  int64_t k, float* distances, int64_t* labels) {
    OVF_TRY
    require(engine && x && distances && labels, "null argument");
    require(n >= 0, "n must not be negative");
    require(k > 0, "k must be positive");
    const FlatView base = view_of(index);
    knn(engine, checked(engine, base), n, x, k, distances, labels);
    OVF_CATCH
}

ovf_status ovf_flat_stream_read(const ovf_index* index, double* sum) {
    OVF_TRY
    require(sum, "null argument");
    const FlatView base = view_of(index);
    require(cpu_supports_engine(), "the stream read needs a CPU with AVX2");
    double total = 0;
    const int threads = streaming_threads(base);
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
        const int t = omp_get_thread_num();
        const int team = omp_get_num_threads();
        total += sum_rows(base, base.nb * t / team, base.nb * (t + 1) / team);
    }
    *sum = total;
    OVF_CATCH
}

ovf_status ovf_flat_engine_range_search(const ovf_flat_engine* engine, const ovf_index* index, int64_t n,
                                        const float* x, float radius, ovf_range_result** out) {
    OVF_TRY
    require(engine && x && out, "null argument");
    require(n >= 0, "n must not be negative");
    const FlatView base = view_of(index);
    *out = reinterpret_cast<ovf_range_result*>(range(engine, checked(engine, base), n, x, radius).release());
    OVF_CATCH
}
