using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Federation.Core.Identity;

namespace Federation.Load;

/// <summary>
/// The fan-out's swarm in a process of its own (<c>--swarm COUNT</c>), all its members on one
/// port. At 10,000 peers the origin's connections and the members' together pass the 20,000
/// open files one process may have here, so the two sides are two processes, as they would be
/// two machines. The parent reads the members from the child's first lines and then speaks to
/// it a line at a time: <c>trust</c> the origin's key (answered <c>trusted</c>), <c>expect</c>
/// an object's acknowledgement by so many members (answered <c>done</c> once they all have).
/// The swarm's CPU is read from /proc and counted with the origin's, as in one process.
/// </summary>
public sealed class SwarmProcess : IAsyncDisposable
{
    public const string Flag = "--swarm";

    public sealed record Peer(string NodeId, string Fingerprint, string Address);

    private readonly Process _process;
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _answers = new();
    private readonly Task _reading;

    private SwarmProcess(Process process, IReadOnlyList<Peer> members)
    {
        _process = process;
        Members = members;
        _reading = ReadAnswersAsync();
    }

    public IReadOnlyList<Peer> Members { get; }

    public TimeSpan Cpu => ProcCpu.Of(_process.Id);

    public static async Task<SwarmProcess> StartAsync(int count)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(typeof(SwarmProcess).Assembly.Location);
        info.ArgumentList.Add(Flag);
        info.ArgumentList.Add(count.ToString(CultureInfo.InvariantCulture));
        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the swarm's process.");
        var members = new List<Peer>(count);
        while (await process.StandardOutput.ReadLineAsync() is { } line && line != "ready")
        {
            var f = line.Split('\t');
            members.Add(new Peer(f[1], f[2], f[3]));
        }
        if (members.Count != count)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"The swarm's process ended after {members.Count} of {count} members (its error output is above).");
        }
        return new SwarmProcess(process, members);
    }

    /// <summary>The members accept events from this node only, as a peer that pinned its key.</summary>
    public Task TrustAsync(NodeIdentity origin) => AskAsync("trusted", $"trust\t{origin.NodeId}\t{Convert.ToBase64String(origin.PublicKey)}");

    /// <summary>Completes when <paramref name="count"/> distinct members have acknowledged the object's events.</summary>
    public Task WhenAcknowledged(string objectId, int count) => AskAsync($"done\t{objectId}", $"expect\t{objectId}\t{count}");

    private Task AskAsync(string answer, string line)
    {
        var waiting = _answers.GetOrAdd(answer, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_process)
        {
            _process.StandardInput.WriteLine(line);
            _process.StandardInput.Flush();
        }
        return waiting.Task;
    }

    private async Task ReadAnswersAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            _answers.GetOrAdd(line, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
        foreach (var waiting in _answers.Values)
        {
            waiting.TrySetException(new InvalidOperationException("The swarm's process ended."));
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Closing its input is the child's signal to stop.
        _process.StandardInput.Close();
        if (!_process.WaitForExit(TimeSpan.FromSeconds(15)))
        {
            _process.Kill(entireProcessTree: true);
        }
        await _reading.ConfigureAwait(false);
        _process.Dispose();
    }

    /// <summary>The child: a swarm on one port, its members on its first lines, then answers until its input closes.</summary>
    public static async Task<int> RunAsync(int count)
    {
        await using var swarm = await Swarm.StartAsync(count, onePort: true);
        var output = TextWriter.Synchronized(Console.Out);
        foreach (var m in swarm.Members)
        {
            output.WriteLine($"member\t{m.NodeId}\t{m.Fingerprint}\t{m.Address}");
        }
        output.WriteLine("ready");
        output.Flush();
        while (await Console.In.ReadLineAsync() is { } line)
        {
            var f = line.Split('\t');
            switch (f[0])
            {
                case "trust":
                    swarm.Trust(f[1], Convert.FromBase64String(f[2]));
                    output.WriteLine("trusted");
                    output.Flush();
                    break;
                case "expect":
                    var objectId = f[1];
                    _ = swarm.WhenAcknowledged(objectId, int.Parse(f[2], CultureInfo.InvariantCulture)).ContinueWith(_ =>
                    {
                        output.WriteLine($"done\t{objectId}");
                        output.Flush();
                    }, TaskScheduler.Default);
                    break;
                default:
                    throw new InvalidOperationException($"The swarm's process got a line it does not know: {line}");
            }
        }
        return 0;
    }
}
