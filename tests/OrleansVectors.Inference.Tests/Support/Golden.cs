using System.Runtime.InteropServices;
using System.Text.Json;
using static TorchSharp.torch;

namespace OrleansVectors.Inference.Tests.Support;

/// <summary>
/// The committed golden outputs of Reference/make_inference_fixtures.py (Debian's python3-torch and
/// python3-faiss): raw arrays described by Fixtures/inference/manifest.json.
/// </summary>
internal static class Golden
{
    public static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "inference");

    /// <summary>The outputs of the seed's own code (Reference/make_seed_fixtures.py).</summary>
    public static readonly string SeedFolder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "seed");

    private static readonly Lazy<Dictionary<string, Entry>> Manifest = new(() => ReadManifest(Folder));

    private static readonly Lazy<Dictionary<string, Entry>> SeedManifest = new(() => ReadManifest(SeedFolder));

    public static string PathOf(string file) => System.IO.Path.Combine(Folder, file);

    /// <summary>A fixture as a CPU tensor of its recorded shape and type.</summary>
    public static Tensor Tensor(string name) => Load(Folder, Manifest.Value, name);

    /// <summary>A fixture computed by the seed's own code, as a CPU tensor.</summary>
    public static Tensor Seed(string name) => Load(SeedFolder, SeedManifest.Value, name);

    private static Dictionary<string, Entry> ReadManifest(string folder)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "manifest.json")));
        return json.RootElement.EnumerateObject()
            .Where(p => !p.Name.StartsWith('_'))
            .ToDictionary(
                p => p.Name,
                p => new Entry([.. p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64())], p.Value.GetProperty("dtype").GetString()!));
    }

    private static Tensor Load(string folder, Dictionary<string, Entry> manifest, string name)
    {
        var entry = manifest[name];
        var bytes = File.ReadAllBytes(System.IO.Path.Combine(folder, name + ".bin"));
        return entry.DType switch
        {
            "float32" => tensor(MemoryMarshal.Cast<byte, float>(bytes).ToArray(), entry.Shape),
            "int64" => tensor(MemoryMarshal.Cast<byte, long>(bytes).ToArray(), entry.Shape),
            "bool" => tensor(bytes.Select(b => b != 0).ToArray(), entry.Shape),
            _ => throw new InvalidDataException($"unknown fixture dtype {entry.DType}"),
        };
    }

    public static float[] Floats(Tensor t) => t.to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();

    public static long[] Longs(Tensor t) => t.cpu().contiguous().data<long>().ToArray();

    public static bool[] Bools(Tensor t) => t.cpu().contiguous().data<bool>().ToArray();

    /// <summary>Asserts same shape and values within <paramref name="relative"/> (absolute floor 1e-6).</summary>
    public static void AssertClose(Tensor expected, Tensor actual, double relative = 1e-5)
    {
        Assert.Equal(expected.shape, actual.shape);
        var e = Floats(expected);
        var a = Floats(actual);
        for (var i = 0; i < e.Length; i++)
        {
            var tolerance = (relative * Math.Abs(e[i])) + 1e-6;
            Assert.True(Math.Abs(e[i] - a[i]) <= tolerance, $"element {i}: expected {e[i]}, got {a[i]}");
        }
    }

    /// <summary>
    /// Asserts same shape and values within <paramref name="relative"/> of the largest expected magnitude: for outputs
    /// such as PCA projections, whose error comes from the whole input (an eigen-decomposition through the machine's
    /// BLAS kernels), not from each element's own size.
    /// </summary>
    public static void AssertCloseToScale(Tensor expected, Tensor actual, double relative)
    {
        Assert.Equal(expected.shape, actual.shape);
        var e = Floats(expected);
        var a = Floats(actual);
        var tolerance = relative * e.Max(Math.Abs);
        for (var i = 0; i < e.Length; i++)
        {
            Assert.True(Math.Abs(e[i] - a[i]) <= tolerance, $"element {i}: expected {e[i]}, got {a[i]} (tolerance {tolerance:g3})");
        }
    }

    private sealed record Entry(long[] Shape, string DType);
}
