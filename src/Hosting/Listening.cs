using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Orchestrator.Hosting;

/// <summary>Where a process's HTTP ports (the gRPC API, /metrics) listen: the address of --bind, which defaults to --hostname.</summary>
public static class Listening
{
    /// <summary>Every interface: what --bind 0.0.0.0 (or *) asks for.</summary>
    public const string Everywhere = "0.0.0.0";

    /// <summary>
    /// Listens on <paramref name="port"/> at <paramref name="address"/>: an IP address, localhost (loopback, IPv4 and
    /// IPv6), 0.0.0.0 or * (every interface), or a name, which is every interface too: Kestrel binds addresses, and a
    /// Kubernetes pod's DNS name (its --hostname there) may not resolve yet when it starts.
    /// </summary>
    public static void Listen(this KestrelServerOptions kestrel, string address, int port, Action<ListenOptions> configure)
    {
        if (address == "localhost") kestrel.ListenLocalhost(port, configure);
        else if (address != "*" && address != Everywhere && IPAddress.TryParse(address, out var ip)) kestrel.Listen(ip, port, configure);
        else kestrel.ListenAnyIP(port, configure);
    }
}
