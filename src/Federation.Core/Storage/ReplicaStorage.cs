namespace Federation.Core.Storage;

/// <summary>Reads of what several replicas of a node share: the dashboard's cookie keys.</summary>
public interface IReplicaReads
{
    /// <summary>The dashboard's cookie keys (ASP.NET Data Protection key XML), shared by every replica.</summary>
    IReadOnlyList<string> DashboardKeys();
}

/// <summary>Writes of what several replicas share: job leases and dashboard cookie keys.</summary>
public interface IReplicaWrites
{
    /// <summary>
    /// Takes or renews the lease on a job that one replica at a time may run (the notifier,
    /// the sweeps): true when <paramref name="owner"/> holds it until <paramref name="until"/>.
    /// </summary>
    bool TryLeaseJob(string job, string owner, DateTimeOffset until);

    void ReleaseJob(string job, string owner);

    /// <summary>Who holds (or last held) the job's lease; null if no one ever has.</summary>
    string? JobLeaseOwner(string job);

    /// <summary>Stores a dashboard cookie key; a name already stored is kept as it is (keys never change).</summary>
    void PutDashboardKey(string name, string xml);
}
