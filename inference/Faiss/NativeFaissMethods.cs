using System.Runtime.InteropServices;

namespace OrleansVectors.Inference.Faiss;

/// <summary>
/// The entry points of <c>libovfaiss.so</c>, the C ABI over faiss in <c>native/</c>. Every function returning
/// <see cref="FaissStatus"/> returns <see cref="FaissStatus.Ok"/> on success; otherwise the calling thread's
/// <see cref="LastError"/> holds the message. Callers go through <see cref="FaissStatusExtensions.ThrowIfFailed"/>.
/// </summary>
internal static unsafe partial class NativeFaissMethods
{
    private const string Library = "ovfaiss";

    /// <summary>The calling thread's last error message (UTF-8, owned by the native library).</summary>
    [LibraryImport(Library, EntryPoint = "ovf_last_error")]
    internal static partial nint LastError();

    /// <summary>faiss's version triple. Returns Ok.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_version")]
    internal static partial FaissStatus Version(out int major, out int minor, out int patch);

    /// <summary>Sets the process-wide OpenMP thread count; n &lt;= 0 restores the default. Returns Ok.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_set_num_threads")]
    internal static partial FaissStatus SetNumThreads(int n);

    /// <summary>The thread count faiss calls use. Returns Ok.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_get_num_threads")]
    internal static partial FaissStatus GetNumThreads(out int n);

    /// <summary>Creates an index from a factory string. Returns Faiss when the string does not parse.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_factory", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial FaissStatus IndexFactory(int d, string description, FaissMetric metric, out FaissIndexHandle index);

    /// <summary>Frees an index (null allowed). Never fails.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_free")]
    internal static partial void IndexFree(nint index);

    /// <summary>Dimension, count, metric and trained state. Returns Ok.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_info")]
    internal static partial FaissStatus IndexInfo(FaissIndexHandle index, out int d, out long ntotal, out FaissMetric metric, out int isTrained);

    /// <summary>Which per-call parameters apply (<see cref="SearchParameterSupport"/>). Returns Ok.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_search_params_supported")]
    internal static partial FaissStatus IndexSearchParamsSupported(FaissIndexHandle index, out SearchParameterSupport mask);

    /// <summary>Trains the index on n vectors. Returns Faiss when the index type rejects the data (for example too few points).</summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_train")]
    internal static partial FaissStatus IndexTrain(FaissIndexHandle index, long n, float* x);

    /// <summary>Adds n vectors with sequential ids. Returns Faiss when the index is not trained.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_add")]
    internal static partial FaissStatus IndexAdd(FaissIndexHandle index, long n, float* x);

    /// <summary>Adds n vectors with the given ids. Returns Faiss when the index type does not take ids.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_add_with_ids")]
    internal static partial FaissStatus IndexAddWithIds(FaissIndexHandle index, long n, float* x, long* ids);

    /// <summary>
    /// k-NN search into n*k distances and labels. Returns Argument for a parameter the index has no use for.
    /// An EfSearch on HNSW sets the index's own value for the call: the caller must hold the index exclusively.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_search")]
    internal static partial FaissStatus IndexSearch(FaissIndexHandle index, long n, float* x, long k, NativeSearchParameters* parameters, float* distances, long* labels);

    /// <summary>Range search; the result is read with the RangeResult functions and freed with <see cref="RangeResultFree"/>.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_range_search")]
    internal static partial FaissStatus IndexRangeSearch(FaissIndexHandle index, long n, float* x, float radius, NativeSearchParameters* parameters, out nint result);

    /// <summary>Number of results over all queries. Returns Ok.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_range_result_size")]
    internal static partial FaissStatus RangeResultSize(nint result, out long total);

    /// <summary>Copies n+1 offsets and the distances and labels. Returns Ok.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_range_result_copy")]
    internal static partial FaissStatus RangeResultCopy(nint result, long* offsets, float* distances, long* labels);

    /// <summary>Frees a range search result (null allowed).</summary>
    [LibraryImport(Library, EntryPoint = "ovf_range_result_free")]
    internal static partial void RangeResultFree(nint result);

    /// <summary>Removes ids; returns how many were present. Returns Faiss when the index type cannot remove.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_remove_ids")]
    internal static partial FaissStatus IndexRemoveIds(FaissIndexHandle index, long n, long* ids, out long removed);

    /// <summary>Writes the stored vector of a key. Returns Faiss when the index type cannot reconstruct or the key is unknown.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_reconstruct")]
    internal static partial FaissStatus IndexReconstruct(FaissIndexHandle index, long key, float* output);

