using System.Buffers.Binary;
using System.Text;
using OrleansVectors.Cli;

namespace OrleansVectors.Client.Tests;

/// <summary>The command-line tool's readers for .fvecs, .npy and .csv.</summary>
public sealed class VectorFilesTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ovf-files-").FullName;

    [Fact]
    public void Fvecs_npy_and_csv_files_read_as_the_same_vectors()
    {
        float[] values = [1.5f, -2f, 3f, 4.25f, 5f, -6f];

        var fvecs = Path.Combine(_folder, "v.fvecs");
        using (var writer = new BinaryWriter(File.Create(fvecs)))
        {
            for (var row = 0; row < 2; row++)
            {
                writer.Write(3);
                for (var i = 0; i < 3; i++)
                {
                    writer.Write(values[(row * 3) + i]);
                }
            }
        }

        var npy = Path.Combine(_folder, "v.npy");
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        header = header.PadRight(64 - 10 - 1) + "\n";
        using (var stream = File.Create(npy))
        {
            stream.Write([0x93, .. "NUMPY"u8, 1, 0]);
            var length = new byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
            stream.Write(length);
            stream.Write(Encoding.ASCII.GetBytes(header));
            foreach (var v in values)
            {
                stream.Write(BitConverter.GetBytes(v));
            }
        }

        var csv = Path.Combine(_folder, "v.csv");
        File.WriteAllText(csv, "a,b,c,label\n1.5,-2,3,7\n4.25,5,-6,8\n");

        Assert.Equal(values, VectorFiles.Read(fvecs).Values);
        Assert.Equal(values, VectorFiles.Read(npy).Values);
        var labelled = VectorFiles.Read(csv, lastColumnIsLabel: true);
        Assert.Equal(values, labelled.Values);
        Assert.Equal(new[] { 7, 8 }, labelled.Labels);
        Assert.Equal(3, labelled.Dimension);
    }

    [Fact]
    public void Bad_files_are_clear_errors()
    {
        var ragged = Path.Combine(_folder, "ragged.csv");
        File.WriteAllText(ragged, "1,2,3\n4,5\n");
        var text = Path.Combine(_folder, "v.txt");
        File.WriteAllText(text, "1");
        var notNpy = Path.Combine(_folder, "bad.npy");
        File.WriteAllText(notNpy, "not numpy at all");

        Assert.Throws<InvalidDataException>(() => VectorFiles.Read(ragged));
        Assert.Throws<ArgumentException>(() => VectorFiles.Read(text));
        Assert.Throws<InvalidDataException>(() => VectorFiles.Read(notNpy));
        Assert.Throws<FileNotFoundException>(() => VectorFiles.Read(Path.Combine(_folder, "missing.fvecs")));
    }

    [Fact]
    public void A_csv_header_is_only_a_row_without_numbers_or_one_asked_for()
    {
        var typo = Path.Combine(_folder, "typo.csv");
        File.WriteAllText(typo, "1,2x,3\n4,5,6\n7,8,9\n");
        var error = Assert.Throws<InvalidDataException>(() => VectorFiles.Read(typo));
        Assert.StartsWith($"{typo}:1: '2x' is not a number", error.Message, StringComparison.Ordinal);
        Assert.Contains("--header", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, VectorFiles.Read(typo, header: CsvHeader.Yes).Count);

        var named = Path.Combine(_folder, "named.csv");
        File.WriteAllText(named, "a,b,c\n4,5,6\n");
        Assert.Equal(1, VectorFiles.Read(named).Count);
        Assert.Contains($"{named}:1: 'a' is not a number", Assert.Throws<InvalidDataException>(() => VectorFiles.Read(named, header: CsvHeader.No)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_gzip_file_is_an_error_not_a_shorter_input()
    {
        var rows = string.Concat(Enumerable.Range(0, 20_000).Select(i => $"{i},{i + 1},{i % 7}\n"));
        var whole = Path.Combine(_folder, "rows.csv.gz");
        using (var gzip = new System.IO.Compression.GZipStream(File.Create(whole), System.IO.Compression.CompressionLevel.Optimal))
        {
            gzip.Write(Encoding.ASCII.GetBytes(rows));
        }

        Assert.Equal(20_000, VectorFiles.Read(whole).Count);
        var bytes = File.ReadAllBytes(whole);
        var cut = Path.Combine(_folder, "cut.csv.gz");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        var error = Assert.Throws<InvalidDataException>(() => VectorFiles.Read(cut));
        Assert.StartsWith($"{cut}: truncated or corrupt", error.Message, StringComparison.Ordinal);
        var flipped = Path.Combine(_folder, "flipped.csv.gz");
        bytes[^3] ^= 0x40; // the trailer's length
        File.WriteAllBytes(flipped, bytes);
        Assert.StartsWith($"{flipped}: ", Assert.Throws<InvalidDataException>(() => VectorFiles.Read(flipped)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Hostile_binary_headers_are_errors_naming_the_file()
    {
        var fvecs = Path.Combine(_folder, "hostile.fvecs");
        File.WriteAllBytes(fvecs, [0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4]); // a dimension of int.MaxValue
        Assert.StartsWith($"{fvecs}: row 0 says it has 2147483647 values", Assert.Throws<InvalidDataException>(() => VectorFiles.Read(fvecs)).Message, StringComparison.Ordinal);

        var npy = Path.Combine(_folder, "hostile.npy");
        File.WriteAllBytes(npy, [0x93, .. "NUMPY"u8, 1, 0, 0xff, 0xff, (byte)'{']); // a header of 65,535 bytes in a 11-byte file
        Assert.StartsWith($"{npy}: the header claims 65535 bytes", Assert.Throws<InvalidDataException>(() => VectorFiles.Read(npy)).Message, StringComparison.Ordinal);

        var wide = Path.Combine(_folder, "wide.npy");
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 99999999999), }".PadRight(117) + "\n";
        File.WriteAllBytes(wide, [0x93, .. "NUMPY"u8, 1, 0, (byte)header.Length, 0, .. Encoding.ASCII.GetBytes(header)]);
        Assert.Contains("out of range", Assert.Throws<InvalidDataException>(() => VectorFiles.Read(wide)).Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
