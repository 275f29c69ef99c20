using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Client;

/// <summary>
/// An add stopped part-way: some batches were stored (acknowledged, durable, searchable), the rest were not.
/// <see cref="StoredRows"/> says exactly which input rows are in the index; sending the others again (with the
/// cause fixed) completes the add.
/// </summary>
public sealed class AddIncompleteException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AddIncompleteException(string index, int rows, IReadOnlyList<Range> storedRows, IReadOnlyList<AddReceipt> receipts, Exception cause)
        : base(Describe(index, rows, storedRows, cause), cause)
    {
        Index = index;
        Rows = rows;
        StoredRows = storedRows;
        Receipts = receipts;
    }

    /// <summary>Creates the exception.</summary>
    public AddIncompleteException()
        : this("The add stopped part-way.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public AddIncompleteException(string message)
        : base(message)
    {
        Index = "";
        StoredRows = [];
        Receipts = [];
    }

    /// <summary>Creates the exception.</summary>
    public AddIncompleteException(string message, Exception innerException)
        : base(message, innerException)
    {
        Index = "";
        StoredRows = [];
        Receipts = [];
    }

    /// <summary>The index.</summary>
    public string Index { get; }

    /// <summary>The rows the call was given.</summary>
    public int Rows { get; }

    /// <summary>The input rows that were stored, as ranges in input order.</summary>
    public IReadOnlyList<Range> StoredRows { get; }

    /// <summary>The receipts of the stored batches.</summary>
    public IReadOnlyList<AddReceipt> Receipts { get; }

    /// <summary>How many rows were stored.</summary>
    public int StoredCount => StoredRows.Sum(r => r.End.Value - r.Start.Value);

    private static string Describe(string index, int rows, IReadOnlyList<Range> stored, Exception cause)
    {
        var count = stored.Sum(r => r.End.Value - r.Start.Value);
        var which = count == 0 ? "none" : string.Join(", ", stored.Select(r => $"{r.Start.Value}–{r.End.Value - 1}"));
        return $"Index '{index}': {count} of {rows} rows were stored (rows {which}); the others were not: {cause.Message}";
    }
}
