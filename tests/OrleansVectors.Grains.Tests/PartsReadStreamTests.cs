namespace OrleansVectors.Grains.Tests;

public sealed class PartsReadStreamTests
{
    [Fact]
    public void Reads_the_parts_as_one_stream_across_empty_parts_and_seeks()
    {
        var parts = new ReadOnlyMemory<byte>[] { new byte[] { 1, 2, 3 }, Array.Empty<byte>(), new byte[] { 4 }, Array.Empty<byte>(), new byte[] { 5, 6, 7, 8 } };
        using var stream = new PartsReadStream(parts);
        Assert.Equal(8, stream.Length);

        var buffer = new byte[5];
        Assert.Equal(5, stream.Read(buffer));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, buffer);
        Assert.Equal(3, stream.Read(buffer));
        Assert.Equal(new byte[] { 6, 7, 8 }, buffer[..3]);
        Assert.Equal(0, stream.Read(buffer));

        stream.Seek(3, SeekOrigin.Begin);
        Assert.Equal(2, stream.Read(buffer.AsSpan(0, 2)));
        Assert.Equal(new byte[] { 4, 5 }, buffer[..2]);
        stream.Seek(-1, SeekOrigin.End);
        Assert.Equal(1, stream.Read(buffer));
        Assert.Equal(8, buffer[0]);

        using var copy = new MemoryStream();
        stream.Position = 0;
        stream.CopyTo(copy, 2);
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (byte)i), copy.ToArray());
    }
}
