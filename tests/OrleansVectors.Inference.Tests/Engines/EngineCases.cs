using OrleansVectors.Inference.Engines;

namespace OrleansVectors.Inference.Tests.Engines;

/// <summary>The engines every exactness test runs on: the fused CPU engine, and the GPU engine's kernels on ILGPU's CPU accelerator.</summary>
internal static class EngineCases
{
    public const string Cpu = "cpu";

    public static string[] All => [Cpu];

    public static SearchEngineOptions Options(string engine) => engine switch
    {
        Cpu => new SearchEngineOptions { Preference = SearchEnginePreference.Cpu },
        _ => throw new ArgumentOutOfRangeException(nameof(engine), engine, "unknown engine case"),
    };

    public static SearchEngineKind Kind(string engine) => engine switch
    {
        Cpu => SearchEngineKind.Cpu,
        _ => throw new ArgumentOutOfRangeException(nameof(engine), engine, "unknown engine case"),
    };
}
