using System.Net;
using System.Net.Sockets;

namespace Federation.Node.Tests;

/// <summary>
/// A loopback TCP relay to a real server (the test broker), so that a test can make that
/// server unreachable for one node only: <see cref="Cut"/> drops every connection and
/// stops listening, <see cref="Restore"/> listens again on the same port. The server and
/// every other test using it carry on untouched.
/// </summary>
public sealed class TcpProxy : IDisposable
{
    private readonly int _target;
    private readonly Lock _lock = new();
    private readonly List<TcpClient> _connections = [];
    private TcpListener? _listener;
    private CancellationTokenSource _cts = new();

    public TcpProxy(int targetPort)
    {
        _target = targetPort;
        Port = Ports.Free();
        Restore();
    }

    public int Port { get; }

    public void Restore()
    {
        lock (_lock)
        {
            if (_listener is not null)
            {
                return;
            }
            _cts = new CancellationTokenSource();
            _listener = new TcpListener(IPAddress.Loopback, Port);
            _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _listener.Start();
            _ = AcceptAsync(_listener, _cts.Token);
        }
    }

    public void Cut()
    {
        lock (_lock)
        {
            _cts.Cancel();
            _listener?.Stop();
            _listener = null;
            foreach (var c in _connections)
            {
                c.Dispose();
            }
            _connections.Clear();
        }
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync(ct);
            }
            catch (Exception) when (ct.IsCancellationRequested || listener.Server is null)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                return;
            }
            var outbound = new TcpClient();
            try
            {
                await outbound.ConnectAsync(IPAddress.Loopback, _target, ct);
            }
            catch (Exception)
            {
                inbound.Dispose();
                outbound.Dispose();
                continue;
            }
            lock (_lock)
            {
                if (ct.IsCancellationRequested)
                {
                    inbound.Dispose();
                    outbound.Dispose();
                    return;
                }
                _connections.Add(inbound);
                _connections.Add(outbound);
            }
            _ = PumpAsync(inbound, outbound, ct);
            _ = PumpAsync(outbound, inbound, ct);
        }
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to, CancellationToken ct)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream(), ct);
        }
        catch (Exception)
        {
            // a cut, or either side closing
        }
        from.Dispose();
        to.Dispose();
    }

    public void Dispose() => Cut();
}
