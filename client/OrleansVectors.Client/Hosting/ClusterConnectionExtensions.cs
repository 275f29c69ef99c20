using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansVectors.Connections;

namespace OrleansVectors.Client.Hosting;

/// <summary>Connects Orleans clients to an OrleansVectors cluster.</summary>
public static class ClusterConnectionExtensions
{
    /// <summary>
    /// Connects to the cluster described by configuration section <paramref name="configSectionPath"/> (bound to
    /// <see cref="ClusterConnectionOptions"/>, validated when the client starts), and adds <see cref="VectorIndexClient"/>.
    /// </summary>
    public static IClientBuilder UseOrleansVectorsCluster(this IClientBuilder builder, string configSectionPath = ClusterConnectionOptions.SectionName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(configSectionPath);
        // the binder appends a configured list to the default one: start from none, default only when none is configured
        builder.Services.AddOptions<ClusterConnectionOptions>()
            .Configure(o => o.GatewayPorts = [])
            .BindConfiguration(configSectionPath)
            .PostConfigure(o => o.GatewayPorts = o.GatewayPorts.Count == 0 ? [ClusterSettings.DefaultGatewayPort] : o.GatewayPorts)
            .ValidateOnStart();

        // the membership provider is chosen now, as the client is built; the values come from the validated options
        var section = builder.Configuration.GetSection(configSectionPath);
        return builder.UseConnection(section.GetValue(nameof(ClusterConnectionOptions.Clustering), ClusteringKind.Localhost), section[nameof(ClusterConnectionOptions.ApiKey)]);
    }

    /// <summary>Connects to the cluster <paramref name="connection"/> describes (validated when the client starts), and adds <see cref="VectorIndexClient"/>.</summary>
    public static IClientBuilder UseOrleansVectorsCluster(this IClientBuilder builder, ClusterConnectionOptions connection)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connection);
        builder.Services.AddOptions<ClusterConnectionOptions>().Configure(connection.CopyTo).ValidateOnStart();
        return builder.UseConnection(connection.Clustering, connection.ApiKey);
    }

    /// <summary>
    /// Starts a client of the cluster, retrying while silos start, and gives up after <paramref name="timeout"/> with a
    /// <see cref="TimeoutException"/> that says where it looked and the last error. Settings that break their rules
    /// fail at once with <see cref="OptionsValidationException"/>, naming each setting.
    /// </summary>
    public static async Task<IHost> ConnectAsync(ClusterConnectionOptions connection, TimeSpan timeout, Action<ILoggingBuilder>? logging = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var deadline = new CancellationTokenSource(timeout);
        Exception? last = null;
        while (!deadline.IsCancellationRequested)
        {
            var builder = Host.CreateApplicationBuilder();
            logging?.Invoke(builder.Logging);
            builder.UseOrleansClient(client => client.UseOrleansVectorsCluster(connection));
            var host = builder.Build();
            try
            {
                await host.StartAsync(deadline.Token);
                return host;
            }
            catch (OptionsValidationException)
            {
                host.Dispose();
                throw;
            }
            catch (Exception e)
            {
                last = e;
                host.Dispose();
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        throw new TimeoutException(
            $"No gateway answered {connection.Describe()} within {timeout.TotalSeconds:0} s ({(last is null or OperationCanceledException ? "no answer" : last.Message.Split('\n')[0])}). Is the cluster running?");
    }

    private static IClientBuilder UseConnection(this IClientBuilder builder, ClusteringKind clustering, string? apiKey)
    {
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ClusterConnectionOptions>, ClusterConnectionOptionsValidator>());
        return builder
            .UseOrleansVectorsCluster<ClusterConnectionOptions>(clustering, connection => connection.GatewayPorts)
            .AddOrleansVectors(apiKey);
    }
}
