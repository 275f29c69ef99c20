using Microsoft.Extensions.Logging;
using OrleansVectors.Cli;
using OrleansVectors.Client.Hosting;

// the tool reports failures itself, in one line: the client's own logging stays off
return await new OvxCommandLine((connection, timeout) => ClusterConnectionExtensions.ConnectAsync(connection, timeout, logging => logging.ClearProviders()))
    .InvokeAsync(args);
