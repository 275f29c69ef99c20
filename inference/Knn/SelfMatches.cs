using static TorchSharp.torch;

namespace OrleansVectors.Inference.Knn;

/// <summary>The seed's <c>return_results</c>: what a knn function does when the reference includes the query.</summary>
internal static class SelfMatches
{
    /// <summary>
    /// From k+1 neighbours per row, drops each row's own index; a row without it drops its last column instead.
    /// Returns new tensors with k columns; the inputs are left alone.
    /// </summary>
    public static KnnResult Remove(Tensor distances, Tensor indices)
    {
        using var scope = NewDisposeScope();
        var rows = indices.shape[0];
        var columns = indices.shape[1];
        var self = indices.eq(arange(rows, ScalarType.Int64, indices.device).unsqueeze(1));
        var rowHasSelf = self.any(1);
        var isLastColumn = arange(columns, ScalarType.Int64, indices.device).eq(columns - 1).unsqueeze(0);
        var drop = self.logical_or(isLastColumn.logical_and(rowHasSelf.logical_not().unsqueeze(1)));
        var keep = drop.logical_not();
        var keptIndices = indices.masked_select(keep).view(rows, columns - 1);
        var keptDistances = distances.masked_select(keep).view(rows, columns - 1);
        return new KnnResult(keptDistances.MoveToOuterDisposeScope(), keptIndices.MoveToOuterDisposeScope());
    }
}
