using System.Runtime.InteropServices;
using OrleansVectors.Inference.Distances;
using OrleansVectors.Inference.Knn;
using OrleansVectors.Inference.Models;
using static TorchSharp.torch;

namespace OrleansVectors.Inference;

/// <summary>
/// An embedding model with a knn index and a match finder: the seed's <c>InferenceModel</c> for a trunk that
/// takes batches of any input type (tensors, lists of strings, …). Embeddings are
/// <c>embedder(trunk(batch))</c>, computed in eval mode without gradients and, by default, L2-normalized.
/// </summary>
/// <typeparam name="TInput">What one batch is: what the trunk takes.</typeparam>
/// <remarks>
/// Searches and matches may run concurrently from several threads; <see cref="TrainKnn(IEnumerable{TInput}, IProgress{long})"/>,
/// <see cref="AddToKnn(IEnumerable{TInput}, IProgress{long})"/> and <see cref="LoadKnnFunc"/> change the index and run alone (see
/// <see cref="FaissKnn"/>). Tensors returned are the caller's to dispose.
/// </remarks>
public class InferenceModel<TInput> : IDisposable
    where TInput : class
{
    private readonly bool _ownsKnn;

    /// <summary>Creates an inference model.</summary>
    /// <param name="trunk">The model: any TorchSharp module, or a TorchScript file loaded with <see cref="TorchScriptModel"/>.</param>
    /// <param name="embedder">Applied to the trunk's output; null for the identity.</param>
    /// <param name="matchFinder">Decides matches; default cosine similarity with threshold 0.9, as the seed.</param>
    /// <param name="normalizeEmbeddings">L2-normalize embeddings (default true).</param>
    /// <param name="knnFunc">The knn function; default a <see cref="FaissKnn"/> that keeps its index (Flat L2), as the seed.</param>
    /// <param name="dataDevice">Where tensor inputs go; default CUDA when available, else the CPU (<see cref="InferenceDevice"/>).</param>
    /// <param name="dtype">Tensor inputs are cast to this type first; null leaves them as they are.</param>
    public InferenceModel(
        nn.IModule<TInput, Tensor> trunk,
        nn.IModule<Tensor, Tensor>? embedder = null,
        MatchFinder? matchFinder = null,
        bool normalizeEmbeddings = true,
        IKnnFunction? knnFunc = null,
        Device? dataDevice = null,
        ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(trunk);
        Trunk = trunk;
        Embedder = embedder;
        MatchFinder = matchFinder ?? new MatchFinder(new CosineSimilarity(), threshold: 0.9);
        NormalizeEmbeddings = normalizeEmbeddings;
        _ownsKnn = knnFunc is null;
        KnnFunc = knnFunc ?? new FaissKnn(resetBefore: false, resetAfter: false);
        DataDevice = InferenceDevice.Resolve(dataDevice);
        Dtype = dtype;
    }

    /// <summary>The model.</summary>
    public nn.IModule<TInput, Tensor> Trunk { get; }

    /// <summary>The embedder applied after the trunk, or null.</summary>
    public nn.IModule<Tensor, Tensor>? Embedder { get; }

    /// <summary>Decides matches.</summary>
    public MatchFinder MatchFinder { get; }

    /// <summary>Whether embeddings are L2-normalized.</summary>
    public bool NormalizeEmbeddings { get; }

    /// <summary>The knn function.</summary>
    public IKnnFunction KnnFunc { get; }

    /// <summary>Where tensor inputs are moved before the trunk runs.</summary>
    public Device DataDevice { get; }

    /// <summary>The type tensor inputs are cast to, or null.</summary>
    public ScalarType? Dtype { get; }

    /// <summary>The embeddings of one batch (rows × dimension), on the model's device.</summary>
    /// <exception cref="ArgumentException">The batch is empty, or it produced NaN or infinite embeddings.</exception>
    /// <exception cref="InvalidOperationException">The trunk or embedder failed on the batch (shape, dtype, …) or did not return a 2-D tensor.</exception>
    public Tensor GetEmbeddings(TInput batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        (Trunk as nn.Module)?.eval();
        (Embedder as nn.Module)?.eval();
        Tensor embeddings;
        try
        {
            var output = Trunk.call(Prepare(batch));
            embeddings = Embedder is null ? output : Embedder.call(output);
        }
        catch (ExternalException e)
        {
            throw new InvalidOperationException($"The model failed on the input ({Describe(batch)}): {FirstLine(e.Message)}", e);
        }

        if (embeddings.ndim != 2 || !embeddings.is_floating_point())
        {
            throw new InvalidOperationException(
                $"The model must return a 2-D floating-point (batch, dimension) tensor; it returned {embeddings.dtype} of shape [{string.Join(", ", embeddings.shape)}].");
        }

        if (!TensorChecks.AllFinite(embeddings))
        {
            throw new ArgumentException($"The input ({Describe(batch)}) produced NaN or infinite embeddings; check it for NaN or infinity.", nameof(batch));
        }

        if (NormalizeEmbeddings)
        {
            embeddings = nn.functional.normalize(embeddings, p: 2, dim: 1);
        }

        return embeddings.MoveToOuterDisposeScope();
    }

    /// <summary>The embeddings of a sequence of batches, concatenated in order.</summary>
    /// <param name="batches">The batches; at least one.</param>
    /// <param name="progress">Receives the number of rows embedded so far after each batch.</param>
    /// <exception cref="ArgumentException">There are no batches; otherwise as <see cref="GetEmbeddings(TInput)"/>.</exception>
    public Tensor GetEmbeddings(IEnumerable<TInput> batches, IProgress<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(batches);
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        long rows = 0;
        foreach (var batch in batches)
        {
            var part = GetEmbeddings(batch);
            parts.Add(part);
            rows += part.shape[0];
            progress?.Report(rows);
        }

        if (parts.Count == 0)
        {
            throw new ArgumentException("There is nothing to embed: the input has no batches.", nameof(batches));
        }

        return (parts.Count == 1 ? parts[0] : cat(parts, 0)).MoveToOuterDisposeScope();
    }

    /// <summary>Embeds the batches and builds the knn index from them (replacing any index held).</summary>
    /// <exception cref="InvalidOperationException">The knn function holds no index (for example <see cref="CustomKnn"/>).</exception>
    public void TrainKnn(IEnumerable<TInput> batches, IProgress<long>? progress = null)
    {
        var knn = TrainableKnn();
        using var embeddings = GetEmbeddings(batches, progress);
        knn.Train(embeddings);
    }

    /// <summary>Embeds the batches and adds them to the knn index; they get the next indices.</summary>
    /// <exception cref="InvalidOperationException">The knn function holds no index, or it has not been trained.</exception>
    public void AddToKnn(IEnumerable<TInput> batches, IProgress<long>? progress = null)
    {
        var knn = TrainableKnn();
        using var embeddings = GetEmbeddings(batches, progress);
        knn.Add(embeddings);
    }

    /// <summary>The <paramref name="k"/> nearest indexed items of each query row.</summary>
    /// <exception cref="InvalidOperationException">The knn index has not been trained.</exception>
    /// <exception cref="ArgumentOutOfRangeException">k is less than 1 or larger than the index.</exception>
    public KnnResult GetNearestNeighbors(TInput query, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        using var embeddings = GetEmbeddings(query);
        return KnnFunc.Search(embeddings, k);
    }

    /// <summary>
    /// Which query rows match which reference rows (element [i, j]); the reference defaults to the query.
    /// The seed's <c>get_matches</c>; <see cref="GetMatchTuples"/> is its <c>return_tuples=True</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">No threshold here or in the match finder.</exception>
    public bool[,] GetMatches(TInput query, TInput? reference = null, double? threshold = null) =>
        WithMatchEmbeddings(query, reference, (q, r) => MatchFinder.GetMatchingPairs(q, r, threshold));

    /// <summary>The matching (query row, reference row) pairs.</summary>
    /// <inheritdoc cref="GetMatches" path="/exception"/>
    public IReadOnlyList<(long Query, long Reference)> GetMatchTuples(TInput query, TInput? reference = null, double? threshold = null) =>
        WithMatchEmbeddings(query, reference, (q, r) => MatchFinder.GetMatchTuples(q, r, threshold));

    /// <summary>Whether each row of <paramref name="x"/> matches the same row of <paramref name="y"/>.</summary>
    /// <exception cref="InvalidOperationException">No threshold here or in the match finder.</exception>
    /// <exception cref="ArgumentException">The batches have different sizes.</exception>
    public bool[] IsMatch(TInput x, TInput y, double? threshold = null) =>
        WithMatchEmbeddings(x, y, (a, b) => MatchFinder.IsMatch(a, b, threshold));

    /// <summary>Writes the knn index to a file.</summary>
    /// <exception cref="InvalidOperationException">The knn function holds no index, or none has been built.</exception>
    public void SaveKnnFunc(string path) => TrainableKnn().Save(path);

    /// <summary>Replaces the knn index with one read from a file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an index.</exception>
    public void LoadKnnFunc(string path) => TrainableKnn().Load(path);

    /// <summary>Frees the knn function if this model created it. The trunk and embedder stay the caller's.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the knn function if this model created it.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing && _ownsKnn && KnnFunc is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    /// <summary>Readies a batch for the trunk; the tensor model moves it to the device and casts it.</summary>
    protected virtual TInput Prepare(TInput batch) => batch;

    /// <summary>A short description of a batch for error messages.</summary>
    protected virtual string Describe(TInput batch) => batch.GetType().Name;

    private static string FirstLine(string message) => message.Split('\n', 2)[0];

    private T WithMatchEmbeddings<T>(TInput query, TInput? reference, Func<Tensor, Tensor, T> compare)
    {
        using var q = GetEmbeddings(query);
        using var r = reference is null ? null : GetEmbeddings(reference);
        return compare(q, r ?? q);
    }

    private ITrainableKnn TrainableKnn() =>
        KnnFunc as ITrainableKnn
        ?? throw new InvalidOperationException($"The knn function ({KnnFunc.GetType().Name}) holds no index to train, add to, save or load; use a FaissKnn.");
}
