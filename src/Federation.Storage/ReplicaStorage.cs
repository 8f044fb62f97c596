namespace Federation.Storage;

// Job leases and dashboard keys (SQLite migration 7, PostgreSQL migration 2). The SQL is
// the same on both engines (both take @name parameters and ON CONFLICT … DO UPDATE … WHERE).

internal static class ReplicaSql
{
    // A lease is taken when it is free, has run out, or is already ours (a renewal). The
    // conditional upsert is one statement, so two replicas racing for it cannot both win.
    public const string TryLeaseJob = """
        INSERT INTO job_leases (job, lease_owner, lease_until) VALUES (@j, @w, @u)
        ON CONFLICT (job) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
        WHERE job_leases.lease_until <= @now OR job_leases.lease_owner = excluded.lease_owner
        """;

    public const string ReleaseJob = "UPDATE job_leases SET lease_until = 0 WHERE job = @j AND lease_owner = @w";

    public const string JobLeaseOwner = "SELECT lease_owner FROM job_leases WHERE job = @j";

    public const string PutDashboardKey = "INSERT INTO dashboard_keys (name, xml) VALUES (@n, @x) ON CONFLICT (name) DO NOTHING";

    public const string DashboardKeys = "SELECT xml FROM dashboard_keys ORDER BY name";
}

public sealed partial class SqliteStoreTransaction
{
    public string? JobLeaseOwner(string job)
    {
        using var cmd = Command(ReplicaSql.JobLeaseOwner, ("@j", job));
        return cmd.ExecuteScalar() as string;
    }

    public bool TryLeaseJob(string job, string owner, DateTimeOffset until) =>
        Execute(ReplicaSql.TryLeaseJob, ("@j", job), ("@w", owner), ("@u", until.ToUnixTimeMilliseconds()), ("@now", Now)) == 1;

    public void ReleaseJob(string job, string owner) => Execute(ReplicaSql.ReleaseJob, ("@j", job), ("@w", owner));

    public void PutDashboardKey(string name, string xml) => Execute(ReplicaSql.PutDashboardKey, ("@n", name), ("@x", xml));
}

public sealed partial class PostgresStoreTransaction
{
    public string? JobLeaseOwner(string job)
    {
        using var cmd = Command(ReplicaSql.JobLeaseOwner, ("@j", job));
        return cmd.ExecuteScalar() as string;
    }

    public bool TryLeaseJob(string job, string owner, DateTimeOffset until) =>
        Execute(ReplicaSql.TryLeaseJob, ("@j", job), ("@w", owner), ("@u", until.ToUnixTimeMilliseconds()), ("@now", Now)) == 1;

    public void ReleaseJob(string job, string owner) => Execute(ReplicaSql.ReleaseJob, ("@j", job), ("@w", owner));

    public void PutDashboardKey(string name, string xml) => Execute(ReplicaSql.PutDashboardKey, ("@n", name), ("@x", xml));
}

public sealed partial class SqliteStore
{
    public IReadOnlyList<string> DashboardKeys()
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = ReplicaSql.DashboardKeys;
        using var r = cmd.ExecuteReader();
        var keys = new List<string>();
        while (r.Read())
        {
            keys.Add(r.GetString(0));
        }
        return keys;
    }
}

public sealed partial class PostgresStore
{
    public IReadOnlyList<string> DashboardKeys()
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = ReplicaSql.DashboardKeys;
        using var r = cmd.ExecuteReader();
        var keys = new List<string>();
        while (r.Read())
        {
            keys.Add(r.GetString(0));
        }
        return keys;
    }
}
