using System.Data.Common;

namespace Federation.Faults.Tests.Harness;

/// <summary>
/// Read-only questions to a node's database, for a scenario's evidence that its fault
/// took effect. The SQL runs on SQLite and on PostgreSQL alike (the schema is the same).
/// </summary>
public static class Sql
{
    public static long Scalar(FaultNode node, string sql, params (string Name, object Value)[] args) =>
        Convert.ToInt64(Query(node, sql, args) ?? 0L);

    public static string Text(FaultNode node, string sql, params (string Name, object Value)[] args) =>
        Query(node, sql, args) as string ?? "";

    private static object? Query(FaultNode node, string sql, (string Name, object Value)[] args)
    {
        using var c = node.OpenDatabase();
        using var cmd = Command(c, null, sql, args);
        var value = cmd.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    public static DbCommand Command(DbConnection c, DbTransaction? tx, string sql, params (string Name, object Value)[] args)
    {
        var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value;
            cmd.Parameters.Add(p);
        }
        return cmd;
    }

    /// <summary>Outbox rows at <paramref name="node"/> not yet acknowledged.</summary>
    public static long Outbox(FaultNode node) => Scalar(node, "SELECT COUNT(*) FROM outbox");

    /// <summary>Events of objects <paramref name="origin"/> originates, held at <paramref name="node"/>.</summary>
    public static long EventsOf(FaultNode node, FaultNode origin) =>
        Scalar(node, "SELECT COUNT(*) FROM events WHERE object_id LIKE @p", ("@p", origin.NodeId + ".%"));

    /// <summary>True while <paramref name="from"/> records delivery to <paramref name="to"/> as failing.</summary>
    public static bool Failing(FaultNode from, FaultNode to) =>
        Scalar(from, "SELECT COUNT(*) FROM peer_delivery WHERE peer_id = @p AND failing_since IS NOT NULL", ("@p", to.NodeId)) > 0;

    public static string LastError(FaultNode from, FaultNode to) =>
        Text(from, "SELECT last_error FROM peer_delivery WHERE peer_id = @p", ("@p", to.NodeId));
}
