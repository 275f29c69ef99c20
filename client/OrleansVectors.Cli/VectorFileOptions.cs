using System.CommandLine;

namespace OrleansVectors.Cli;

/// <summary>How to read a vector file (.fvecs, .npy, .csv[.gz]): --label-column, --header, --no-header.</summary>
internal sealed class VectorFileOptions
{
    private readonly Option<bool> _labelColumn = new("--label-column") { Description = "CSV: the last column is a label, not a coordinate." };
    private readonly Option<bool> _header = new("--header") { Description = "CSV: the first row is a header (default: decided by its content)." };
    private readonly Option<bool> _noHeader = new("--no-header") { Description = "CSV: the first row is data." };

    /// <summary>Adds the options to <paramref name="command"/>, with the rule that --header and --no-header exclude each other.</summary>
    public void AddTo(Command command)
    {
        command.Add(_labelColumn);
        command.Add(_header);
        command.Add(_noHeader);
        command.Validators.Add(result =>
        {
            if (result.GetValue(_header) && result.GetValue(_noHeader))
            {
                result.AddError("--header and --no-header contradict each other.");
            }
        });
    }

    /// <summary>Reads the file at <paramref name="path"/> as the options say.</summary>
    public VectorFile Read(ParseResult parseResult, string path) => VectorFiles.Read(
        path,
        parseResult.GetValue(_labelColumn),
        parseResult.GetValue(_header) ? CsvHeader.Yes : parseResult.GetValue(_noHeader) ? CsvHeader.No : CsvHeader.Auto);
}
