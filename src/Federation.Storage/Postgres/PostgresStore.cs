using System.Data.Common;
using Federation.Core;
using Federation.Core.Storage;
using Npgsql;

namespace Federation.Storage;

/// <summary>
/// The scaled store: one PostgreSQL database that several replicas of this node share.
/// Unlike <see cref="SqliteStore"/>, writes from many processes run at once
/// (see <see cref="PostgresGroupCommit"/>).
/// </summary>
public sealed class PostgresStore : SqlStore
{
    private readonly NpgsqlDataSource _source;
    private readonly PostgresGroupCommit _writes;

    public PostgresStore(string connectionString)
        : base(PostgresDialect.Instance)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new NodeStartRefusedException("Node:Database is 'postgres' but Node:Postgres:ConnectionString is empty (environment: Node__Postgres__ConnectionString).");
        }
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        if (b.MaxAutoPrepare > 0)
        {
            // The store prepares its statements itself (SqlStoreTransaction). Npgsql's automatic
            // preparation prepares a statement in the same round trip as an execution, and when
            // that execution fails (a write that loses a race to another replica does), Npgsql
            // 10.0.3 misreads the statement's next execution: "Received unexpected backend
            // message DataRow", after the server ran it (npgsql/npgsql#6391, open; reproduced
            // here on 2026-12-07). Refused rather than risked.
            throw new NodeStartRefusedException(
                $"Node:Postgres:ConnectionString sets Max Auto Prepare={b.MaxAutoPrepare}: the node prepares its PostgreSQL statements itself, and Npgsql's automatic preparation misreads results after a failed statement. Remove Max Auto Prepare from the connection string (or set it to 0) and start again.");
        }
        _source = NpgsqlDataSource.Create(connectionString);
        _writes = new PostgresGroupCommit(_source, Committed);
        Description = $"PostgreSQL {b.Host}:{b.Port}/{b.Database}";
        using var c = Open();
        PostgresSchema.Migrate(c);
    }

    public override string Description { get; }

    internal NpgsqlConnection Open() => _source.OpenConnection();

    private protected override DbConnection OpenConnection() => Open();

    public override Task<T> WriteAsync<T>(Func<IStoreTransaction, T> work, CancellationToken ct = default) => _writes.WriteAsync(work, ct);

    /// <summary>
    /// Vacuums the tables a purge deletes from, so the deleted rows are no longer kept as
    /// dead row versions. Unlike SQLite's secure_delete, PostgreSQL does not overwrite the
    /// freed space; encrypt the database's disk if purged content must be unrecoverable.
    /// </summary>
    public override Task CheckpointAsync()
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "VACUUM events, objects, local_details, fight_reports, held_events, outbox, dead_letters";
        cmd.ExecuteNonQuery();
        return Task.CompletedTask;
    }

    private protected override void DisposeEngine()
    {
        _writes.Dispose();
        _source.Dispose();
    }
}
