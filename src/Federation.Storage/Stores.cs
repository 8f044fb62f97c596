using Federation.Core;
using Federation.Core.Storage;
using Npgsql;

namespace Federation.Storage;

/// <summary>Opens the store <c>Node:Database</c> names.</summary>
public static class Stores
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    public static IFederationStore Open(NodeOptions options) => options.Database.ToLowerInvariant() switch
    {
        Sqlite => new SqliteStore(options),
        Postgres or "postgresql" => new PostgresStore(options.Postgres.ConnectionString),
        _ => throw new NodeStartRefusedException($"Node:Database is '{options.Database}'; use '{Sqlite}' or '{Postgres}'."),
    };

    /// <summary>
    /// Whether a failure means the database is away for now (PostgreSQL restarting or
    /// unreachable), so the caller says "try again shortly" rather than "failed". SQLite is a
    /// file in the data folder: it has no such outage.
    /// </summary>
    public static bool IsOutage(Exception ex) => ex is NpgsqlException { IsTransient: true };
}
