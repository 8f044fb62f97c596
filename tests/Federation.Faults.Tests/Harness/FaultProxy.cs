using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Federation.Faults.Tests.Harness;

/// <summary>
/// A TCP proxy on loopback between two processes (node to node, or node to RabbitMQ)
/// that injects the faults a network has: cut (connections reset, new ones refused),
/// blackhole (bytes stop flowing, as in a partition, and flow again when it heals),
/// delay, loss and a bandwidth limit. gRPC runs HTTP/2, one long-lived connection per
/// peer, so "loss" here is a connection reset at random (that is what TCP makes of
/// heavy loss) on top of the delay.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Connection> _connections = [];
    private readonly Task _accepting;

    public FaultProxy(string name, int targetPort)
    {
        Name = name;
        TargetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public string Name { get; }
    public int Port { get; }
    public int TargetPort { get; set; }
    public string Address => $"http://127.0.0.1:{Port}";

    /// <summary>Reset every connection and refuse new ones (a dead link or a firewall REJECT).</summary>
    public bool Cut { get; private set; }

    /// <summary>Bytes client → target stop flowing (held, not dropped: TCP would retransmit them).</summary>
    public volatile bool HoldRequests;

    /// <summary>Bytes target → client stop flowing: requests arrive, answers do not.</summary>
    public volatile bool HoldReplies;

    /// <summary>Added to every chunk, each way.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Chance, per chunk forwarded, that the connection is reset.</summary>
    public double ResetChance { get; set; }

    /// <summary>Bytes per second each way per connection; 0 is unlimited.</summary>
    public int BytesPerSecond { get; set; }

    public long Resets => Interlocked.Read(ref _resets);

    private long _resets;

    public void Blackhole(bool on) => HoldRequests = HoldReplies = on;

    public void SetCut(bool cut)
    {
        Cut = cut;
        if (cut)
        {
            ResetAll();
        }
    }

    /// <summary>Back to a clean link.</summary>
    public void Heal()
    {
        Cut = false;
        HoldRequests = HoldReplies = false;
        Delay = TimeSpan.Zero;
        ResetChance = 0;
        BytesPerSecond = 0;
    }

    public void ResetAll()
    {
        Connection[] all;
        lock (_connections)
        {
            all = [.. _connections];
        }
        foreach (var c in all)
        {
            c.Reset();
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            if (Cut)
            {
                Abort(client);
                continue;
            }
            _ = Task.Run(() => ConnectAsync(client));
        }
    }

    private async Task ConnectAsync(Socket client)
    {
        var target = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await target.ConnectAsync(IPAddress.Loopback, TargetPort, _stop.Token);
        }
        catch (Exception)
        {
            // Target down: the client sees what it would see without us, a refused connection.
            Abort(client);
            target.Dispose();
            return;
        }
        var connection = new Connection(this, client, target);
        lock (_connections)
        {
            _connections.Add(connection);
        }
        await connection.RunAsync();
        lock (_connections)
        {
            _connections.Remove(connection);
        }
    }

    private static void Abort(Socket s)
    {
        try
        {
            s.LingerState = new LingerOption(true, 0); // close with RST, not FIN
            s.Close();
        }
        catch (Exception)
        {
            // already gone
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        ResetAll();
        await _accepting;
    }

    private sealed class Connection(FaultProxy proxy, Socket client, Socket target)
    {
        private readonly CancellationTokenSource _done = CancellationTokenSource.CreateLinkedTokenSource(proxy._stop.Token);
        private int _reset;

        public async Task RunAsync()
        {
            await Task.WhenAll(PumpAsync(client, target, toTarget: true), PumpAsync(target, client, toTarget: false));
            Reset();
        }

        public void Reset()
        {
            if (Interlocked.Exchange(ref _reset, 1) == 0)
            {
                _done.Cancel();
                Abort(client);
                Abort(target);
            }
        }

        private bool Held(bool toTarget) => toTarget ? proxy.HoldRequests : proxy.HoldReplies;

        private async Task PumpAsync(Socket from, Socket to, bool toTarget)
        {
            // Reader and writer are apart so a delay holds each chunk for its own time
            // (a pipe with latency), not for the sum of the chunks before it.
            var chunks = Channel.CreateUnbounded<(long Due, byte[] Bytes)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            var ct = _done.Token;
            var writer = Task.Run(async () =>
            {
                try
                {
                    await foreach (var (due, bytes) in chunks.Reader.ReadAllAsync(ct))
                    {
                        var wait = due - Environment.TickCount64;
                        if (wait > 0)
                        {
                            await Task.Delay(TimeSpan.FromMilliseconds(wait), ct);
                        }
                        while (Held(toTarget) && !proxy.Cut)
                        {
                            await Task.Delay(20, ct);
                        }
                        if (proxy.Cut)
                        {
                            Reset();
                            return;
                        }
                        await to.SendAsync(bytes, SocketFlags.None, ct);
                        if (proxy.BytesPerSecond > 0)
                        {
                            await Task.Delay(TimeSpan.FromSeconds((double)bytes.Length / proxy.BytesPerSecond), ct);
                        }
                    }
                    to.Shutdown(SocketShutdown.Send);
                }
                catch (Exception)
                {
                    Reset();
                }
            });
            var buffer = new byte[16 * 1024];
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    while (Held(toTarget) && !proxy.Cut)
                    {
                        await Task.Delay(20, ct); // stop reading: the sender's TCP buffers fill, as in a partition
                    }
                    // A bandwidth limit reads small chunks so the pacing is smooth.
                    var size = proxy.BytesPerSecond > 0 ? Math.Min(buffer.Length, Math.Max(256, proxy.BytesPerSecond / 20)) : buffer.Length;
                    var n = await from.ReceiveAsync(buffer.AsMemory(0, size), SocketFlags.None, ct);
                    if (n == 0)
                    {
                        break;
                    }
                    if (proxy.Cut || (proxy.ResetChance > 0 && Random.Shared.NextDouble() < proxy.ResetChance))
                    {
                        Interlocked.Increment(ref proxy._resets);
                        Reset();
                        break;
                    }
                    chunks.Writer.TryWrite((Environment.TickCount64 + (long)proxy.Delay.TotalMilliseconds, buffer[..n]));
                }
            }
            catch (Exception)
            {
                Reset();
            }
            chunks.Writer.TryComplete();
            await writer;
        }
    }
}
