using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Federation.Faults.Tests.Harness;

/// <summary>
/// A node in a process of its own (<see cref="NodeProcess"/>): the harness also pauses it,
/// and may restart it with different settings (a clock put right, say), and reads its
/// database, SQLite or PostgreSQL.
/// </summary>
public sealed class FaultNode : NodeProcess
{
    /// <summary>The storage passphrase of the nodes that seal at rest (issue 24); the checker opens their sealed events with it.</summary>
    public const string StoragePassphrase = "fault suite storage passphrase";

    /// <summary>The setting that makes a node unlock (or set its key up) at start, and a file holding <see cref="StoragePassphrase"/>.</summary>
    public static KeyValuePair<string, string> UnlockAtStart { get; } = new("Node__StoragePassphraseFile", PassphraseFile());

    private static string PassphraseFile()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("fedfault-pass-").FullName, "storage-passphrase");
        File.WriteAllText(path, StoragePassphrase + "\n");
        return path;
    }

    /// <param name="dataDir">A data folder prepared beforehand (a restore, a new server's key); by default a new one.</param>
    public FaultNode(string name, Dictionary<string, string> settings, string? dataDir = null)
        : base(name, settings, dataDir, folderPrefix: "fedf")
    {
        StartTimeout = TimeSpan.FromSeconds(120);
        TailLines = 30;
    }

    /// <summary>True when this node keeps its data in PostgreSQL (<c>Node__Database=postgres</c>) rather than SQLite.</summary>
    public bool OnPostgres => Settings.TryGetValue("Node__Database", out var db) && db == "postgres";

    /// <summary>The PostgreSQL database this node uses now: a seizure drill moves a network to a new one.</summary>
    public string DatabaseName => new Npgsql.NpgsqlConnectionStringBuilder(Settings["Node__Postgres__ConnectionString"]).Database!;

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
    public int Pid => Process?.Id ?? 0;

    /// <summary>False while killed or paused: the workload leaves it alone.</summary>
    public bool Up { get; private set; }

    public bool Paused { get; private set; }

    /// <summary>Starts the process (again) and waits until it serves; a slow start on a busy machine is allowed for.</summary>
    public Task StartAsync() => StartAgainAsync();

    protected override void OnServing() => Up = true;

    /// <summary>SIGKILL: no shutdown code runs, as when the machine loses power.</summary>
    public override void Kill()
    {
        Up = false;
        if (Paused && Running)
        {
            Resume(); // a stopped process cannot die until continued
            Up = false;
        }
        if (Process is { HasExited: false } p)
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

    protected override string LogFileName => $"faults-{Name}-{Port}.log";
}
