namespace OrleansVectors.Cli.Commands;

/// <summary>ovx snapshot, snapshots, restore and save: an index's committed versions.</summary>
internal static class SnapshotCommands
{
    public static Command BuildSnapshot(CommandRunner runner) =>
        runner.IndexCommand("snapshot", "Snapshot an index now (snapshots also run on their own).", [], async (_, name, cluster, _) =>
        {
            var client = await cluster.ConnectAsync();
            Print(await WithSpinnerAsync($"snapshot of {name}", () => client.SnapshotAsync(name)), "committed");
            return ExitCodes.Success;
        });

    public static Command BuildList(CommandRunner runner)
    {
        var json = ToolOptions.Json();
        return runner.IndexCommand("snapshots", "An index's retained versions and saved snapshots.", [json], async (parseResult, name, cluster, _) =>
        {
            var snapshots = await (await cluster.ConnectAsync()).ListSnapshotsAsync(name);
            if (parseResult.GetValue(json))
            {
                ToolJson.Write(parseResult, new SnapshotsJson(name, [.. snapshots.Select(s => new SnapshotJson(s.Version, s.Name, s.Created.ToUniversalTime(), s.Count, s.Bytes))]));
                return ExitCodes.Success;
            }

            var table = new Table().AddColumns("version", "name", "created (UTC)", "vectors", "bytes");
            foreach (var snapshot in snapshots)
            {
                table.AddRow(
                    snapshot.Name is null ? snapshot.Version.ToString(CultureInfo.InvariantCulture) : "",
                    snapshot.Name ?? "",
                    snapshot.Created.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    snapshot.Count.ToString("N0", CultureInfo.InvariantCulture),
                    snapshot.Bytes.ToString("N0", CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
            return ExitCodes.Success;
        });
    }

    public static Command BuildRestore(CommandRunner runner)
    {
        var version = new Option<long?>("--version") { Description = "The retained version to go back to (default: the newest).", HelpName = "n" };
        var saved = new Option<string>("--name") { Description = "A saved snapshot to load instead of a version.", HelpName = "snapshot" };
        saved.Validators.Add(result =>
        {
            if (result.GetValue(version) is not null)
            {
                result.AddError("Give --version or --name, not both.");
            }
        });
        return runner.IndexCommand("restore", "Put an index back to a retained version or a saved snapshot.", [version, saved], async (parseResult, name, cluster, _) =>
        {
            var client = await cluster.ConnectAsync();
            if (parseResult.GetValue(saved) is { } snapshot)
            {
                Print(await WithSpinnerAsync($"load of '{snapshot}' into {name}", () => client.LoadAsync(name, snapshot)), "restored; committed as version");
                return ExitCodes.Success;
            }

            var target = parseResult.GetValue(version) ?? (await client.ListSnapshotsAsync(name)).LastOrDefault(s => s.Name is null)?.Version
                ?? throw new InvalidOperationException($"Index '{name}' has no snapshot to restore.");
            Print(await WithSpinnerAsync($"restore of {name} to version {target}", () => client.RestoreAsync(name, target)), "restored; committed as version");
            return ExitCodes.Success;
        });
    }

    public static Command BuildSave(CommandRunner runner)
    {
        var snapshotName = new Argument<string>("name") { Description = "The saved snapshot's name." };
        return runner.IndexCommand("save", "Keep a snapshot under a name, past retention and drop.", [snapshotName], async (parseResult, name, cluster, _) =>
        {
            var saved = parseResult.GetRequiredValue(snapshotName);
            var client = await cluster.ConnectAsync();
            Print(await WithSpinnerAsync($"save of {name} as '{saved}'", () => client.SaveAsync(name, saved)), $"saved as '{saved}', version");
            return ExitCodes.Success;
        });
    }

    private static async Task<T> WithSpinnerAsync<T>(string what, Func<Task<T>> work)
    {
        var stopwatch = Stopwatch.StartNew();
        var result = await AnsiConsole.Status().StartAsync($"{what}…", _ => work());
        AnsiConsole.MarkupLineInterpolated($"{what}: {stopwatch.Elapsed.TotalSeconds:0.0} s");
        return result;
    }

    private static void Print(SnapshotInfo snapshot, string what) =>
        AnsiConsole.MarkupLineInterpolated($"{what} {snapshot.Version}: {snapshot.Count:N0} vectors, {snapshot.Bytes / (double)Limits.BytesPerMiB:N1} MiB");
}
