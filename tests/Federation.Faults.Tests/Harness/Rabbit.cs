using System.Diagnostics;
using System.Text;

namespace Federation.Faults.Tests.Harness;

/// <summary>
/// A RabbitMQ broker of the fault suite's own, from Debian's package, on loopback ports
/// with its own data folder, node name, epmd port and Erlang cookie. Not the broker
/// tests/run.sh starts for the other projects: this one is SIGKILLed, paused and put
/// into resource alarms, so nothing else may depend on it.
/// </summary>
public sealed class Rabbit : IAsyncDisposable
{
    public const string Bin = "/usr/lib/rabbitmq/bin";

    private readonly Dictionary<string, string> _env;
    private readonly StringBuilder _output = new();
    private Process? _server;

    private Rabbit(string dir)
    {
        Dir = dir;
        Port = Ports.Free();
        var name = $"fedfaults-{Environment.ProcessId}-{Path.GetFileName(dir)}@localhost";
        _env = new Dictionary<string, string>
        {
            ["HOME"] = dir,
            ["RABBITMQ_NODENAME"] = name,
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = Port.ToString(),
            ["RABBITMQ_DIST_PORT"] = Ports.Free().ToString(),
            ["ERL_EPMD_PORT"] = Ports.Free().ToString(),
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(dir, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(dir, "log"),
            ["RABBITMQ_PID_FILE"] = Path.Combine(dir, "rabbit.pid"),
            ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(dir, "rabbitmq-env.conf"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(dir, "rabbitmq"),
            ["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(dir, "advanced.config"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(dir, "enabled_plugins"),
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
        };
        File.WriteAllText(Path.Combine(dir, "rabbitmq-env.conf"), "");
        File.WriteAllText(Path.Combine(dir, "enabled_plugins"), "[].");
    }

    public string Dir { get; }
    public int Port { get; }
    private string PidFile => _env["RABBITMQ_PID_FILE"];

    /// <summary>The Erlang VM's pid (what SIGKILL and SIGSTOP must hit), from its pid file.</summary>
    public int Pid => int.Parse(File.ReadAllText(PidFile).Trim());

    public static async Task<Rabbit> StartAsync()
    {
        if (!File.Exists(Path.Combine(Bin, "rabbitmq-server")))
        {
            throw new InvalidOperationException("rabbitmq-server is not installed: `apt-get install rabbitmq-server` (tests/run.sh does it as root).");
        }
        var rabbit = new Rabbit(Directory.CreateTempSubdirectory("fed-faults-rabbit-").FullName);
        await rabbit.StartAgainAsync();
        return rabbit;
    }

    /// <summary>Starts the broker on its data folder (again, after a kill) and waits until it serves.</summary>
    public async Task StartAgainAsync()
    {
        File.Delete(PidFile);
        var psi = new ProcessStartInfo(Path.Combine(Bin, "rabbitmq-server"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (k, v) in _env)
        {
            psi.Environment[k] = v;
        }
        _server = Process.Start(psi)!;
        _server.OutputDataReceived += (_, e) => Append(e.Data);
        _server.ErrorDataReceived += (_, e) => Append(e.Data);
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        await CtlAsync(TimeSpan.FromSeconds(150), "wait", PidFile, "--timeout", "140");
        // tests/run.sh kills what is listed here (if its command line still names our folder)
        // should the test host die before disposing us.
        if (Environment.GetEnvironmentVariable("FED_TEST_PID_DIR") is { Length: > 0 } pids)
        {
            Directory.CreateDirectory(pids);
            await File.WriteAllTextAsync(Path.Combine(pids, Pid.ToString()), Dir);
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    /// <summary>SIGKILL: the VM dies with whatever it had not written to disk.</summary>
    public void Kill()
    {
        var pid = Pid;
        Unix.Signal(pid, Unix.SigKill);
        _server?.WaitForExit(30_000);
        var until = DateTime.UtcNow.AddSeconds(30);
        while (Unix.Alive(pid) && DateTime.UtcNow < until)
        {
            Thread.Sleep(50);
        }
    }

    public void Pause() => Unix.Signal(Pid, Unix.SigStop);

    public void Resume() => Unix.Signal(Pid, Unix.SigCont);

    public async Task<string> NewVirtualHostAsync(string name)
    {
        var vhost = $"{name}-{Guid.NewGuid():N}"[..24];
        await CtlAsync("add_vhost", vhost);
        await CtlAsync("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
        return vhost;
    }

    /// <summary>The broker's active alarms, as Erlang terms (memory, disk).</summary>
    public Task<string> AlarmsAsync() => CtlAsync("eval", "rabbit_alarm:get_alarms().");

    public Task<string> QueuesAsync(string vhost) => CtlAsync("list_queues", "-p", vhost, "name", "type", "messages");

    public Task<string> CtlAsync(params string[] args) => CtlAsync(TimeSpan.FromSeconds(90), args);

    private async Task<string> CtlAsync(TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo(Path.Combine(Bin, "rabbitmqctl")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (k, v) in _env)
        {
            psi.Environment[k] = v;
        }
        psi.ArgumentList.Add("-q");
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        using var cts = new CancellationTokenSource(timeout);
        var stdout = p.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = p.StandardError.ReadToEndAsync(cts.Token);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill();
            throw new TimeoutException($"rabbitmqctl {string.Join(' ', args)} took more than {timeout.TotalSeconds}s.\n{Tail()}");
        }
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', args)} failed ({p.ExitCode}): {await stderr}{await stdout}\n{Tail()}");
        }
        return await stdout;
    }

    public string Tail()
    {
        lock (_output)
        {
            return "==== rabbitmq output ====\n" + string.Join('\n', _output.ToString().Split('\n').TakeLast(20));
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (File.Exists(PidFile) && Unix.Alive(Pid))
            {
                Resume(); // a paused VM cannot stop
                await CtlAsync(TimeSpan.FromSeconds(60), "stop", PidFile);
            }
        }
        catch (Exception)
        {
            try
            {
                Kill();
            }
            catch (Exception)
            {
                // already gone
            }
        }
        // The broker started its own epmd on our port; it outlives the broker unless told to go.
        try
        {
            var psi = new ProcessStartInfo("epmd") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-kill");
            psi.Environment["ERL_EPMD_PORT"] = _env["ERL_EPMD_PORT"];
            using var epmd = Process.Start(psi)!;
            await epmd.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        }
        catch (Exception)
        {
            // nothing to stop
        }
        _server?.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
