namespace OrleansVectors.Client.Tests;

/// <summary>
/// The deployment files are checked, not hoped: every kustomize overlay renders offline and validates against the
/// Kubernetes schemas (unknown fields included), the Dockerfile lints clean, and deliberately broken ones fail.
/// </summary>
public sealed class DeploymentTests
{
    [Fact]
    public async Task Every_overlay_renders_and_validates_against_the_Kubernetes_schemas()
    {
        var (code, output) = await RunAsync("k8s/validate.sh");
        Assert.True(code == 0, output);
        Assert.Matches(@"\d+ object\(s\): \d+ valid, 0 invalid", output);
    }

    [Fact]
    public async Task A_broken_manifest_fails_the_check_naming_each_problem()
    {
        var (code, output) = await RunAsync("k8s/validate.sh", "k8s/testdata/broken");
        Assert.Equal(1, code);
        Assert.Contains("spec.template.spec.containers[0].imagePullPolicyy: unknown field", output, StringComparison.Ordinal);
        Assert.Contains("spec.replica: unknown field", output, StringComparison.Ordinal);
        Assert.Contains("no CPU limit on silos", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_Dockerfile_lints_clean_and_a_broken_one_does_not()
    {
        var (code, output) = await RunAsync("silo/lint-dockerfile.sh");
        Assert.True(code == 0, output);
        (code, output) = await RunAsync("silo/lint-dockerfile.sh", "silo/testdata/Dockerfile.broken");
        Assert.NotEqual(0, code);
        Assert.Contains("sudo", output, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<(int Code, string Output)> RunAsync(string script, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { WorkingDirectory = Repository.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        return (process.ExitCode, await stdout + await stderr);
    }
}
