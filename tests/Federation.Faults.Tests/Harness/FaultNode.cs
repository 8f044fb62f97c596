using System.Data;
using System.Data.Common;
using System.Diagnostics;
using System.Text;
using Federation.Contracts.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Federation.Faults.Tests.Harness;

/// <summary>
/// A node in a process of its own, from the built federation-node.dll, as an operator
/// runs it: the harness SIGKILLs, pauses and restarts it on the same data folder and
/// port, and may restart it with different settings (a clock put right, say).
/// </summary>
public sealed class FaultNode : IAsyncDisposable
{
    private readonly StringBuilder _log = new();
    private Process? _process;
    private GrpcChannel? _channel;

    public FaultNode(string name, Dictionary<string, string> settings)
    {
        Name = name;
        DataDir = Directory.CreateTempSubdirectory($"fedf-{name}-").FullName;
        Port = Ports.Free();
        Settings = settings;
    }

    public string Name { get; }
    public string DataDir { get; }
    public int Port { get; }
    public Dictionary<string, string> Settings { get; }
    public string DbPath => Path.Combine(DataDir, "node.db");

    /// <summary>True when this node keeps its data in PostgreSQL (<c>Node__Database=postgres</c>) rather than SQLite.</summary>
    public bool OnPostgres => Settings.TryGetValue("Node__Database", out var db) && db == "postgres";

    /// <summary>
    /// A read connection to this node's database, whichever engine it uses: the checker
    /// and the scenarios read the same tables on both (SQL written for both: <c>@name</c>
    /// parameters). SQLite's WAL lets a reader in beside the node's writer.
    /// </summary>
    public DbConnection OpenDatabase()
    {
        if (OnPostgres)
        {
            // Unpooled: a pooled connection would outlive a killed server and fail its next use.
            var pg = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Settings["Node__Postgres__ConnectionString"]) { Pooling = false }.ToString());
            pg.Open();
            return pg;
        }
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DbPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA busy_timeout=10000;";
        cmd.ExecuteNonQuery();
        return c;
    }

    /// <summary>A consistent snapshot for several reads (SQLite: one read transaction; PostgreSQL: repeatable read).</summary>
    public DbTransaction BeginSnapshot(DbConnection c) =>
        c.BeginTransaction(OnPostgres ? IsolationLevel.RepeatableRead : IsolationLevel.Serializable);
    public string NodeId { get; private set; } = "";
    public string Fingerprint { get; private set; } = "";
    public DelegateService.DelegateServiceClient Delegate { get; private set; } = null!;
    public Metadata Auth { get; private set; } = null!;
    public int Pid => _process?.Id ?? 0;

    /// <summary>False while killed or paused: the workload leaves it alone.</summary>
    public bool Up { get; private set; }

    public bool Running => _process is { HasExited: false };

    public bool Paused { get; private set; }

    public async Task StartAsync()
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Built.NodeDll, "--name", Name, "--port", Port.ToString(), "--data", DataDir })
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
        _process = process;
        Append($"---- started {Name} (pid {process.Id})");
        // tests/run.sh kills what is listed here if the test host dies before disposing us.
        if (Environment.GetEnvironmentVariable("FED_TEST_PID_DIR") is { Length: > 0 } pids)
        {
            Directory.CreateDirectory(pids);
            await File.WriteAllTextAsync(Path.Combine(pids, process.Id.ToString()), DataDir);
        }

        var until = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {process.ExitCode} while starting.\n{LogTail()}");
            }
            var tokenFile = Path.Combine(DataDir, "operator.token");
            if (File.Exists(tokenFile))
            {
                _channel ??= GrpcChannel.ForAddress($"http://127.0.0.1:{Port}");
                Delegate = new DelegateService.DelegateServiceClient(_channel);
                Auth = new Metadata { { "authorization", "Bearer " + (await File.ReadAllTextAsync(tokenFile)).Trim() } };
                try
                {
                    var info = await Delegate.GetNodeInfoAsync(new GetNodeInfoRequest(), Auth, DateTime.UtcNow.AddSeconds(5));
                    NodeId = info.NodeId;
                    Fingerprint = info.Fingerprint;
                    Up = true;
                    return;
                }
                catch (RpcException) when (DateTime.UtcNow < until)
                {
                    // not serving yet
                }
            }
            if (DateTime.UtcNow > until)
            {
                throw new InvalidOperationException($"{Name} did not start serving within 120s.\n{LogTail()}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL: no shutdown code runs, as when the machine loses power.</summary>
    public void Kill()
    {
        Up = false;
        if (Paused && Running)
        {
            Resume(); // a stopped process cannot die until continued
            Up = false;
        }
        if (_process is { HasExited: false } p)
        {
            Unix.Signal(p.Id, Unix.SigKill);
            p.WaitForExit();
            Append($"---- killed {Name}");
        }
    }

    /// <summary>SIGSTOP: the process holds its sockets and locks but does nothing.</summary>
    public void Pause()
    {
        Up = false;
        Paused = true;
        Unix.Signal(Pid, Unix.SigStop);
        Append($"---- paused {Name}");
    }

    public void Resume()
    {
        Unix.Signal(Pid, Unix.SigCont);
        Paused = false;
        Append($"---- resumed {Name}");
        Up = true;
    }

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

    /// <summary>How many log lines contain <paramref name="text"/>: compare before and after a fault.</summary>
    public int LogCount(string text)
    {
        lock (_log)
        {
            return _log.ToString().Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));
        }
    }

    public string LogTail(int lines = 30)
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
                File.WriteAllText(Path.Combine(logs, $"faults-{Name}-{Port}.log"), _log.ToString());
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
        }
    }
}

/// <summary>Where the build put the node the harness starts.</summary>
public static class Built
{
    /// <summary>The same configuration and framework as this test assembly (…/bin/Release/net10.0/).</summary>
    public static string NodeDll
    {
        get
        {
            var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var framework = here.Name;
            var configuration = here.Parent!.Name;
            var root = here;
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "Federation.sln")))
            {
                root = root.Parent;
            }
            var path = root is null ? "federation-node.dll"
                : Path.Combine(root.FullName, "src", "Federation.Node", "bin", configuration, framework, "federation-node.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build the solution first (bash tests/run.sh does).");
        }
    }
}
