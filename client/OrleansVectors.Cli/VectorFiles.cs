using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace OrleansVectors.Cli;

/// <summary>Row-major vectors read from a file, with the last CSV column as labels when asked.</summary>
internal sealed record VectorFile(float[] Values, int Dimension, int[]? Labels)
{
    public int Count => Values.Length / Dimension;
}

/// <summary>Whether a CSV file's first row is a header.</summary>
internal enum CsvHeader
{
    /// <summary>A header when every field of the first row is non-numeric; a row mixing numbers and text is an error.</summary>
    Auto,

    /// <summary>The first row is a header, whatever it holds.</summary>
    Yes,

    /// <summary>Every row is data.</summary>
    No,
}

/// <summary>
/// Reads .fvecs (faiss/TEXMEX), .npy (2-D float32 or float64, C order) and .csv (optionally .gz) files, strictly:
/// every error names the file (and the row), header fields are checked against the file's size, and a truncated
/// compressed file is an error, not a shorter input.
/// </summary>
internal static partial class VectorFiles
{
    public static VectorFile Read(string path, bool lastColumnIsLabel = false, CsvHeader header = CsvHeader.Auto)
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
            ".csv" => ReadCsv(path, lastColumnIsLabel, header),
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
        if (d < 1 || d > Limits.MaxDimension)
        {
            throw new InvalidDataException($"{path}: row 0 says it has {d} values; an .fvecs row has 1 to {Limits.MaxDimension} (is this an .fvecs file?).");
        }

        var record = 4 + (4 * d);
        if (bytes.Length % record != 0)
        {
            throw new InvalidDataException($"{path}: {bytes.Length} bytes is not a whole number of {d}-value rows ({record} bytes each): the file is truncated or not an .fvecs file.");
        }

        var n = bytes.Length / record;
        var values = new float[n * d];
        for (var i = 0; i < n; i++)
        {
            if (BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(i * record)) != d)
            {
                throw new InvalidDataException($"{path}: row {i} says it has {BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(i * record))} values; row 0 has {d}.");
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
        var headerStart = major == 1 ? 10 : 12;
        if (major is < 1 or > 3 || bytes.Length < headerStart)
        {
            throw new InvalidDataException($"{path}: .npy format version {major} is not read (1 to 3 are).");
        }

        var headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)) : (long)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        if (headerStart + headerLength > bytes.Length)
        {
            throw new InvalidDataException($"{path}: the header claims {headerLength} bytes, past the end of the {bytes.Length}-byte file.");
        }

        var header = Encoding.ASCII.GetString(bytes, headerStart, (int)headerLength);
        var descr = Descr().Match(header).Groups[1].Value;
        var shape = Shape().Match(header);
        if (header.Contains("'fortran_order': True", StringComparison.Ordinal) || !shape.Success || descr is not ("<f4" or "<f8"))
        {
            throw new InvalidDataException($"{path}: need a 2-D little-endian float32 or float64 array in C order; header is {header.Trim()}.");
        }

        if (!long.TryParse(shape.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            || !int.TryParse(shape.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var d) || d < 1 || d > Limits.MaxDimension)
        {
            throw new InvalidDataException($"{path}: the header's shape ({shape.Groups[1].Value}, {shape.Groups[2].Value}) is out of range: rows of 1 to {Limits.MaxDimension} values.");
        }

        var data = bytes.AsSpan(headerStart + (int)headerLength);
        var itemSize = descr == "<f4" ? 4 : 8;
        if (n > Array.MaxLength / d || data.Length != n * d * itemSize)
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

    private static VectorFile ReadCsv(string path, bool lastColumnIsLabel, CsvHeader header)
    {
        using var file = File.OpenRead(path);
        var compressed = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        using var content = compressed ? new GZipCheckedStream(file, path) : (Stream)file;
        using var reader = new StreamReader(content);
        var values = new List<float>();
        var labels = new List<int>();
        var width = -1;
        var line = 0;
        var first = true;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            var cells = text.Split(',');
            if (first)
            {
                first = false;
                var numbers = cells.Count(c => float.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
                if (header == CsvHeader.Yes || (header == CsvHeader.Auto && numbers == 0))
                {
                    continue; // the header row
                }

                if (header == CsvHeader.Auto && numbers < cells.Length)
                {
                    var text0 = cells.First(c => !float.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
                    throw new InvalidDataException(
                        $"{path}:{line}: '{text0}' is not a number, but other fields of this first row are: a typo in the data, or a header? Pass --header to skip a first row, --no-header to read every row as data.");
                }
            }

            var columns = lastColumnIsLabel ? cells.Length - 1 : cells.Length;
            if (columns < 1 || columns > Limits.MaxDimension)
            {
                throw new InvalidDataException($"{path}:{line}: {columns} values; a row has 1 to {Limits.MaxDimension}.");
            }

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
                labels.Add(double.TryParse(cells[^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var label) && label == Math.Floor(label) && Math.Abs(label) <= int.MaxValue
                    ? (int)label
                    : throw new InvalidDataException($"{path}:{line}: label '{cells[^1]}' is not an integer."));
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