    /// <summary>Ids and vectors of rows offset … offset+n−1 in storage order. Returns Faiss when the type cannot reconstruct by position.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_rows")]
    internal static partial FaissStatus IndexRows(FaissIndexHandle index, long offset, long n, long* ids, float* vectors);

    /// <summary>Moves every vector of source into target. Returns Faiss when the types cannot be merged.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_merge_from")]
    internal static partial FaissStatus IndexMergeFrom(FaissIndexHandle target, FaissIndexHandle source);

    /// <summary>Reads an index through a read callback (bytes read, 0 at the end, negative on failure). Returns Faiss for bytes that are not an index.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_read_stream")]
    internal static partial FaissStatus IndexReadStream(delegate* unmanaged[Cdecl]<nint, byte*, long, long> read, nint context, out FaissIndexHandle index);

    /// <summary>Hands the pieces of the index's serialized form, in order and where they lie, to <paramref name="segment"/>.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_write_segments")]
    internal static partial FaissStatus IndexWriteSegments(FaissIndexHandle index, delegate* unmanaged[Cdecl]<nint, byte*, long, long> segment, nint context);

    /// <summary>Reads an index from faiss's serialized form. Returns Faiss for bytes faiss cannot read.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_deserialize")]
    internal static partial FaissStatus IndexDeserialize(byte* data, long size, out FaissIndexHandle index);

    /// <summary>Writes an index file. Returns Faiss when the file cannot be written.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_write_file", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial FaissStatus IndexWriteFile(FaissIndexHandle index, string path);

    /// <summary>Reads an index file. Returns Faiss when the file is missing or not an index.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_index_read_file", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial FaissStatus IndexReadFile(string path, out FaissIndexHandle index);

    /// <summary>Creates the fused engine for a Flat index. Returns Argument for other types or a CPU without AVX2/FMA.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_flat_engine_create")]
    internal static partial FaissStatus FlatEngineCreate(FaissIndexHandle index, out FlatEngineHandle engine);

    /// <summary>Frees a fused engine (null allowed). Never fails.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_flat_engine_free")]
    internal static partial void FlatEngineFree(nint engine);

    /// <summary>Recomputes the engine's norms from a row on. Returns Argument when the index is not the engine's.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_flat_engine_sync")]
    internal static partial FaissStatus FlatEngineSync(FlatEngineHandle engine, FaissIndexHandle index, long fromRow);

    /// <summary>k-NN search through the fused engine. Returns Argument when the engine is out of step with the index.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_flat_engine_search")]
    internal static partial FaissStatus FlatEngineSearch(FlatEngineHandle engine, FaissIndexHandle index, long n, float* x, long k, float* distances, long* labels);

    /// <summary>Reads every stored float of a Flat index once (the memory bound of a single query, for benchmarks). Returns Argument for other types.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_flat_stream_read")]
    internal static partial FaissStatus FlatStreamRead(FaissIndexHandle index, out double sum);

    /// <summary>Range search through the fused engine; the result is read and freed as <see cref="IndexRangeSearch"/>'s.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_flat_engine_range_search")]
    internal static partial FaissStatus FlatEngineRangeSearch(FlatEngineHandle engine, FaissIndexHandle index, long n, float* x, float radius, out nint result);

    /// <summary>faiss k-means; see <c>ovf_kmeans</c> in ovf_faiss.h. Returns Faiss when faiss rejects the input.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_kmeans")]
    internal static partial FaissStatus KMeans(int d, long n, float* x, int k, in NativeKMeansParameters parameters, float* centroids, float* objective, out int iterations, long* assignments);

    /// <summary>faiss PCA (train and apply); see <c>ovf_pca</c> in ovf_faiss.h.</summary>
    [LibraryImport(Library, EntryPoint = "ovf_pca")]
    internal static partial FaissStatus Pca(int dIn, long n, float* x, int dOut, float* output);

    /// <summary>Mirrors <c>ovf_search_params</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct NativeSearchParameters
    {
        public int NProbe;
        public int EfSearch;
    }

    /// <summary>Mirrors <c>ovf_kmeans_params</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct NativeKMeansParameters
    {
        public int Iterations;
        public int Redo;
        public int Seed;
        public int Spherical;
        public int MinPointsPerCentroid;
        public int MaxPointsPerCentroid;
        public int Verbose;
        public int UseInitialCentroids;
    }

    /// <summary>Bits of <c>ovf_index_search_params_supported</c>.</summary>
    [Flags]
    internal enum SearchParameterSupport
    {
        None = 0,
        NProbe = 1,
        EfSearch = 2,
        IdMap = 4,
        ExactFlat = 8,
    }
}
