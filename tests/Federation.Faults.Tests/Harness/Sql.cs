using Microsoft.Data.Sqlite;

namespace Federation.Faults.Tests.Harness;

/// <summary>Read-only questions to a node's database, for a scenario's evidence that its fault took effect.</summary>
public static class Sql
{
    public static long Scalar(FaultNode node, string sql, params (string Name, object Value)[] args)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = node.DbPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA busy_timeout=10000;";
        cmd.ExecuteNonQuery();
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        return Convert.ToInt64(cmd.ExecuteScalar() ?? 0L);
    }

    public static string Text(FaultNode node, string sql, params (string Name, object Value)[] args)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = node.DbPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        return cmd.ExecuteScalar() as string ?? "";
    }

    /// <summary>Outbox rows at <paramref name="node"/> not yet acknowledged.</summary>
    public static long Outbox(FaultNode node) => Scalar(node, "SELECT COUNT(*) FROM outbox");

    /// <summary>Events of objects <paramref name="origin"/> originates, held at <paramref name="node"/>.</summary>
    public static long EventsOf(FaultNode node, FaultNode origin) =>
        Scalar(node, "SELECT COUNT(*) FROM events WHERE object_id LIKE $p", ("$p", origin.NodeId + ".%"));

    /// <summary>True while <paramref name="from"/> records delivery to <paramref name="to"/> as failing.</summary>
    public static bool Failing(FaultNode from, FaultNode to) =>
        Scalar(from, "SELECT COUNT(*) FROM peer_delivery WHERE peer_id = $p AND failing_since IS NOT NULL", ("$p", to.NodeId)) > 0;

    public static string LastError(FaultNode from, FaultNode to) =>
        Text(from, "SELECT last_error FROM peer_delivery WHERE peer_id = $p", ("$p", to.NodeId));
}
