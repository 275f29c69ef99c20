namespace OrleansVectors.Client.Tests;

/// <summary>The three naming rules (indexes, saved snapshots, models), as every layer applies them.</summary>
public sealed class ResourceNamesTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("Index-1_v2.0")]
    [InlineData("0starts-with-a-digit")]
    [InlineData("x012345678901234567890123456789012345678901234567890123456789012")] // 64 characters
    public void Index_names_in_the_set_are_accepted(string name) => Assert.Equal(name, ResourceNames.RequireIndexName(name));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("-leading-dash")]
    [InlineData(".hidden")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("ünïcode")]
    [InlineData("bad\nname")]
    [InlineData("x0123456789012345678901234567890123456789012345678901234567890123")] // 65 characters
    public void Index_names_outside_the_set_are_refused_with_the_rule_and_the_argument(string? name)
    {
        var error = Assert.Throws<ArgumentException>(() => ResourceNames.RequireIndexName(name, "target"));

        Assert.Equal("target", error.ParamName);
        Assert.Contains($"Index names are 1 to {Limits.MaxIndexNameLength} ASCII letters", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("nightly")]
    [InlineData("before-reindex_2026.12.05")]
    [InlineData("-leading-dash")] // a snapshot name is a file name under the index's folder, never a grain key
    public void Snapshot_names_in_the_set_are_accepted(string name)
    {
        Assert.Equal(name, ResourceNames.RequireSnapshotName(name));
        Assert.Equal(new string('s', Limits.MaxSnapshotNameLength), ResourceNames.RequireSnapshotName(new string('s', Limits.MaxSnapshotNameLength)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("../escape")]
    [InlineData("a b")]
    [InlineData("line\nforged")]
    [InlineData("ünïcode")]
    public void Snapshot_names_outside_the_set_are_refused_naming_the_argument(string name)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => ResourceNames.RequireSnapshotName(name));

        Assert.Equal("name", error.ParamName);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Throws<ArgumentNullException>(() => ResourceNames.RequireSnapshotName(null));
        Assert.Contains(
            $"A snapshot name is 1 to {Limits.MaxSnapshotNameLength} letters",
            Assert.Throws<ArgumentException>(() => ResourceNames.RequireSnapshotName(new string('s', Limits.MaxSnapshotNameLength + 1))).Message,
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("encoder.pt")]
    [InlineData("résumé model v2.pt")] // any plain file name: spaces and letters beyond ASCII too
    public void Model_names_that_are_plain_file_names_are_accepted(string name)
    {
        Assert.True(ResourceNames.IsModelName(name));
        Assert.Equal(name, ResourceNames.RequireModelName(name));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("/etc/shadow")]
    [InlineData("sub/model.pt")]
    [InlineData("..\\model.pt")]
    [InlineData("model\n.pt")]
    public void Model_names_that_are_paths_or_hold_control_characters_are_refused(string? name)
    {
        Assert.False(ResourceNames.IsModelName(name));
        var error = Assert.Throws<ArgumentException>(() => ResourceNames.RequireModelName(name, "Model"));
        Assert.Equal("Model", error.ParamName);
        Assert.Contains("model folder", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(ResourceNames.IsModelName(new string('m', Limits.MaxModelNameLength + 1)));
    }

    [Fact]
    public void Quote_escapes_control_characters_and_quotes_and_cuts_long_names_short()
    {
        Assert.Equal("'plain'", ResourceNames.Quote("plain"));
        Assert.Equal("'a\\u000ab\\u0027c'", ResourceNames.Quote("a\nb'c"));
        var quoted = ResourceNames.Quote(new string('q', 200));
        Assert.StartsWith($"'{new string('q', Limits.MaxIndexNameLength)}…'", quoted, StringComparison.Ordinal);
        Assert.EndsWith("(200 characters)", quoted, StringComparison.Ordinal);
    }
}
