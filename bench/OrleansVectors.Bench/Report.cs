using System.Globalization;
using System.Text;

namespace OrleansVectors.Bench;

/// <summary>A table printed to the console and written as CSV under artifacts/bench/.</summary>
internal sealed class Report(string name, params string[] columns)
{
    private readonly List<string[]> _rows = [];

    public void Add(params object[] cells) =>
        _rows.Add([.. cells.Select(c => c switch
        {
            double d => d.ToString("0.####", CultureInfo.InvariantCulture),
            float f => f.ToString("0.####", CultureInfo.InvariantCulture),
            _ => Convert.ToString(c, CultureInfo.InvariantCulture) ?? "",
        })]);

    public string Write()
    {
        var widths = columns.Select((c, i) => Math.Max(c.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length))).ToArray();
        Console.WriteLine(string.Join("  ", columns.Select((c, i) => c.PadRight(widths[i]))));
        Console.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in _rows)
        {
            Console.WriteLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))));
        }

        var folder = Path.Combine(Repository.Root, "artifacts", "bench");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name + ".csv");
        var csv = new StringBuilder().AppendLine(string.Join(',', columns));
        foreach (var row in _rows)
        {
            csv.AppendLine(string.Join(',', row));
        }

        File.WriteAllText(path, csv.ToString());
        return path;
    }
}
