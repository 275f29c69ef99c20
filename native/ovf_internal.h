// ovf_internal.h — what the translation units of libovfaiss share: the thread-local last error, the
// exception-to-status macros every export wraps its body in, and the process-wide OpenMP thread count.
// Internal: not installed, not part of the C ABI.
#ifndef OVF_INTERNAL_H
#define OVF_INTERNAL_H

#include "ovf_faiss.h"

#include <faiss/impl/FaissException.h>
#include <omp.h>

#include <atomic>
#include <new>
#include <stdexcept>
#include <string>

namespace ovf {

inline thread_local std::string t_last_error;

// OpenMP's thread count is a per-thread setting in libgomp, and faiss is called from whichever .NET
// thread-pool thread runs the managed call. The process-wide value lives here and is applied to the
// calling thread on entry to every compute call.
inline const int g_default_threads = omp_get_max_threads();
inline std::atomic<int> g_threads{0};

inline void apply_threads() {
    const int n = g_threads.load(std::memory_order_relaxed);
    omp_set_num_threads(n > 0 ? n : g_default_threads);
}

// Never throws: it runs inside the catch handlers, where a second exception would leave the C boundary.
inline ovf_status fail(ovf_status status, const char* message) noexcept {
    try {
        t_last_error = message ? message : "";
    } catch (...) {
        t_last_error.clear();
    }
    return status;
}

struct ArgumentError {
    const char* message;
};

inline void require(bool condition, const char* message) {
    if (!condition) throw ArgumentError{message};
}

#define OVF_TRY                                                               \
    try {
#define OVF_CATCH                                                             \
    }                                                                         \
    catch (const ovf::ArgumentError& e) {                                     \
        return ovf::fail(OVF_ERR_ARGUMENT, e.message);                        \
    }                                                                         \
    catch (const faiss::FaissException& e) {                                  \
        return ovf::fail(OVF_ERR_FAISS, e.what());                            \
    }                                                                         \
    catch (const std::bad_alloc&) {                                           \
        return ovf::fail(OVF_ERR_OUT_OF_MEMORY, "faiss: out of memory");      \
    }                                                                         \
    catch (const std::exception& e) {                                         \
        return ovf::fail(OVF_ERR_STD, e.what());                              \
    }                                                                         \
    catch (...) {                                                             \
        return ovf::fail(OVF_ERR_UNKNOWN, "faiss: unknown native exception"); \
    }                                                                         \
    return OVF_OK;

// The OpenMP team a compute call uses (the process-wide setting, or the OpenMP default).
inline int thread_count() {
    const int n = g_threads.load(std::memory_order_relaxed);
    return n > 0 ? n : g_default_threads;
}

}  // namespace ovf

#endif /* OVF_INTERNAL_H */
