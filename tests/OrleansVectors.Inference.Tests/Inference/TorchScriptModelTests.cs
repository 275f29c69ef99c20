using OrleansVectors.Inference.Models;
using static TorchSharp.torch;

namespace OrleansVectors.Inference.Tests.Inference;

public sealed class TorchScriptModelTests
{
    [Fact]
    public void Models_exported_by_pytorch_give_pytorchs_embeddings()
    {
        using var trunk = TorchScriptModel.Load(Golden.PathOf("trunk.pt"), CPU);
        using var embedder = TorchScriptModel.Load(Golden.PathOf("embedder.pt"), CPU);
        using var input = Golden.Tensor("model_input");

        using (no_grad())
        {
            using var trunkOut = trunk.call(input);
            Golden.AssertClose(Golden.Tensor("model_trunk_out"), trunkOut);
        }

        using var model = new InferenceModel(trunk, embedder, dataDevice: CPU);
        using var embeddings = model.GetEmbeddings(input);
        Golden.AssertClose(Golden.Tensor("model_embeddings"), embeddings);

        using var raw = new InferenceModel(trunk, embedder, normalizeEmbeddings: false, dataDevice: CPU);
        using var rawEmbeddings = raw.GetEmbeddings(input);
        Golden.AssertClose(Golden.Tensor("model_embeddings_raw"), rawEmbeddings);
    }

    [Fact]
    public void Missing_and_corrupt_model_files_are_clear_errors()
    {
        var folder = Directory.CreateTempSubdirectory("ovf-models-").FullName;
        try
        {
            Assert.Throws<FileNotFoundException>(() => TorchScriptModel.Load(Path.Combine(folder, "missing.pt")));
            var corrupt = Path.Combine(folder, "corrupt.pt");
            File.WriteAllText(corrupt, "not a torchscript archive");
            Assert.Throws<InvalidDataException>(() => TorchScriptModel.Load(corrupt));
            var truncated = Path.Combine(folder, "truncated.pt");
            var bytes = File.ReadAllBytes(Golden.PathOf("trunk.pt"));
            File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
            Assert.Throws<InvalidDataException>(() => TorchScriptModel.Load(truncated));
            Assert.Throws<ArgumentException>(() => TorchScriptModel.Load(""));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
