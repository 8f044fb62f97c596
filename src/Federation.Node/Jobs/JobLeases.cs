using System.Collections.Concurrent;
using Federation.Core.Storage;
using Federation.Node.Delivery;

namespace Federation.Node.Jobs;

/// <summary>
/// Background jobs that must not run on two replicas at once (the notifier would send a
/// webhook or an e-mail twice; the sweeps would race each other to the same writes) run
/// only while this replica holds the job's lease, a row in the shared database. The
/// holder renews it as it works; when it stops, it lets go, and when it dies, another
/// replica takes over once the lease runs out (<see cref="Term"/>). With one process
/// (SQLite) it always holds them, at the cost of one small write per job every
/// <see cref="RenewEvery"/>.
/// </summary>
public sealed class JobLeases(IFederationStore store, ILogger<JobLeases> log) : IHostedService
{
    public const string Notifier = "notifier";
    public const string ExpirySweep = "expiry-sweep";
    public const string ReminderSweep = "reminder-sweep";
    public const string PurgeSweep = "purge-sweep";
    public const string StandDownResend = "stand-down-resend";
    public const string DashboardKey = "dashboard-key";

    /// <summary>How long a replica that died keeps its jobs from the others.</summary>
    public static readonly TimeSpan Term = TimeSpan.FromSeconds(30);

    /// <summary>A held lease is renewed once this much of its term has passed, not on every pass.</summary>
    public static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(10);

    // Same form as delivery leases (machine/pid/run), so a lease left by a dead process
    // of this machine is recognised as such (DeliveryLeases.OwnerIsGone).
    private readonly string _owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private readonly ConcurrentDictionary<string, DateTimeOffset> _renewed = new();

    /// <summary>True while this replica holds <paramref name="job"/>: run it. False: another replica does.</summary>
    public async Task<bool> HoldAsync(string job, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        if (_renewed.TryGetValue(job, out var at) && now - at < RenewEvery)
        {
            return true; // renewed moments ago; it runs until at + Term
        }
        var held = await store.WriteAsync(tx =>
        {
            if (tx.TryLeaseJob(job, _owner, now + Term))
            {
                return true;
            }
            // A process of this machine that was killed cannot let go: take over at once
            // rather than wait out its term (a restarted node would otherwise sit idle).
            if (tx.JobLeaseOwner(job) is { } holder && holder != _owner && DeliveryLeases.OwnerIsGone(holder))
            {
                tx.ReleaseJob(job, holder);
                return tx.TryLeaseJob(job, _owner, now + Term);
            }
            return false;
        }, ct);
        if (held)
        {
            if (_renewed.TryAdd(job, now))
            {
                log.LogDebug("This replica runs the {Job} job", job);
            }
            else
            {
                _renewed[job] = now;
            }
        }
        else if (_renewed.TryRemove(job, out _))
        {
            log.LogInformation("Another replica runs the {Job} job now", job);
        }
        return held;
    }

    /// <summary>Lets go of one job now (a one-off task that is done).</summary>
    public async Task ReleaseAsync(string job, CancellationToken ct)
    {
        _renewed.TryRemove(job, out _);
        await store.WriteAsync(tx =>
        {
            tx.ReleaseJob(job, _owner);
            return true;
        }, ct);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Lets go of every job on the way out, so another replica picks them up at once.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var held = _renewed.Keys.ToList();
        if (held.Count == 0)
        {
            return;
        }
        try
        {
            await store.WriteAsync(tx =>
            {
                foreach (var job in held)
                {
                    tx.ReleaseJob(job, _owner);
                }
                return true;
            }, cancellationToken);
            _renewed.Clear();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning("Could not release job leases on stopping ({Error}); other replicas take over when they run out", ex.Message);
        }
    }
}
