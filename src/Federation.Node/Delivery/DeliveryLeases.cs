using Federation.Core;
using Federation.Core.Storage;
using Microsoft.Extensions.Options;

namespace Federation.Node.Delivery;

/// <summary>
/// The lease in the database that lets one run at a time, in any process, have a batch in
/// flight to a peer. Renewed before every call; released when the run ends (or with the
/// last acknowledgement); a lease left by a process that is gone is released at once.
/// </summary>
public sealed class DeliveryLeases(IFederationStore store, IOptions<NodeOptions> options)
{
    /// <summary>Who holds a lease: this machine, this process, this run.</summary>
    public static readonly string Owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    // Covers one call and the write after it; renewed before every call.
    private TimeSpan Lease => options.Value.PeerCallTimeout * 2 + TimeSpan.FromSeconds(5);

    /// <summary>Takes or extends the lease on <paramref name="peerId"/>: false when another run holds it.</summary>
    public Task<bool> RenewAsync(string peerId, CancellationToken ct) =>
        store.WriteAsync(tx => tx.TryLease(peerId, Owner, DateTimeOffset.UtcNow + Lease), ct);

    /// <summary>
    /// True when <paramref name="owner"/> names a process on this machine that is no
    /// longer running: its lease can be released at once. Other machines' owners cannot be
    /// checked from here; their leases simply expire.
    /// </summary>
    public static bool OwnerIsGone(string owner)
    {
        var parts = owner.Split('/');
        if (parts.Length != 3 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], out var pid))
        {
            return false;
        }
        if (pid == Environment.ProcessId)
        {
            // This process: gone if it is an earlier run (a container restarted with the same pid).
            return owner != Owner;
        }
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true; // no such process
        }
    }
}
