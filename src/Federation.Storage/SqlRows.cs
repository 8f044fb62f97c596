using System.Data.Common;

namespace Federation.Storage;

/// <summary>
/// Commands and row mapping over plain ADO.NET, for both engines: parameters are
/// (name, value) pairs, null becomes DBNull, and each query maps its rows with a lambda
/// over column ordinals.
/// <para>
/// Not Dapper: its mapping by column name would need an alias on most columns (last_seq AS
/// LastSequence, …) and process-wide type handlers for Unix-millisecond times and
/// long-to-ulong sequences, about as many lines as the lambdas it replaces; and it makes a
/// command per call, which would undo the prepared statements a SQLite group commit reuses
/// (see <see cref="SqlStoreTransaction"/>).
/// </para>
/// </summary>
internal static class SqlRows
{
    /// <summary>Now, as the stores keep times: Unix milliseconds.</summary>
    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public static DateTimeOffset Time(this DbDataReader r, int i) => DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(i));

    public static DateTimeOffset? TimeOrNull(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.Time(i);

    public static string? StringOrNull(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    public static byte[] Bytes(this DbDataReader r, int i) => (byte[])r[i];

    public static byte[]? NullableBytes(this DbDataReader r, int i) => r.IsDBNull(i) ? null : (byte[])r[i];

    public static DbCommand Command(this DbConnection c, DbTransaction? tx, string sql, (string Name, object? Value)[] args)
    {
        var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.Bind(args);
        return cmd;
    }

    /// <summary>
    /// Binds <paramref name="args"/> to a command that may have run before: onto the
    /// parameters it already has when they carry the same names in the same order (a reused
    /// statement always does), else afresh.
    /// </summary>
    /// <remarks>
    /// Why the same instances: once Npgsql has prepared a command (explicitly, or by its
    /// automatic preparation), it keeps the parameter objects it was prepared with and sends
    /// their values, not those of new objects put in their place (npgsql/npgsql#3850, open).
    /// With Clear-and-add, every execution after the preparation re-ran the first one's
    /// values: held events, notifications and fediverse deliveries were written with the
    /// wrong keys (found on 2026-12-07 by the PostgreSQL store contract tests, run with
    /// automatic preparation on; they fail the same way if this binds afresh again).
    /// </remarks>
    public static void Bind(this DbCommand cmd, (string Name, object? Value)[] args)
    {
        var parameters = cmd.Parameters;
        if (parameters.Count == args.Length && SameNames(parameters, args))
        {
            for (var i = 0; i < args.Length; i++)
            {
                parameters[i].Value = args[i].Value ?? DBNull.Value;
            }
            return;
        }
        parameters.Clear();
        Add(parameters, cmd.CreateParameter, args);
    }

    private static bool SameNames(DbParameterCollection parameters, (string Name, object? Value)[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (parameters[i].ParameterName != args[i].Name)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The parameters of a command or of a batch's command (<see cref="DbBatchCommand"/>).</summary>
    public static void Add(DbParameterCollection parameters, Func<DbParameter> create, (string Name, object? Value)[] args)
    {
        foreach (var (name, value) in args)
        {
            var p = create();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            parameters.Add(p);
        }
    }

    public static List<T> Query<T>(this DbConnection c, DbTransaction? tx, string sql, Func<DbDataReader, T> read, params (string Name, object? Value)[] args)
    {
        using var cmd = c.Command(tx, sql, args);
        return cmd.Rows(read);
    }

    /// <summary>Runs the command and maps every row it returns.</summary>
    public static List<T> Rows<T>(this DbCommand cmd, Func<DbDataReader, T> read)
    {
        using var r = cmd.ExecuteReader();
        var list = new List<T>();
        while (r.Read())
        {
            list.Add(read(r));
        }
        return list;
    }

    public static object? Scalar(this DbConnection c, DbTransaction? tx, string sql, params (string Name, object? Value)[] args)
    {
        using var cmd = c.Command(tx, sql, args);
        return cmd.ExecuteScalar();
    }
}
