using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace OrleansVectors.Testing;

/// <summary>
/// Runs <c>Reference/faiss_reference.py</c> under Debian's system python3 with python3-faiss: the ground truth
/// of the parity tests. Inputs and outputs are raw arrays in a scratch folder that is deleted on dispose.
/// </summary>
public sealed class PythonFaiss : IDisposable
{
    /// <summary>Debian's interpreter; a pyenv python3 earlier on PATH has no faiss.</summary>
    public const string Interpreter = "/usr/bin/python3";

    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "Reference", "faiss_reference.py");
    private readonly string _folder = Directory.CreateTempSubdirectory("ovf-parity-").FullName;
    private int _next;

    /// <summary>Writes an array to a new scratch file and returns its path.</summary>
    public string Write<T>(ReadOnlySpan<T> values)
        where T : unmanaged
    {
        var path = NewPath();
        File.WriteAllBytes(path, MemoryMarshal.AsBytes(values).ToArray());
        return path;
    }

    /// <summary>A fresh path for an output.</summary>
    public string NewPath() => Path.Combine(_folder, $"a{Interlocked.Increment(ref _next)}.bin");

    public static T[] Read<T>(string path)
        where T : unmanaged => MemoryMarshal.Cast<byte, T>(File.ReadAllBytes(path)).ToArray();

    /// <summary>Runs one request; fails the test with python's own output if the script fails.</summary>
    public void Run(object request)
    {
        var requestPath = NewPath() + ".json";
        File.WriteAllText(requestPath, JsonSerializer.Serialize(request));
        if (!File.Exists(Interpreter))
        {
            Assert.Fail($"{Interpreter} is missing: run native/install-deps.sh (installs python3-faiss and python3-numpy).");
        }

        using var process = Process.Start(new ProcessStartInfo(Interpreter, [Script, requestPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the python faiss reference did not finish within 2 minutes");
        }

        if (process.ExitCode != 0)
        {
            Assert.Fail($"the python faiss reference failed (exit {process.ExitCode}); is python3-faiss installed (native/install-deps.sh)?\n{stdout}\n{stderr.Result}");
        }
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
