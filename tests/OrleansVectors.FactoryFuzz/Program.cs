using System.Text;
using OrleansVectors.Inference.Faiss;

// Reads lines "<dimension> <base64 factory string>" from the file named by its argument (or stdin). For each it writes "> <line>" before touching faiss
// (so a crash or hang names its string), then creates the index the way the library does (parse first), trains it
// when it needs training, adds vectors, searches, and writes "ok", "refused: …" or "faiss: …". Ends with
// "peak-rss-kib <n>".
var random = new Random(5);
using var input = args.Length > 0 ? new StreamReader(args[0]) : new StreamReader(Console.OpenStandardInput());
while (input.ReadLine() is { } line)
{
    Console.WriteLine($"> {line}");
    Console.Out.Flush();
    var parts = line.Split(' ');
    var d = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
    var factory = Encoding.UTF8.GetString(Convert.FromBase64String(parts[1]));
    try
    {
        using var index = FaissIndex.Create(d, factory);
        var data = new float[300 * d];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)random.NextDouble();
        }

        if (!index.IsTrained)
        {
            index.Train(data);
        }

        if (index.HasIdMap)
        {
            index.AddWithIds(data, [.. Enumerable.Range(0, 300).Select(i => (long)i)]);
        }
        else
        {
            index.Add(data);
        }

        index.Search(data.AsSpan(0, 2 * d), 5);
        Console.WriteLine("ok");
    }
    catch (ArgumentException e)
    {
        Console.WriteLine($"refused: {e.Message.ReplaceLineEndings(" ")}");
    }
    catch (FaissException e)
    {
        Console.WriteLine($"faiss: {e.Message.ReplaceLineEndings(" ")}");
    }
    catch (InvalidOperationException e)
    {
        Console.WriteLine($"invalid: {e.Message.ReplaceLineEndings(" ")}");
    }
}

var status = File.ReadAllLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)) ?? "VmHWM: 0 kB";
Console.WriteLine($"peak-rss-kib {status.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]}");
return 0;
