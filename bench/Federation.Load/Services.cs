using System.Diagnostics;
using Npgsql;

namespace Federation.Load;

/// <summary>
/// A throwaway PostgreSQL cluster for the scaled shape's measurements (issue 20 #5), started
/// as tests/run.sh starts the tests' one: Debian's initdb in a temporary folder, a free
/// loopback port, trust for its own user on loopback only, and as root the server runs as the
/// distribution's postgres user. Unlike the tests' cluster, fsync stays on: SQLite, which it
/// is compared with, writes with synchronous=FULL.
/// </summary>
public sealed class LoadPostgres : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string? _runAs;

    private LoadPostgres(string dir, string bin, string? runAs, int port)
    {
        Dir = dir;
        _bin = bin;
        _runAs = runAs;
        Port = port;
    }

    public string Dir { get; }
    public int Port { get; }

    /// <summary>Why PostgreSQL cannot be started here, or null when it can.</summary>
    public static string? Missing() => Bin() is null
        ? "PostgreSQL's initdb is not under /usr/lib/postgresql (apt-get install postgresql)"
        : Environment.UserName == "root" && !External.Succeeds("id", "postgres") ? "running as root and there is no postgres user to run PostgreSQL as"
        : null;

    private static string? Bin() => Directory.Exists("/usr/lib/postgresql")
        ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
            .Where(b => File.Exists(Path.Combine(b, "initdb")))
            .OrderBy(b => Version.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : new Version(0, 0)).LastOrDefault()
        : null;

    public static async Task<LoadPostgres> StartAsync()
    {
        var bin = Bin() ?? throw new InvalidOperationException(Missing());
        var runAs = Environment.UserName == "root" ? "postgres" : null;
        var dir = Directory.CreateTempSubdirectory("fed-load-postgres-").FullName;
        await External.RunAsync("chmod", ["755", dir]);
        if (runAs is not null)
        {
            await External.RunAsync("chown", [runAs, dir]);
        }
        var pg = new LoadPostgres(dir, bin, runAs, Ports.Free());
        await pg.AsServerUserAsync("initdb", "-D", Path.Combine(dir, "data"), "-U", "fed", "--auth=trust", "--no-locale", "-E", "UTF8");
        await pg.AsServerUserAsync("pg_ctl", "-D", Path.Combine(dir, "data"), "-l", Path.Combine(dir, "server.log"), "-w", "-t", "120",
            "-o", $"-p {pg.Port} -k {dir} -c listen_addresses=127.0.0.1 -c max_connections=300", "start");
        return pg;
    }

    /// <summary>A new, empty database in the cluster, and a connection string to it.</summary>
    public async Task<string> NewDatabaseAsync(string name)
    {
        var admin = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "fed", Database = "postgres", Pooling = false };
        await using (var c = new NpgsqlConnection(admin.ToString()))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", c);
            await cmd.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "fed", Database = name }.ToString();
    }

    private Task AsServerUserAsync(string tool, params string[] args) => _runAs is null
        ? External.RunAsync(Path.Combine(_bin, tool), args)
        : External.RunAsync("runuser", ["-u", _runAs, "--", Path.Combine(_bin, tool), .. args]);

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await AsServerUserAsync("pg_ctl", "-D", Path.Combine(Dir, "data"), "-m", "immediate", "-w", "-t", "60", "stop");
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
        {
            Report.Progress($"  (stopping the load tool's PostgreSQL: {ex.Message})");
        }
        Directory.Delete(Dir, recursive: true);
    }
}

/// <summary>
/// A throwaway RabbitMQ broker from Debian's package, as tests/run.sh starts the tests' one:
/// its own data folder, node name, loopback ports, epmd and Erlang cookie (HOME), so it
/// clashes with nothing else on the machine. Classic durable queues, the node's default.
/// </summary>
public sealed class LoadRabbit : IAsyncDisposable
{
    private const string Bin = "/usr/lib/rabbitmq/bin"; // Debian's real scripts; /usr/sbin's wrappers switch user

    private readonly Dictionary<string, string> _env;
    private Process? _server;

    private LoadRabbit(string dir)
    {
        Dir = dir;
        Port = Ports.Free();
        _env = new Dictionary<string, string>
        {
            ["HOME"] = dir,
            ["RABBITMQ_NODENAME"] = $"fedload-{Environment.ProcessId}@localhost",
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RABBITMQ_DIST_PORT"] = Ports.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ERL_EPMD_PORT"] = Ports.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
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

    /// <summary>Why RabbitMQ cannot be started here, or null when it can.</summary>
    public static string? Missing() => File.Exists(Path.Combine(Bin, "rabbitmq-server"))
        ? null
        : "rabbitmq-server is not installed (apt-get install rabbitmq-server)";

    public static async Task<LoadRabbit> StartAsync()
    {
        var rabbit = new LoadRabbit(Directory.CreateTempSubdirectory("fed-load-rabbit-").FullName);
        var psi = new ProcessStartInfo(Path.Combine(Bin, "rabbitmq-server")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (k, v) in rabbit._env)
        {
            psi.Environment[k] = v;
        }
        rabbit._server = Process.Start(psi)!;
        rabbit._server.OutputDataReceived += (_, _) => { };
        rabbit._server.ErrorDataReceived += (_, _) => { };
        rabbit._server.BeginOutputReadLine();
        rabbit._server.BeginErrorReadLine();
        await rabbit.CtlAsync("wait", rabbit._env["RABBITMQ_PID_FILE"], "--timeout", "140");
        return rabbit;
    }

    /// <summary>The broker's Erlang VM's pid (its CPU is part of the RabbitMQ fan-out's cost).</summary>
    public int Pid => int.Parse(File.ReadAllText(_env["RABBITMQ_PID_FILE"]).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    private Task CtlAsync(params string[] args) =>
        External.RunAsync(Path.Combine(Bin, "rabbitmqctl"), ["-q", .. args], _env);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await CtlAsync("stop", _env["RABBITMQ_PID_FILE"]);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
        {
            _server?.Kill(entireProcessTree: true);
        }
        // The broker started its own epmd on its port; it outlives the broker unless told to go.
        try
        {
            await External.RunAsync("epmd", ["-kill"], _env);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            // no epmd of ours left
        }
        _server?.Dispose();
        Directory.Delete(Dir, recursive: true);
    }
}

/// <summary>Runs a command to its end, or throws with what it printed.</summary>
public static class External
{
    public static bool Succeeds(string file, params string[] args)
    {
        try
        {
            RunAsync(file, args).GetAwaiter().GetResult();
            return true;
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    public static async Task RunAsync(string file, string[] args, IReadOnlyDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} took more than 150 s.");
        }
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {await stderr}{await stdout}");
        }
    }
}
