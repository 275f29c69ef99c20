using System.Net;
using System.Net.Sockets;

namespace OrleansVectors.Testing;

/// <summary>Free TCP ports on the loopback interface, for the processes tests and benchmarks start.</summary>
public static class LoopbackPorts
{
    /// <summary>
    /// A port nothing listens on at the moment (the system's choice). Another process may take it before the
    /// caller's process binds it: callers that can, retry on other ports.
    /// </summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
