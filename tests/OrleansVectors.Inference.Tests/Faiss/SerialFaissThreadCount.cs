namespace OrleansVectors.Inference.Tests.Faiss;

/// <summary>Tests that change the process-wide faiss thread count run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialFaissThreadCount
{
    public const string Name = "faiss thread count";
}
