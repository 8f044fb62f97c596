using System.Diagnostics;
using System.Text;
using Federation.Contracts.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federation.Testing;

/// <summary>
/// A node in a process of its own, started from the built federation-node.dll, as an
/// operator runs it: so a test can SIGKILL it mid-work and start it again on the same
/// data folder and port. Settings are environment variables (<c>Node__Bus</c>, …).
/// </summary>
public class NodeProcess : IAsyncDisposable
{
    private readonly StringBuilder _log = new();
    private readonly IReadOnlyList<string>? _arguments;
    private readonly string? _workingDirectory;
    private GrpcChannel? _channel;

    public NodeProcess(string name, Dictionary<string, string> settings, string? dataDir = null, string folderPrefix = "fedp")
        : this(name, settings, dataDir, folderPrefix, port: null, arguments: null, workingDirectory: null)
    {
    }

    private NodeProcess(string name, Dictionary<string, string> settings, string? dataDir, string folderPrefix,
        int? port, IReadOnlyList<string>? arguments, string? workingDirectory)
    {
        Name = name;
        DataDir = dataDir ?? Directory.CreateTempSubdirectory($"{folderPrefix}-{name}-").FullName;
        Port = port ?? Ports.Free();
        Settings = settings;
        _arguments = arguments;
        _workingDirectory = workingDirectory;
    }

    /// <summary>
    /// A node started with an operator's own arguments (what follows
    /// <c>dotnet run --project src/Federation.Node --</c>) from <paramref name="workingDirectory"/>,
    /// as the docs' examples start theirs. Its port is <c>--port</c> and its data folder
    /// <c>--data</c> (or <c>data/NAME</c>), as the node reads them.
    /// </summary>
    public static async Task<NodeProcess> StartWithArgumentsAsync(IReadOnlyList<string> args, string workingDirectory,
        Dictionary<string, string> environment)
    {
        string? Value(string option) => args.Select((a, i) => (a, i)).Where(x => x.a == option && x.i + 1 < args.Count)
            .Select(x => args[x.i + 1]).LastOrDefault();
        var name = Value("--name") ?? "node";
        var port = int.Parse(Value("--port") ?? "5000");
        var dataDir = Path.GetFullPath(Value("--data") ?? Path.Combine("data", name), workingDirectory);
        // The same folder, named in full on the command line: tests/run.sh recognises a
        // leftover node by its data folder there.
        var node = new NodeProcess(name, environment, dataDir, "fedp", port, [.. args, "--data", dataDir], workingDirectory);
        await node.StartAgainAsync();
        return node;
    }

    public string Name { get; }

    /// <summary>
    /// A program the node runs under, with its arguments (for example strace): the node's
    /// command follows them. A kill then ends the whole tree, the node with it.
    /// </summary>
    public IReadOnlyList<string> RunUnder { get; init; } = [];

    /// <summary>The node build to run: this tree's, or another release's (<see cref="PreviousRelease"/>); changed between starts to upgrade in place.</summary>
    public string NodeDll { get; set; } = Built.NodeDll;
    public string DataDir { get; }
    public int Port { get; }
    public Dictionary<string, string> Settings { get; }
    public string Address => $"http://127.0.0.1:{Port}";
    public string DbPath => Path.Combine(DataDir, "node.db");
    public string VirtualHost => Settings["Node__RabbitMq__VirtualHost"];
    public string NodeId { get; private set; } = "";
    public string Fingerprint { get; private set; } = "";
    public DelegateService.DelegateServiceClient Delegate { get; private set; } = null!;
    public Metadata Auth { get; private set; } = null!;

    /// <summary>How long a start may take before it counts as failed.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How many log lines <see cref="LogTail()"/> shows.</summary>
    public int TailLines { get; init; } = 40;

    /// <summary>Tells replicas of one node apart in logs.</summary>
    public string? ReplicaName { get; init; }

    /// <summary>The process, while started (it may have exited since).</summary>
    protected Process? Process { get; private set; }

    /// <summary>This process's id while it runs.</summary>
    public int? ProcessId => Process is { HasExited: false } p ? p.Id : null;

    public bool Running => Process is { HasExited: false };

    /// <summary>
    /// Another replica of <paramref name="node"/>: the same node (its data folder, so the
    /// same identity key and operator token; its settings, so the same database and
    /// broker virtual host) in a process of its own on a port of its own.
    /// </summary>
    /// <remarks>
    /// With <paramref name="ownFolder"/>, the replica gets a data folder of its own holding
    /// only the identity key and the operator token (what docs/operators.md says every replica needs),
    /// as replicas on different machines have. <paramref name="settings"/> changes its
    /// settings (a dashboard port of its own, say).
    /// </remarks>
    public static async Task<NodeProcess> StartReplicaAsync(NodeProcess node, string name,
        Action<Dictionary<string, string>>? settings = null, bool ownFolder = false)
    {
        var s = new Dictionary<string, string>(node.Settings);
        settings?.Invoke(s);
        var dataDir = node.DataDir;
        if (ownFolder)
        {
            dataDir = Directory.CreateTempSubdirectory($"fedp-{name}-").FullName;
            foreach (var file in new[] { "node.key", "operator.token" })
            {
                File.Copy(Path.Combine(node.DataDir, file), Path.Combine(dataDir, file));
            }
        }
        var replica = new NodeProcess(node.Name, s, dataDir) { ReplicaName = name };
        await replica.StartAgainAsync();
        return replica;
    }

