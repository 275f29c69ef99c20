using System.Text.Json.Serialization;
using OrleansVectors.Client;
using OrleansVectors.Client.Hosting;
using OrleansVectors.GrainInterfaces;

// A backend service that stores and searches vectors in an OrleansVectors cluster: it references the client
// package alone, and finds the cluster from the "OrleansVectors" configuration section (validated at start).
var builder = WebApplication.CreateBuilder(args);
builder.UseOrleansClient(client => client.UseOrleansVectorsCluster("OrleansVectors"));
builder.Services.AddProblemDetails();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));

var app = builder.Build();
var indexes = app.MapGroup("/indexes").AddEndpointFilter(async (context, next) =>
{
    try
    {
        return await next(context);
    }
    catch (IndexNotFoundException e)
    {
        return Results.Problem(e.Message, statusCode: StatusCodes.Status404NotFound);
    }
    catch (ArgumentException e)
    {
        return Results.Problem(e.Message, statusCode: StatusCodes.Status400BadRequest);
    }
    catch (InvalidOperationException e)
    {
        return Results.Problem(e.Message, statusCode: StatusCodes.Status409Conflict);
    }
});

indexes.MapPut("/{name}", async (string name, CreateIndexRequest request, VectorIndexClient vectors) =>
{
    var description = await vectors.CreateIndexAsync(name, new IndexSpec
    {
        Dimension = request.Dimension,
        ShardCount = request.Shards,
        Metric = request.Metric,
        Factory = request.Factory,
    });
    return Results.Created($"/indexes/{name}", description);
});

indexes.MapGet("/{name}", (string name, VectorIndexClient vectors) => vectors.DescribeIndexAsync(name));

indexes.MapPost("/{name}/vectors", async (string name, AddVectorsRequest request, VectorIndexClient vectors, CancellationToken cancellationToken) =>
{
    var (values, dimension) = Rows.Flatten(request.Vectors, nameof(request.Vectors));
    await vectors.AddAsync(name, values, dimension, request.Ids, cancellationToken: cancellationToken);
    return Results.Ok(new { added = request.Vectors.Length });
});

indexes.MapPost("/{name}/search", async (string name, SearchRequest request, VectorIndexClient vectors, CancellationToken cancellationToken) =>
{
    var (values, dimension) = Rows.Flatten(request.Queries, nameof(request.Queries));
    var found = await vectors.SearchAsync(name, values, dimension, request.K, cancellationToken: cancellationToken);
    return Results.Ok(new SearchResponse(
        [.. Enumerable.Range(0, found.QueryCount).Select(q => found.LabelsOf(q).ToArray())],
        [.. Enumerable.Range(0, found.QueryCount).Select(q => found.DistancesOf(q).ToArray())]));
});

indexes.MapDelete("/{name}", async (string name, VectorIndexClient vectors) =>
    await vectors.DropIndexAsync(name) ? Results.NoContent() : Results.NotFound());

app.Run();

/// <summary>A new index: its dimension, shard count, metric and faiss factory string.</summary>
internal sealed record CreateIndexRequest(int Dimension, int Shards = 1, VectorMetric Metric = VectorMetric.L2, string Factory = "Flat");

/// <summary>Vectors to add, one array per row, with optional caller ids (one per row).</summary>
internal sealed record AddVectorsRequest(float[][] Vectors, long[]? Ids = null);

/// <summary>Queries, one array per row, and how many neighbours each wants.</summary>
internal sealed record SearchRequest(float[][] Queries, int K = 10);

/// <summary>For each query, the ids of its neighbours and their distances, nearest first.</summary>
internal sealed record SearchResponse(long[][] Ids, float[][] Distances);

/// <summary>JSON rows as the row-major floats the client takes.</summary>
internal static class Rows
{
    public static (float[] Values, int Dimension) Flatten(float[][]? rows, string name)
    {
        if (rows is not { Length: > 0 } || rows[0] is not { Length: > 0 } first)
        {
            throw new ArgumentException("At least one non-empty row is required.", name);
        }

        var values = new float[rows.Length * first.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            if (rows[i]?.Length != first.Length)
            {
                throw new ArgumentException($"Row {i} has {rows[i]?.Length ?? 0} values; row 0 has {first.Length}. Every row must have the same length.", name);
            }

            rows[i].CopyTo(values, i * first.Length);
        }

        return (values, first.Length);
    }
}
