using System.Globalization;
using System.Text.RegularExpressions;

namespace OrleansVectors.Inference.Faiss;

/// <summary>
/// The faiss index-factory strings this library builds, parsed and bounded before faiss sees them: faiss 1.7.3
/// asserts on many out-of-range parameters by aborting the process (<c>PQ0</c>, <c>IVF0,Flat</c>, <c>HNSW0</c>),
/// spins forever on others (<c>HNSW1</c>, <c>NSG0</c>), and allocates at creation what a parameter asks for
/// (<c>IVF20000000,Flat</c>: a gigabyte). The grammar, comma-separated:
/// <code>
/// [IDMap,|IDMap2,] [pre-transform,]… main
/// pre-transform: PCA{d'} | PCAR{d'} | PCAW{d'} | PCAWR{d'} | OPQ{M} | OPQ{M}_{d'} | L2norm
/// main:          Flat | PQ{M}[x{nbits}][np] | SQ4 | SQ6 | SQ8 | SQfp16 | HNSW{M}
///              | IVF{nlist},Flat | IVF{nlist},PQ{M}[x{nbits}] | IVF{nlist},SQ4|SQ6|SQ8|SQfp16
/// </code>
/// with 1 ≤ d' ≤ d, M dividing the dimension it encodes, 1 ≤ nbits ≤ 16 (8 under IVF), 4 ≤ HNSW M ≤ 128 and
/// 1 ≤ nlist ≤ 1,048,576. An id map comes first: it wraps the whole index, pre-transforms included, which is
/// where this library's binding looks for it (searching with parameters, reading rows back, merging).
/// </summary>
public static partial class FaissFactoryString
{
    /// <summary>The longest factory string accepted.</summary>
    public const int MaxLength = 256;

    /// <summary>The smallest and largest HNSW neighbour counts: below 4 graph searches need not terminate in bounded time.</summary>
    public const int MinHnswNeighbors = 4, MaxHnswNeighbors = 128;

    /// <summary>The largest number of bits per product-quantizer code (<see cref="MaxIvfPqBits"/> under IVF).</summary>
    public const int MaxPqBits = 16;

    /// <summary>The largest number of bits per code of an IVF's product quantizer (faiss 1.7.3 refuses more).</summary>
    public const int MaxIvfPqBits = 8;

