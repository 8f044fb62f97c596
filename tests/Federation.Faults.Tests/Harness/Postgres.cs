using System.Diagnostics;
using Npgsql;

namespace Federation.Faults.Tests.Harness;

/// <summary>
/// A PostgreSQL cluster of the fault suite's own: initdb in a temporary folder, started on
/// a free loopback port with its socket in that folder. Not the cluster tests/run.sh
/// starts for the other projects (FED_TEST_POSTGRES): this one is SIGKILLed in the middle
/// of a node's transactions, so nothing else may depend on it. As root, initdb and the
/// server run as the distribution's postgres user (they refuse to run as root).
/// </summary>
public sealed class Postgres : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string? _runAs;

    private Postgres(string dir, string bin, string? runAs)
    {
        Dir = dir;
        _bin = bin;
        _runAs = runAs;
        Port = Ports.Free();
    }

    public string Dir { get; }
    public int Port { get; }
    private string DataDir => Path.Combine(Dir, "data");

    /// <summary>A connection string to <paramref name="database"/> (user <c>fed</c>, trusted on loopback only).</summary>
    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "fed", Database = database }.ToString();

    /// <summary>The postmaster's pid, from the first line of its pid file.</summary>
    /// <summary>For the harness's own reads and admin: unpooled, since a pooled connection would outlive a kill.</summary>
    public string AdminConnectionString =>
        new NpgsqlConnectionStringBuilder(ConnectionString("postgres")) { Pooling = false }.ToString();

    public int Pid => int.Parse(File.ReadLines(Path.Combine(DataDir, "postmaster.pid")).First().Trim());

    public bool Running => File.Exists(Path.Combine(DataDir, "postmaster.pid")) && Unix.Alive(Pid);

    public static async Task<Postgres> StartAsync()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb"))).OrderBy(b => Version.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : new Version(0, 0)).LastOrDefault()
            : null;
        if (bin is null)
        {
            throw new InvalidOperationException("PostgreSQL's initdb was not found under /usr/lib/postgresql: `apt-get install postgresql`.");
        }
        string? runAs = null;
        if (Environment.UserName == "root")
        {
            // tests/run.sh makes a throwaway system user when the distribution's is missing.
            runAs = await UserExistsAsync("postgres") ? "postgres" : await UserExistsAsync("fedtestpg") ? "fedtestpg"
                : throw new InvalidOperationException("Running as root, and neither the postgres user nor fedtestpg exists to run PostgreSQL as.");
        }
        var dir = Directory.CreateTempSubdirectory("fed-faults-postgres-").FullName;
        await RunAsync("chmod", ["755", dir]);
        if (runAs is not null)
        {
            await RunAsync("chown", [runAs, dir]);
        }
        var pg = new Postgres(dir, bin, runAs);
        await pg.AsServerUserAsync("initdb", "-D", pg.DataDir, "-U", "fed", "--auth=trust", "--no-locale", "-E", "UTF8");
        await pg.StartAgainAsync();
        return pg;
    }

    /// <summary>Starts the server on its data folder (again, after a kill: it recovers from its WAL) and waits until it serves.</summary>
    public async Task StartAgainAsync()
    {
        // fsync stays on: a process killed in the middle of a transaction is the point, and
        // the server must recover from exactly what it wrote.
        await AsServerUserAsync("pg_ctl", "-D", DataDir, "-l", Path.Combine(Dir, "server.log"), "-w", "-t", "120",
            "-o", $"-p {Port} -k {Dir} -c listen_addresses=127.0.0.1 -c max_connections=200", "start");
        // tests/run.sh kills what is listed here (if its command line still names our folder)
        // should the test host die before disposing us.
        if (Environment.GetEnvironmentVariable("FED_TEST_PID_DIR") is { Length: > 0 } pids)
        {
            Directory.CreateDirectory(pids);
            await File.WriteAllTextAsync(Path.Combine(pids, Pid.ToString()), Dir);
        }
    }

    public async Task CreateDatabaseAsync(string name)
    {
        await using var c = new NpgsqlConnection(AdminConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", c);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// <c>pg_dump --format=custom</c> of <paramref name="database"/> into <paramref name="file"/>,
    /// the documented backup of a node on PostgreSQL (docs/operators.md, "Backups and restore").
    /// </summary>
    public Task DumpAsync(string database, string file) =>
        RunAsync(Path.Combine(_bin, "pg_dump"), ["--format=custom", $"--file={file}", $"--dbname={ClientDbName(database)}"]);

    /// <summary>The documented restore: an empty database <paramref name="database"/>, and <c>pg_restore</c> of <paramref name="file"/> into it.</summary>
    public async Task RestoreAsync(string database, string file)
    {
        await CreateDatabaseAsync(database);
        await RunAsync(Path.Combine(_bin, "pg_restore"), ["--no-owner", "--exit-on-error", $"--dbname={ClientDbName(database)}", file]);
    }

    private string ClientDbName(string database) => $"host=127.0.0.1 port={Port} user=fed dbname={database}";

    /// <summary>
    /// SIGKILL to the postmaster and every backend at once: open transactions die without
    /// a commit or a rollback, as when the machine loses power (the OS keeps what was written).
    /// </summary>
    public void Kill()
    {
        var postmaster = Pid;
        var all = new[] { postmaster }.Concat(ChildrenOf(postmaster)).ToList();
        foreach (var pid in all)
        {
            try
            {
                Unix.Signal(pid, Unix.SigKill);
            }
            catch (InvalidOperationException)
            {
                // exited on its own between the listing and the signal
            }
        }
        var until = DateTime.UtcNow.AddSeconds(30);
        while (all.Any(Unix.Alive) && DateTime.UtcNow < until)
        {
            Thread.Sleep(50);
        }
    }

    /// <summary>Processes whose parent is <paramref name="parent"/> (from /proc: the backends, checkpointer, walwriter…).</summary>
    private static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var d in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(d), out var pid))
            {
                continue;
            }
            try
            {
                // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after the last ')'.
                var stat = File.ReadAllText(Path.Combine(d, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1]) == parent)
                {
                    children.Add(pid);
                }
            }
            catch (IOException)
            {
                // gone meanwhile
            }
        }
        return children;
    }

    private Task AsServerUserAsync(string tool, params string[] args) =>
        _runAs is null
            ? RunAsync(Path.Combine(_bin, tool), args)
            : RunAsync("runuser", ["-u", _runAs, "--", Path.Combine(_bin, tool), .. args]);

    private static async Task<bool> UserExistsAsync(string name)
    {
        try
        {
            await RunAsync("id", [name]);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static async Task RunAsync(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill();
            throw new TimeoutException($"{file} {string.Join(' ', args)} took more than 150s.");
        }
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {await stderr}{await stdout}");
        }
    }

    public string Tail()
    {
        var log = Path.Combine(Dir, "server.log");
        return "==== postgresql log ====\n" + (File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(20)) : "(none)");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Running)
            {
                await AsServerUserAsync("pg_ctl", "-D", DataDir, "-m", "immediate", "-w", "-t", "60", "stop");
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
