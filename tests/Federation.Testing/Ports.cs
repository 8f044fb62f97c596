using System.Net;
using System.Net.Sockets;

namespace Federation.Testing;

public static class Ports
{
    // Below Linux's ephemeral range (32768-60999): an outgoing connection's local port is
    // never taken from here, so a port handed out stays free for a node that binds it
    // later or binds it again after a restart (the OS's own pick came from that range, and
    // a client connection took one between a node's stop and its start).
    // A node's dashboard defaults to its port + 3000, so that stays below the range too,
    // and is not handed out to another node.
    private const int DashboardOffset = 3_000;
    private const int Low = 10_000;
    private const int High = 32_768 - DashboardOffset;

    private static readonly HashSet<int> Given = [];

    /// <summary>A loopback port free right now and not handed out before in this process.</summary>
    public static int Free()
    {
        lock (Given)
        {
            for (var attempt = 0; attempt < 1_000; attempt++)
            {
                var port = Random.Shared.Next(Low, High);
                if (Given.Contains(port) || Given.Contains(port + DashboardOffset) || Given.Contains(port - DashboardOffset) || !Bindable(port))
                {
                    continue;
                }
                Given.Add(port);
                return port;
            }
        }
        throw new InvalidOperationException($"No free loopback port between {Low} and {High}.");
    }

    /// <summary>Whether nothing listens on <paramref name="port"/> on loopback now.</summary>
    public static bool Bindable(int port)
    {
        try
        {
            using var l = new TcpListener(IPAddress.Loopback, port);
            l.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
