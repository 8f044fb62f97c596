using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Federation.Load;

/// <summary>
/// Fedify (bench/fedify-fanout, pinned in its package-lock.json) doing the fan-out side by
/// side with the node (issue 20 #6): one Node.js process that sends one signed activity per
/// run to N inboxes on loopback ports of their own, each inbox verifying the signature.
/// Its CPU is read from /proc, as <see cref="ProcCpu"/> reads any process's.
/// </summary>
public sealed class FedifyFanOut : IAsyncDisposable
{
    private readonly Process _node;
    private readonly System.Collections.Concurrent.BlockingCollection<JsonObject> _lines = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _log = new();

    private FedifyFanOut(Process node) => _node = node;

    public static string Folder => Path.Combine(Built.Root, "bench", "fedify-fanout");

    public static string Version => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "package.json")))!["dependencies"]!["@fedify/fedify"]!.GetValue<string>();

    private static bool Installed => Directory.Exists(Path.Combine(Folder, "node_modules", "@fedify", "fedify"));

    /// <summary>
    /// Why Fedify cannot run here, or null when it can. With <paramref name="install"/>, a missing
    /// install is made with <c>npm ci</c> (the versions its package-lock.json pins).
    /// </summary>
    public static async Task<string?> MissingAsync(bool install)
    {
        if (!External.Succeeds("node", "--version"))
        {
            return "Node.js is not installed (apt-get install nodejs npm)";
        }
        if (!Installed && install)
        {
            Report.Progress($"Fedify: installing it in {Folder} (npm ci)…");
            try
            {
                await External.RunAsync("npm", ["ci", "--prefix", Folder, "--no-audit", "--no-fund", "--loglevel=error"]);
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
            {
                return $"npm ci in bench/fedify-fanout failed: {ex.Message.Split('\n')[0]}";
            }
        }
        return Installed ? null : "Fedify is not installed: run `npm ci` in bench/fedify-fanout (tests/run.sh does)";
    }

    public static async Task<FedifyFanOut> StartAsync(int peers)
    {
        var start = new ProcessStartInfo("node", ["fanout.mjs", peers.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            WorkingDirectory = Folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["NODE_NO_WARNINGS"] = "1" },
        };
        var fedify = new FedifyFanOut(Process.Start(start)!);
        fedify._node.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                fedify._lines.CompleteAdding();
                return;
            }
            fedify._log.Enqueue(e.Data);
            if (e.Data.StartsWith('{'))
            {
                fedify._lines.Add(JsonNode.Parse(e.Data)!.AsObject());
            }
        };
        fedify._node.ErrorDataReceived += (_, e) => { if (e.Data is not null) fedify._log.Enqueue("stderr: " + e.Data); };
        fedify._node.BeginOutputReadLine();
        fedify._node.BeginErrorReadLine();
        var ready = await fedify.NextAsync(TimeSpan.FromSeconds(120));
        if (ready["ready"]?.GetValue<bool>() != true)
        {
            throw new InvalidOperationException($"Fedify did not start: {ready.ToJsonString()}\n{fedify.Log}");
        }
        fedify.RsaBits = ready["rsaBits"]?.GetValue<int>() ?? 0;
        return fedify;
    }

    public int Pid => _node.Id;

    /// <summary>The size of the sender's RSA key (bench/fedify-fanout/fanout.mjs says why).</summary>
    public int RsaBits { get; private set; }

    private string Log => string.Join('\n', _log.TakeLast(20));

    /// <summary>One activity to the first <paramref name="peers"/> inboxes; its time in ms once every one has verified it.</summary>
    public async Task<double> RunAsync(int peers)
    {
        await _node.StandardInput.WriteLineAsync($"run {peers}");
        await _node.StandardInput.FlushAsync();
        var answer = await NextAsync(TimeSpan.FromSeconds(300));
        if (answer["error"] is { } error || answer["received"]?.GetValue<int>() is not { } received || received < peers)
        {
            throw new InvalidOperationException($"Fedify's fan-out to {peers} failed: {answer.ToJsonString()}\n{Log}");
        }
        return answer["ms"]!.GetValue<double>();
    }

    private Task<JsonObject> NextAsync(TimeSpan timeout) => Task.Run(() =>
        _lines.TryTake(out var line, timeout) ? line
            : throw new TimeoutException($"Fedify said nothing for {timeout.TotalSeconds:0} s:\n{Log}"));

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _node.StandardInput.WriteLineAsync("quit");
            await _node.StandardInput.FlushAsync();
        }
        catch (IOException)
        {
            // it has gone already
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _node.Kill(entireProcessTree: true);
        }
        _node.Dispose();
        _lines.Dispose();
    }
}

/// <summary>A process's CPU time (user + system) from /proc, as .NET reads its own process's.</summary>
public static class ProcCpu
{
    // USER_HZ: the unit of /proc's times, 100 on Linux whatever the kernel's own tick.
    private const double TicksPerSecond = 100;

    public static TimeSpan Of(int pid)
    {
        // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after the last ')'.
        // utime and stime are fields 14 and 15, the 12th and 13th after the ')'.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }
}
