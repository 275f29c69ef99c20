using System.CommandLine;
using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Cli.Commands;

/// <summary>ovx create: a new index.</summary>
internal static class CreateCommand
{
    public static Command Build(CommandRunner runner)
    {
        var index = ToolOptions.Index();
        var dimension = ToolOptions.Integer("--dim", "Vector dimension (with --model: the embeddings').", null);
        var metric = ToolOptions.Metric();
        var factory = new Option<string>("--factory") { Description = "Each shard's faiss factory string: Flat, IVF256,Flat, HNSW32, PQ16, ….", HelpName = "spec", DefaultValueFactory = _ => "Flat" };
        var shards = ToolOptions.Integer("--shards", "Shards the index is spread over.", 1);
        var threshold = ToolOptions.Number("--threshold", "Default radius of match queries (squared L2, or the inner product to exceed).");
        var model = new Option<string>("--model") { Description = "A TorchScript model in the silos' model folder that embeds added and queried inputs; needs --input-dim.", HelpName = "name.pt" };
        var inputDimension = new Option<int?>("--input-dim") { Description = "With --model: the dimension of the inputs it embeds.", HelpName = "n" };
        var command = new Command("create", "Create an index.") { index, dimension, metric, factory, shards, threshold, model, inputDimension };
        runner.SetAction(command, async (parseResult, cluster, _) =>
        {
            var spec = new IndexSpec
            {
                Dimension = parseResult.GetValue(dimension),
                Metric = parseResult.GetValue(metric) ?? VectorMetric.L2,
                Factory = parseResult.GetRequiredValue(factory),
                ShardCount = parseResult.GetValue(shards),
                MatchThreshold = parseResult.GetValue(threshold),
                Model = parseResult.GetValue(model),
                InputDimension = parseResult.GetValue(inputDimension),
            };
            spec.Validate(); // a bad spec fails here, without waiting on the gateways
            var client = await cluster.ConnectAsync();
            StatsCommand.Print(await client.CreateIndexAsync(parseResult.GetRequiredValue(index), spec));
            return ExitCodes.Success;
        });
        return command;
    }
}
