namespace OrleansVectors.Cli;

/// <summary>How to read a vector file (.fvecs, .npy, .csv[.gz]): --label-column, --header, --no-header.</summary>
internal sealed class VectorFileOptions
{
    private readonly Option<bool> _labelColumn = new("--label-column") { Description = "CSV: the last column is a label, not a coordinate." };
    private readonly Option<bool> _header = new("--header") { Description = "CSV: the first row is a header (default: decided by its content)." };
    private readonly Option<bool> _noHeader = new("--no-header") { Description = "CSV: the first row is data." };

    public VectorFileOptions() =>
        _noHeader.Validators.Add(result =>
        {
            if (result.GetValue(_header) && result.GetValue(_noHeader))
            {
                result.AddError("--header and --no-header contradict each other.");
            }
        });

    /// <summary>The options, for a command's definition.</summary>
    public IEnumerable<Symbol> Symbols => [_labelColumn, _header, _noHeader];

    /// <summary>Reads the file at <paramref name="path"/> as the options say.</summary>
    public VectorFile Read(ParseResult parseResult, string path) => VectorFiles.Read(
        path,
        parseResult.GetValue(_labelColumn),
        parseResult.GetValue(_header) ? CsvHeader.Yes : parseResult.GetValue(_noHeader) ? CsvHeader.No : CsvHeader.Auto);
}