    /// <summary>
    /// Parses <paramref name="description"/> for vectors of <paramref name="dimension"/> and returns what the index
    /// will be; throws, naming the part at fault and its bound, for anything outside the grammar.
    /// </summary>
    /// <exception cref="ArgumentException">The string is outside the grammar or a parameter is out of bounds.</exception>
    public static FaissIndexLayout Parse(string description, int dimension)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        if (dimension < 1 || dimension > Limits.MaxDimension)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"The dimension must be between 1 and {Limits.MaxDimension}.");
        }

        if (description.Length > MaxLength)
        {
            throw Invalid(description, $"it is {description.Length} characters long; at most {MaxLength}");
        }

        var parts = description.Split(',');
        var d = dimension;
        long createBytes = 0;
        var idMap = parts[0] is "IDMap" or "IDMap2";
        var i = idMap ? 1 : 0;
        var transforms = i;
        for (; i < parts.Length && TryPreTransform(description, parts[i], ref d, ref createBytes); i++)
        {
        }

        if (i > transforms && i < parts.Length && parts[i] is "IDMap" or "IDMap2")
        {
            throw Invalid(description, $"'{parts[i]}' comes first, before the pre-transforms: it wraps the whole index (as in '{parts[i]},{string.Join(',', parts[transforms..i])},…')");
        }

        if (i == parts.Length)
        {
            throw Invalid(description, "it names no index type after its prefixes (Flat, PQ, SQ, HNSW or IVF)");
        }

        var main = parts[i];
        var rest = parts.Length - i - 1;
        FaissIndexKind kind;
        long bytesPerVector;
        int lists = 0;
        if (main == "Flat" && rest == 0)
        {
            (kind, bytesPerVector) = (FaissIndexKind.Flat, 4L * d);
        }
        else if (IvfPattern().Match(main) is { Success: true } ivf)
        {
            lists = Number(description, ivf.Groups[1].Value, "IVF list count", 1, Limits.MaxLists);
            if (rest != 1)
            {
                throw Invalid(description, $"'{main}' takes one encoding after it: Flat, PQ{{M}}[x{{nbits}}] or SQ4/SQ6/SQ8/SQfp16 (as in '{main},Flat')");
            }

            bytesPerVector = Encoding(description, parts[i + 1], d, ref createBytes, MaxIvfPqBits) + sizeof(long);
            createBytes += (long)lists * ((4L * d) + 64);
            kind = FaissIndexKind.Ivf;
        }
        else if (rest == 0 && HnswPattern().Match(main) is { Success: true } hnsw)
        {
            var m = Number(description, hnsw.Groups[1].Value, "HNSW neighbour count", MinHnswNeighbors, MaxHnswNeighbors);
            (kind, bytesPerVector) = (FaissIndexKind.Hnsw, (4L * d) + (m * 2L * sizeof(int) * 3 / 2));
        }
        else if (rest == 0 && (main.StartsWith("PQ", StringComparison.Ordinal) || main.StartsWith("SQ", StringComparison.Ordinal)))
        {
            bytesPerVector = Encoding(description, main, d, ref createBytes, MaxPqBits);
            kind = FaissIndexKind.Encoded;
        }
        else
        {
            var known = main == "Flat" || HnswPattern().IsMatch(main) || PqPattern().IsMatch(main) || main is "SQ4" or "SQ6" or "SQ8" or "SQfp16";
            throw Invalid(description, known
                ? $"'{main}' takes nothing after it, but '{string.Join(',', parts[(i + 1)..])}' follows"
                : $"'{main}' is not an index type here (Flat, PQ{{M}}[x{{nbits}}], SQ4/SQ6/SQ8/SQfp16, HNSW{{M}}, IVF{{nlist}},…)");
        }

        return new FaissIndexLayout(kind, d, lists, idMap, createBytes, bytesPerVector + (idMap ? sizeof(long) : 0));
    }

    private static bool TryPreTransform(string description, string part, ref int d, ref long createBytes)
    {
        if (part == "L2norm")
        {
            return true;
        }

        if (PcaPattern().Match(part) is { Success: true } pca)
        {
            var output = Number(description, pca.Groups[1].Value, $"PCA output dimension (the input has {d})", 1, d);
            createBytes += (long)d * d * sizeof(float) * 2;
            d = output;
            return true;
        }

        if (OpqPattern().Match(part) is { Success: true } opq)
        {
            var output = opq.Groups[2].Success ? Number(description, opq.Groups[2].Value, $"OPQ output dimension (the input has {d})", 1, d) : d;
            var m = Number(description, opq.Groups[1].Value, "OPQ sub-quantizer count", 1, output);
            if (output % m != 0)
            {
                throw Invalid(description, $"OPQ{m} needs a dimension divisible by {m}; it has {output}");
            }

            createBytes += (long)d * output * sizeof(float);
            d = output;
            return true;
        }

        return false;
    }

    /// <summary>The bytes a code of this encoding takes, checking its parameters against <paramref name="d"/>.</summary>
    private static long Encoding(string description, string part, int d, ref long createBytes, int maxBits)
    {
        switch (part)
        {
            case "Flat":
                return 4L * d;
            case "SQ8":
                createBytes += 8L * d;
                return d;
            case "SQ4":
                createBytes += 8L * d;
                return (d + 1) / 2;
            case "SQ6":
                createBytes += 8L * d;
                return ((6L * d) + 7) / 8;
            case "SQfp16":
                return 2L * d;
        }

        if (PqPattern().Match(part) is not { Success: true } pq)
        {
            throw Invalid(description, $"'{part}' is not an encoding (Flat, PQ{{M}}[x{{nbits}}], SQ4, SQ6, SQ8 or SQfp16)");
        }

        var m = Number(description, pq.Groups[1].Value, $"PQ sub-quantizer count (the dimension is {d})", 1, d);
        if (d % m != 0)
        {
            throw Invalid(description, $"PQ{m} needs a dimension divisible by {m}; it has {d}");
        }

        var bits = pq.Groups[2].Success ? Number(description, pq.Groups[2].Value, "PQ bits per code", 1, maxBits) : 8;
        createBytes += (1L << bits) * d * sizeof(float);
        return ((long)m * bits + 7) / 8;
    }

    private static int Number(string description, string digits, string what, int min, int max)
    {
        if (digits.Length == 0)
        {
            throw Invalid(description, $"the {what} is missing");
        }

        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw Invalid(description, $"the {what} must be between {min} and {max}; got {digits}");
    }

    private static ArgumentException Invalid(string description, string reason) =>
        new(Printable($"The factory string '{description}' is not one this library builds: {reason}."), nameof(description));

    /// <summary>The string with control characters escaped, so an error message cannot forge log lines.</summary>
    private static string Printable(string text) =>
        text.Any(char.IsControl) ? string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString())) : text;

    /// <summary>
    /// The factory string of an index like <paramref name="description"/>'s that stores vectors under caller ids:
    /// the string itself when its layout takes ids already (<see cref="FaissIndexLayout.TakesIds"/>), else the
    /// string under an id map (<c>IDMap,</c> first, wrapping any pre-transforms).
    /// </summary>
    /// <exception cref="ArgumentException">The string is outside the grammar or a parameter is out of bounds.</exception>
    public static string TakingIds(string description, int dimension) =>
        Parse(description, dimension).TakesIds ? description : "IDMap," + description;

    [GeneratedRegex(@"^IVF([0-9]*)\z", RegexOptions.CultureInvariant)]
    private static partial Regex IvfPattern();

    [GeneratedRegex(@"^HNSW([0-9]*)\z", RegexOptions.CultureInvariant)]
    private static partial Regex HnswPattern();

    [GeneratedRegex(@"^PQ([0-9]*)(?:x([0-9]*))?(?:np)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex PqPattern();

    [GeneratedRegex(@"^PCAW?R?([0-9]*)\z", RegexOptions.CultureInvariant)]
    private static partial Regex PcaPattern();

    [GeneratedRegex(@"^OPQ([0-9]*)(?:_([0-9]*))?\z", RegexOptions.CultureInvariant)]
    private static partial Regex OpqPattern();
}

/// <summary>The main structure of an index a factory string builds.</summary>
public enum FaissIndexKind
{
    /// <summary>Exact search over raw vectors.</summary>
    Flat,

    /// <summary>Exhaustive search over compressed codes (PQ, SQ).</summary>
    Encoded,

    /// <summary>An HNSW graph.</summary>
    Hnsw,

    /// <summary>An inverted file: a coarse quantizer and lists (needs training).</summary>
    Ivf,
}

/// <summary>What a parsed factory string will build, and the memory it takes.</summary>
/// <param name="Kind">The main structure.</param>
/// <param name="EncodedDimension">The dimension the main index sees, after pre-transforms.</param>
/// <param name="Lists">The IVF list count; 0 for other kinds.</param>
/// <param name="HasIdMap">Whether the string starts with an id map (IDMap or IDMap2).</param>
/// <param name="CreateBytes">An estimate of the memory the index takes when created and trained, before any vector.</param>
/// <param name="BytesPerVector">An estimate of the memory each stored vector takes.</param>
public sealed record FaissIndexLayout(FaissIndexKind Kind, int EncodedDimension, int Lists, bool HasIdMap, long CreateBytes, long BytesPerVector)
{
    /// <summary>
    /// Whether the index stores vectors under caller ids (<see cref="FaissIndex.AddWithIds"/>): under an id map, or
    /// an IVF, whose lists keep the ids themselves (through pre-transforms too, which hand ids on).
    /// </summary>
    public bool TakesIds => HasIdMap || Kind == FaissIndexKind.Ivf;
}
