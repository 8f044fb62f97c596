using System.Diagnostics;
using System.Text;
using Federation.Contracts.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federation.Node.Tests;

/// <summary>
/// A node in a process of its own, started from the built federation-node.dll, as an
/// operator runs it: so a test can SIGKILL it mid-work and start it again on the same
/// data folder and port.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Dictionary<string, string> _settings;
    private readonly IReadOnlyList<string>? _arguments;
    private readonly string? _workingDirectory;
    private readonly StringBuilder _log = new();
    private Process? _process;
    private GrpcChannel? _channel;

    private NodeProcess(string name, Dictionary<string, string> settings, string? dataDir = null,
        int? port = null, IReadOnlyList<string>? arguments = null, string? workingDirectory = null)
    {
        Name = name;
        DataDir = dataDir ?? Directory.CreateTempSubdirectory($"fedp-{name}-").FullName;
        Port = port ?? TestNode.FreePort();
        _settings = settings;
        _arguments = arguments;
        _workingDirectory = workingDirectory;
    }

    public string Name { get; }
    public string DataDir { get; }
    public int Port { get; }
    public string Address => $"http://127.0.0.1:{Port}";
    public string DbPath => Path.Combine(DataDir, "node.db");
    public string VirtualHost => _settings["Node__RabbitMq__VirtualHost"];
    public string NodeId { get; private set; } = "";
    public string Fingerprint { get; private set; } = "";
    public DelegateService.DelegateServiceClient Delegate { get; private set; } = null!;
    public Metadata Auth { get; private set; } = null!;

    /// <summary>Quick retries so fault tests finish in seconds; a test overrides any of them.</summary>
    public static Dictionary<string, string> Fast(string vhost) => new()
    {
        ["Node__Bus"] = "rabbitmq",
        ["Node__RabbitMq__Host"] = "127.0.0.1",
        ["Node__RabbitMq__Port"] = Broker.Port.ToString(),
        ["Node__RabbitMq__VirtualHost"] = vhost,
        ["Node__DispatchInterval"] = "00:00:00.200",
        ["Node__RetryBaseDelay"] = "00:00:00.200",
        ["Node__RetryMaxDelay"] = "00:00:01",
        ["Node__PeerCallTimeout"] = "00:00:05",
        ["Node__PeerCircuitBreakDuration"] = "00:00:01",
        // These tests publish as fast as they can to put work in flight before a fault;
        // the per-token limit is tested on its own (HostileInputCatalogueTests), not here.
        ["Node__DelegateRequestsPerSecond"] = "10000",
    };

    /// <summary>Starts a node on the test RabbitMQ, in a virtual host of its own.</summary>
    public static async Task<NodeProcess> StartAsync(string name, Action<Dictionary<string, string>>? settings = null)
    {
        var s = Fast(await Broker.NewVirtualHostAsync(name));
        settings?.Invoke(s);
        var node = new NodeProcess(name, s);
        await node.StartAgainAsync();
        return node;
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
        var node = new NodeProcess(name, environment, dataDir, port, [.. args, "--data", dataDir], workingDirectory);
        await node.StartAgainAsync();
        return node;
    }

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
        var s = new Dictionary<string, string>(node._settings);
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

    /// <summary>This process's id while it runs.</summary>
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>Tells replicas of one node apart in logs.</summary>
    public string? ReplicaName { get; private init; }

    public async Task StartAgainAsync()
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (_workingDirectory is not null)
        {
            psi.WorkingDirectory = _workingDirectory;
        }
        psi.ArgumentList.Add(Built.NodeDll);
        foreach (var arg in _arguments ?? ["--name", Name, "--port", Port.ToString(), "--data", DataDir])
        {
            psi.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in _settings)
        {
            psi.Environment[key] = value;
        }
        var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Append($"---- started {Name} (pid {process.Id})");
        // tests/run.sh kills what is listed here if the test host dies before disposing us.
        if (Environment.GetEnvironmentVariable("FED_TEST_PID_DIR") is { Length: > 0 } pids)
        {
            Directory.CreateDirectory(pids);
            await File.WriteAllTextAsync(Path.Combine(pids, process.Id.ToString()), DataDir);
        }

        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
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
                    return;
                }
                catch (RpcException) when (DateTime.UtcNow < until)
                {
                    // not serving yet
                }
            }
            if (DateTime.UtcNow > until)
            {
                throw new InvalidOperationException($"{Name} did not start serving within 60s.\n{LogTail()}");
            }
            await Task.Delay(100);
        }
    }

    public bool Running => _process is { HasExited: false };

    /// <summary>SIGKILL: no shutdown code runs, as when the machine loses power.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(); // SIGKILL on Unix
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

    public async Task<CallOutState> PublishAsync(params NodeProcess[] to)
    {
        var request = new PublishCallOutRequest { Content = Samples.CallOut() };
        request.Recipients.AddRange(to.Select(n => n.NodeId));
        return await Delegate.PublishCallOutAsync(request, Auth);
    }

    public async Task CloseAsync(string callOutId) =>
        await Delegate.CloseCallOutAsync(new CloseCallOutRequest { CallOutId = callOutId, Reason = "done" }, Auth);

    private void Append(string? line)
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

    public string LogTail(int lines = 40)
    {
        lock (_log)
        {
            var all = _log.ToString().Split('\n');
            return $"==== {Name} log (last {lines} lines) ====\n" + string.Join('\n', all.TakeLast(lines));
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        // For diagnosing a run: FED_TEST_LOG_DIR keeps every node process's log.
        if (Environment.GetEnvironmentVariable("FED_TEST_LOG_DIR") is { Length: > 0 } logs)
        {
            Directory.CreateDirectory(logs);
            lock (_log)
            {
                File.WriteAllText(Path.Combine(logs, $"{ReplicaName ?? Name}-{Port}.log"), _log.ToString());
            }
        }
        _channel?.Dispose();
        _process?.Dispose();
        await Task.Yield();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
            // not worth failing a test over
        }
    }
}

/// <summary>Where the build put the programs the process tests start.</summary>
public static class Built
{
    public static string NodeDll => Find(Path.Combine("src", "Federation.Node"), "federation-node.dll");
    public static string CliDll => Find(Path.Combine("src", "Federation.Cli"), "solnet.dll");

    /// <summary>The repository: the folder above this test assembly that holds Federation.sln.</summary>
    public static string Root
    {
        get
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "Federation.sln")))
            {
                root = root.Parent;
            }
            return root?.FullName ?? throw new DirectoryNotFoundException($"No Federation.sln above {AppContext.BaseDirectory}.");
        }
    }

    /// <summary>The same configuration and framework as this test assembly (…/bin/Release/net10.0/).</summary>
    private static string Find(string project, string file)
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = here.Name;
        var configuration = here.Parent!.Name;
        var path = Path.Combine(Root, project, "bin", configuration, framework, file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build the solution first (bash tests/run.sh does).");
    }
}
