using Federation.Core;
using Federation.Core.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Federation.Storage.Tests;

/// <summary>A fresh, empty database of one engine for one test, opened as often as a test needs (one store per replica).</summary>
public interface ITestDatabase : IDisposable
{
    IFederationStore Open();
}

public sealed class SqliteDatabase : ITestDatabase
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fed-contract-").FullName;

    public IFederationStore Open() => new SqliteStore(new NodeOptions { DataDir = _dir });

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>
/// A database of its own on the throwaway PostgreSQL that tests/run.sh starts
/// (FED_TEST_POSTGRES: a connection string to its maintenance database).
/// </summary>
public sealed class PostgresDatabase : ITestDatabase
{
    public const string Unset = "FED_TEST_POSTGRES is not set: these tests need a real PostgreSQL. "
        + "Run them through `bash tests/run.sh`, which starts a throwaway cluster on loopback and sets it.";

    private readonly string _admin;
    private readonly string _name = "t" + Guid.NewGuid().ToString("N")[..20];

    public PostgresDatabase()
    {
        _admin = AdminConnectionString;
        Execute(_admin, $"CREATE DATABASE {_name}");
        ConnectionString = new NpgsqlConnectionStringBuilder(_admin) { Database = _name }.ConnectionString;
    }

    public static string AdminConnectionString => Environment.GetEnvironmentVariable("FED_TEST_POSTGRES") is { Length: > 0 } cs
        ? cs
        : throw new InvalidOperationException(Unset);

    public string ConnectionString { get; }

    public IFederationStore Open() => new PostgresStore(ConnectionString);

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        Execute(_admin, $"DROP DATABASE IF EXISTS {_name} WITH (FORCE)");
    }

    private static void Execute(string cs, string sql)
    {
        using var c = new NpgsqlConnection(cs);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }
}
