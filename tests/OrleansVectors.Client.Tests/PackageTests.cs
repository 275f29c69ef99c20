using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace OrleansVectors.Client.Tests;

/// <summary>
/// The packages as a .NET team meets them: packed from this build into a folder, a service (samples/) built against
/// that folder alone, carrying no native code, and serving a real cluster of silo processes.
/// </summary>
public sealed class PackageTests
{
    private const int D = 16;

    /// <summary>Builds that leave no MSBuild node or compiler server behind, holding this test's output pipes.</summary>
    private static readonly string[] Isolated = ["-nodeReuse:false", "-p:UseSharedCompilation=false"];

    /// <summary>What a service that only calls the cluster must not carry.</summary>
    private static readonly string[] Forbidden = ["TorchSharp", "libtorch", "ILGPU", "libovfaiss"];

    [Fact]
    public async Task The_sample_built_from_the_packed_client_carries_no_native_code_and_searches_as_faiss_Flat()
    {
        var root = Repository.Root;
        using var work = new TemporaryFolder("ovf-packages-");
        var feed = Path.Combine(work.Path, "feed");
        var output = Path.Combine(work.Path, "sample");

        // a version of its own, so NuGet's global cache can never hand back packages of an earlier run
        var version = $"0.9.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        try
        {
            var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
            await RunAsync(root, "dotnet", ["pack", "OrleansVectors.sln", "-c", configuration, "--no-build", "-o", feed, $"-p:Version={version}", "--nologo", .. Isolated]);
            string[] packages = ["OrleansVectors.Abstractions", "OrleansVectors.Connections", "OrleansVectors.GrainInterfaces", "OrleansVectors.Client", "OrleansVectors.Client.Inference", "OrleansVectors.Inference", "OrleansVectors.Server"];
            foreach (var package in packages)
            {
                Assert.True(File.Exists(Path.Combine(feed, $"{package}.{version}.nupkg")), $"{package} was not packed: {string.Join(", ", Directory.GetFiles(feed).Select(Path.GetFileName))}");
            }

            using (var inference = System.IO.Compression.ZipFile.OpenRead(Path.Combine(feed, $"OrleansVectors.Inference.{version}.nupkg")))
            {
                Assert.Contains(inference.Entries, e => e.FullName == "runtimes/linux-x64/native/libovfaiss.so");
            }

            // what a client references is managed code only, loadable on any architecture
            foreach (var package in new[] { "OrleansVectors.Abstractions", "OrleansVectors.Connections", "OrleansVectors.GrainInterfaces", "OrleansVectors.Client" })
            {
                Assert.True(IsAnyCpu(Path.Combine(feed, $"{package}.{version}.nupkg"), package), $"{package}.dll is not AnyCPU");
            }

            await RunAsync(root, "dotnet", ["build", "samples/OrleansVectors.Sample", "-c", "Release", "-o", output, $"-p:OrleansVectorsFeed={feed}", $"-p:OrleansVectorsVersion={version}", "--nologo", .. Isolated]);

            var deps = await File.ReadAllTextAsync(Path.Combine(output, "OrleansVectors.Sample.deps.json"));
            Assert.Contains($"OrleansVectors.Client/{version}", deps, StringComparison.Ordinal);
            foreach (var name in Forbidden)
            {
                Assert.DoesNotContain(name, deps, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain(Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories), f => Path.GetFileName(f).Contains(name, StringComparison.OrdinalIgnoreCase));
            }

            await using var silos = new SiloProcesses(2);
            await silos.StartAsync(0);
            await silos.StartAsync(1);
            var gateways = silos.Connection().GatewayPorts;
            var port = LoopbackPorts.Free();
            using var sample = new ChildProcess("dotnet", [
                Path.Combine(output, "OrleansVectors.Sample.dll"), "--urls", $"http://127.0.0.1:{port}",
                "--OrleansVectors:GatewayPorts:0", gateways[0].ToString(CultureInfo.InvariantCulture),
                "--OrleansVectors:GatewayPorts:1", gateways[1].ToString(CultureInfo.InvariantCulture)]);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
            await WaitForServiceAsync(http, sample);

            var vectors = TestData.Uniform(3000, D, seed: 71);
            var queries = TestData.Uniform(40, D, seed: 72);
            await ExpectAsync(HttpStatusCode.Created, http.PutAsJsonAsync("/indexes/products", new { dimension = D, shards = 4 }));
            await ExpectAsync(HttpStatusCode.OK, http.PostAsJsonAsync("/indexes/products/vectors", new { vectors = RowsOf(vectors) }));
            var found = await ExpectAsync(HttpStatusCode.OK, http.PostAsJsonAsync("/indexes/products/search", new { queries = RowsOf(queries), k = 10 }));

            using var flat = FaissIndex.Create(D, "Flat");
            flat.Add(vectors);
            var expected = flat.Search(queries, 10);
            var ids = found.GetProperty("ids").EnumerateArray().SelectMany(row => row.EnumerateArray().Select(v => v.GetInt64())).ToArray();
            var distances = found.GetProperty("distances").EnumerateArray().SelectMany(row => row.EnumerateArray().Select(v => v.GetSingle())).ToArray();
            Assert.Equal(expected.Labels, ids);
            for (var i = 0; i < distances.Length; i++)
            {
                Assert.Equal(expected.Distances[i], distances[i], 1e-4f);
            }

            // bad input is the service's 400, naming the problem; a missing index its 404
            var ragged = await http.PostAsJsonAsync("/indexes/products/search", new { queries = new[] { new float[D], new float[D - 1] }, k = 10 });
            Assert.Equal(HttpStatusCode.BadRequest, ragged.StatusCode);
            Assert.Contains("Row 1", await ragged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsJsonAsync("/indexes/missing/search", new { queries = RowsOf(queries), k = 1 })).StatusCode);
        }
        finally
        {
            ForgetCachedPackages(version);
        }
    }

    private static float[][] RowsOf(float[] values) => [.. values.Chunk(D)];

    private static bool IsAnyCpu(string nupkg, string assembly)
    {
        using var archive = System.IO.Compression.ZipFile.OpenRead(nupkg);
        using var copy = new MemoryStream();
        using (var dll = archive.GetEntry($"lib/net10.0/{assembly}.dll")!.Open())
        {
            dll.CopyTo(copy);
        }

        copy.Position = 0;
        using var pe = new System.Reflection.PortableExecutable.PEReader(copy);
        var headers = pe.PEHeaders;
        return headers.CoffHeader.Machine == System.Reflection.PortableExecutable.Machine.I386
            && (headers.CorHeader!.Flags & System.Reflection.PortableExecutable.CorFlags.ILOnly) != 0
            && (headers.CorHeader.Flags & System.Reflection.PortableExecutable.CorFlags.Requires32Bit) == 0;
    }

    private static async Task<JsonElement> ExpectAsync(HttpStatusCode status, Task<HttpResponseMessage> call)
    {
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {status}, got {response.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Waits until the sample answers HTTP with its Orleans client connected (a missing index is its 404).</summary>
    private static async Task WaitForServiceAsync(HttpClient http, ChildProcess sample)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            Assert.False(sample.HasExited, $"the sample exited:\n{sample.Output}");
            try
            {
                using var response = await http.GetAsync(new Uri("/indexes/ready-check", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            Assert.True(DateTime.UtcNow < deadline, $"the sample did not answer within 60 s:\n{sample.Output}");
            await Task.Delay(200);
        }
    }

    private static async Task RunAsync(string directory, string program, string[] arguments)
    {
        using var process = new ChildProcess(program, arguments, directory);
        var code = await process.WaitForExitAsync(TimeSpan.FromMinutes(5));
        Assert.True(code == 0, $"{program} {string.Join(' ', arguments)} exited with {code}:\n{process.Output}");
    }

    /// <summary>Removes this run's versions from NuGet's global packages folder (each run packs a version of its own).</summary>
    private static void ForgetCachedPackages(string version)
    {
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var package in Directory.Exists(cache) ? Directory.EnumerateDirectories(cache, "orleansvectors.*") : [])
        {
            var folder = Path.Combine(package, version);
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