    /// <summary>Starts the process and waits until it answers over gRPC.</summary>
    public async Task StartAgainAsync()
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var psi = new ProcessStartInfo(RunUnder.Count > 0 ? RunUnder[0] : host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (_workingDirectory is not null)
        {
            psi.WorkingDirectory = _workingDirectory;
        }
        foreach (var arg in RunUnder.Skip(1).Concat(RunUnder.Count > 0 ? [host] : []))
        {
            psi.ArgumentList.Add(arg);
        }
        psi.ArgumentList.Add(NodeDll);
        foreach (var arg in _arguments ?? ["--name", Name, "--port", Port.ToString(), "--data", DataDir])
        {
            psi.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in Settings)
        {
            psi.Environment[key] = value;
        }
        var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Process = process;
        Append($"---- started {Name} (pid {process.Id})");
        // tests/run.sh kills what is listed here if the test host dies before disposing us.
        if (Environment.GetEnvironmentVariable("FED_TEST_PID_DIR") is { Length: > 0 } pids)
        {
            Directory.CreateDirectory(pids);
            await File.WriteAllTextAsync(Path.Combine(pids, process.Id.ToString()), DataDir);
        }

        var until = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (process.HasExited)
            {
                // Without a timeout, this waits for the output readers to reach the end too:
                // the last lines (the reason it exited) may still be on their way.
                process.WaitForExit();
                throw new InvalidOperationException($"{Name} exited with {process.ExitCode} while starting.\n{LogTail()}");
            }
            var tokenFile = Path.Combine(DataDir, "operator.token");
            if (File.Exists(tokenFile))
            {
                _channel ??= GrpcChannel.ForAddress(Address);
                Delegate = new DelegateService.DelegateServiceClient(_channel);
                Auth = new Metadata { { "authorization", "Bearer " + (await File.ReadAllTextAsync(tokenFile)).Trim() } };
                try
                {
                    var info = await Delegate.GetNodeInfoAsync(new GetNodeInfoRequest(), Auth, DateTime.UtcNow.AddSeconds(5));
                    NodeId = info.NodeId;
                    Fingerprint = info.Fingerprint;
                    OnServing();
                    return;
                }
                catch (RpcException) when (DateTime.UtcNow < until)
                {
                    // not serving yet
                }
            }
            if (DateTime.UtcNow > until)
            {
                throw new InvalidOperationException($"{Name} did not start serving within {StartTimeout.TotalSeconds:0}s.\n{LogTail()}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Called once a start has answered.</summary>
    protected virtual void OnServing()
    {
    }

    /// <summary>SIGKILL: no shutdown code runs, as when the machine loses power.</summary>
    public virtual void Kill()
    {
        if (Process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: RunUnder.Count > 0); // SIGKILL on Unix
            p.WaitForExit();
            Append($"---- killed {Name}");
        }
    }

    /// <summary>Both operators add each other: peering is mutual.</summary>
    public static async Task PeerAsync(params NodeProcess[] nodes)
    {
        foreach (var a in nodes)
        {
            foreach (var b in nodes.Where(b => b != a))
            {
                await a.AddPeerAsync(b);
            }
        }
    }

    public async Task AddPeerAsync(NodeProcess other) =>
        await Delegate.AddPeerAsync(new AddPeerRequest { Address = other.Address, Fingerprint = other.Fingerprint }, Auth);

    public Task<CallOutState> PublishAsync(params NodeProcess[] to) => Delegate.PublishSampleAsync(Auth, to.Select(n => n.NodeId));

    public Task CloseAsync(string callOutId) => Delegate.CloseAsync(Auth, callOutId);

    /// <summary>Adds a line to this node's log (the harness marks its own actions with "----").</summary>
    protected void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    public bool LogContains(string text)
    {
        lock (_log)
        {
            return _log.ToString().Contains(text, StringComparison.Ordinal);
        }
    }

    /// <summary>How many log lines contain <paramref name="text"/>: compare before and after a fault.</summary>
    public int LogCount(string text)
    {
        lock (_log)
        {
            return _log.ToString().Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));
        }
    }

    public string LogTail() => LogTail(TailLines);

    public string LogTail(int lines)
    {
        lock (_log)
        {
            var all = _log.ToString().Split('\n');
            return $"==== {Name} log (last {lines} lines) ====\n" + string.Join('\n', all.TakeLast(lines));
        }
    }

    /// <summary>The file name under FED_TEST_LOG_DIR that keeps this node's log.</summary>
    protected virtual string LogFileName => $"{ReplicaName ?? Name}-{Port}.log";

    public async ValueTask DisposeAsync()
    {
        Kill();
        // For diagnosing a run: FED_TEST_LOG_DIR keeps every node process's log.
        if (Environment.GetEnvironmentVariable("FED_TEST_LOG_DIR") is { Length: > 0 } logs)
        {
            Directory.CreateDirectory(logs);
            lock (_log)
            {
                File.WriteAllText(Path.Combine(logs, LogFileName), _log.ToString());
            }
        }
        _channel?.Dispose();
        Process?.Dispose();
        await Task.Yield();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
            // not worth failing a test over
        }
        GC.SuppressFinalize(this);
    }
}
