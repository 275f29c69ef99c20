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

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
