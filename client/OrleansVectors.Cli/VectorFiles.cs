using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace OrleansVectors.Cli;

/// <summary>Row-major vectors read from a file, with the last CSV column as labels when asked.</summary>
internal sealed record VectorFile(float[] Values, int Dimension, int[]? Labels)
{
    public int Count => Values.Length / Dimension;
}

/// <summary>Reads .fvecs (faiss/TEXMEX), .npy (2-D float32 or float64, C order) and .csv (optionally .gz) files.</summary>
internal static partial class VectorFiles
{
    public static VectorFile Read(string path, bool lastColumnIsLabel = false)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No file at '{Path.GetFullPath(path)}'.", path);
        }

        var compressed = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        var name = compressed ? path[..^3] : path;
        return Path.GetExtension(name).ToLowerInvariant() switch
        {
            ".fvecs" or ".npy" when compressed => throw new ArgumentException("Compressed .fvecs and .npy files are not read: decompress them first.", nameof(path)),
            ".fvecs" => ReadFvecs(path),
            ".npy" => ReadNpy(path),
            ".csv" => ReadCsv(path, lastColumnIsLabel),
            var other => throw new ArgumentException($"Unknown vector file type '{other}': use .fvecs, .npy or .csv.", nameof(path)),
        };
    }

    private static VectorFile ReadFvecs(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 4)
        {
            throw new InvalidDataException($"{path}: too short for an .fvecs file.");
        }

        var d = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        var record = 4 + (4 * d);
        if (d < 1 || bytes.Length % record != 0)
        {
            throw new InvalidDataException($"{path}: not an .fvecs file (dimension {d}, {bytes.Length} bytes).");
        }

        var n = bytes.Length / record;
        var values = new float[n * d];
        for (var i = 0; i < n; i++)
        {
            if (BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(i * record)) != d)
            {
                throw new InvalidDataException($"{path}: row {i} has a different dimension.");
            }

            Buffer.BlockCopy(bytes, (i * record) + 4, values, i * d * 4, d * 4);
        }

        return new VectorFile(values, d, null);
    }

    private static VectorFile ReadNpy(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
        {
            throw new InvalidDataException($"{path}: not a .npy file.");
        }

        var major = bytes[6];
        var headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)) : (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        var headerStart = major == 1 ? 10 : 12;
        var header = Encoding.ASCII.GetString(bytes, headerStart, headerLength);
        var descr = Descr().Match(header).Groups[1].Value;
        var shape = Shape().Match(header);
        if (header.Contains("'fortran_order': True", StringComparison.Ordinal) || !shape.Success || descr is not ("<f4" or "<f8"))
        {
            throw new InvalidDataException($"{path}: need a 2-D little-endian float32 or float64 array in C order; header is {header.Trim()}.");
        }

        var n = long.Parse(shape.Groups[1].Value, CultureInfo.InvariantCulture);
        var d = int.Parse(shape.Groups[2].Value, CultureInfo.InvariantCulture);
        var data = bytes.AsSpan(headerStart + headerLength);
        var itemSize = descr == "<f4" ? 4 : 8;
        if (d < 1 || n * d > Array.MaxLength || data.Length != n * d * itemSize)
        {
            throw new InvalidDataException($"{path}: the header says {n} × {d} values of {itemSize} bytes; the file holds {data.Length} bytes of data.");
        }

        var values = new float[n * d];
        if (descr == "<f4")
        {
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(data)[..values.Length].CopyTo(values);
        }
        else
        {
            var doubles = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(data);
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = (float)doubles[i];
            }
        }

        return new VectorFile(values, d, null);
    }

    private static VectorFile ReadCsv(string path, bool lastColumnIsLabel)
    {
        using var stream = File.OpenRead(path);
        using var reader = new StreamReader(path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(stream, CompressionMode.Decompress) : stream);
        var values = new List<float>();
        var labels = new List<int>();
        var width = -1;
        var line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            var cells = text.Split(',');
            if (values.Count == 0 && width < 0 && !cells.All(c => float.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            {
                continue; // a header row: not every cell is a number
            }

            var columns = lastColumnIsLabel ? cells.Length - 1 : cells.Length;
            if (width < 0)
            {
                width = columns;
            }
            else if (columns != width)
            {
                throw new InvalidDataException($"{path}:{line}: {columns} values, earlier rows have {width}.");
            }

            for (var i = 0; i < columns; i++)
            {
                values.Add(float.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                    ? v
                    : throw new InvalidDataException($"{path}:{line}: '{cells[i]}' is not a number."));
            }

            if (lastColumnIsLabel)
            {
                labels.Add(float.TryParse(cells[^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var label)
                    ? (int)label
                    : throw new InvalidDataException($"{path}:{line}: label '{cells[^1]}' is not a number."));
            }
        }

        if (width < 1)
        {
            throw new InvalidDataException($"{path}: no rows.");
        }

        return new VectorFile([.. values], width, lastColumnIsLabel ? [.. labels] : null);
    }

    [GeneratedRegex(@"'descr':\s*'([^']+)'")]
    private static partial Regex Descr();

    [GeneratedRegex(@"'shape':\s*\((\d+),\s*(\d+)\)")]
    private static partial Regex Shape();
}
