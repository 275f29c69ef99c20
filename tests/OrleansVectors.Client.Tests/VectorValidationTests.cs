namespace OrleansVectors.Client.Tests;

/// <summary>
/// The vector and id rules every layer applies (client, grains, in-process API), with one exception type per rule,
/// and the limits each layer takes from <see cref="Limits"/>.
/// </summary>
public sealed class VectorValidationTests
{
    [Fact]
    public void Row_count_takes_whole_rows_of_finite_values_and_names_the_argument()
    {
        float[] values = [1, 2, 3, 4, 5, 6];
        Assert.Equal(2, VectorValidation.RowCount(values, 3));

        Assert.Throws<ArgumentOutOfRangeException>(() => VectorValidation.RowCount(values, 0));
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => VectorValidation.RowCount([], 3, "queries")).Message, StringComparison.Ordinal);
        var ragged = Assert.Throws<ArgumentException>(() => VectorValidation.RowCount(values, 4, "queries"));
        Assert.Equal("queries", ragged.ParamName);
        Assert.Contains("not a whole number of 4-dimensional vectors", ragged.Message, StringComparison.Ordinal);

        values[5] = float.NaN;
        var nan = Assert.Throws<ArgumentException>(() => VectorValidation.RowCount(values, 3, "values"));
        Assert.Equal("values", nan.ParamName);
        Assert.Contains("Vector 1 has a non-finite value (NaN) at position 2", nan.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Faiss_ids_are_one_per_row_and_non_negative_and_may_repeat()
    {
        VectorValidation.RequireIds([4, 4, 0], 3); // faiss takes an id twice

        var count = Assert.Throws<ArgumentException>(() => VectorValidation.RequireIds([1, 2], 3, "ids"));
        Assert.Equal("ids", count.ParamName);
        Assert.Contains("exactly one id per vector", count.Message, StringComparison.Ordinal);
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => VectorValidation.RequireIds([1, -1, 2], 3, "ids"));
        Assert.Equal("ids", negative.ParamName);
        Assert.Contains("non-negative", negative.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Caller_ids_are_also_distinct_and_every_breach_is_an_argument_exception_naming_the_row()
    {
        VectorValidation.RequireCallerIds([0, 7, 3], 3);

        Assert.Contains("exactly one id per vector", Assert.Throws<ArgumentException>(() => VectorValidation.RequireCallerIds([1], 2, "ids")).Message, StringComparison.Ordinal);
        var negative = Assert.Throws<ArgumentException>(() => VectorValidation.RequireCallerIds([1, -5], 2, "ids"));
        Assert.Equal("ids", negative.ParamName);
        Assert.Contains("Row 1 has the negative id -5", negative.Message, StringComparison.Ordinal);
        var repeated = Assert.Throws<ArgumentException>(() => VectorValidation.RequireCallerIds([7, 1, 7], 3, "ids"));
        Assert.Contains("Rows 0 and 2 have the same id 7", repeated.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_limit_is_the_same_at_every_layer_that_enforces_it()
    {
        // the widest vector: an index spec, faiss's factory grammar
        new IndexSpec { Dimension = Limits.MaxDimension }.Validate();
        Assert.Throws<ArgumentException>(() => new IndexSpec { Dimension = Limits.MaxDimension + 1 }.Validate());
        Assert.Equal(Limits.MaxDimension, FaissFactoryString.Parse("Flat", Limits.MaxDimension).EncodedDimension);
        Assert.Throws<ArgumentOutOfRangeException>(() => FaissFactoryString.Parse("Flat", Limits.MaxDimension + 1));

        // IVF lists: as many as a factory string may ask for, a query may probe
        Assert.Equal(Limits.MaxLists, FaissFactoryString.Parse($"IVF{Limits.MaxLists},Flat", 8).Lists);
        Assert.ThrowsAny<ArgumentException>(() => FaissFactoryString.Parse($"IVF{Limits.MaxLists + 1},Flat", 8));
        new QueryOptions { NProbe = Limits.MaxLists, EfSearch = Limits.MaxEfSearch }.Validate();
        Assert.Throws<ArgumentOutOfRangeException>(() => new QueryOptions { NProbe = Limits.MaxLists + 1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new QueryOptions { EfSearch = Limits.MaxEfSearch + 1 }.Validate());
        Assert.Equal(Limits.MaxEfSearch, FaissIndex.MaxEfSearch);

        // shards
        new IndexSpec { Dimension = 4, ShardCount = Limits.MaxShards }.Validate();
        Assert.Contains($"between 1 and {Limits.MaxShards}", Assert.Throws<ArgumentException>(() => new IndexSpec { Dimension = 4, ShardCount = Limits.MaxShards + 1 }.Validate()).Message, StringComparison.Ordinal);
    }
}
