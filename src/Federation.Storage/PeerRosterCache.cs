using Federation.Core.Storage;

namespace Federation.Storage;

/// <summary>The peer roster as read at one version of <c>peer_roster_version</c>.</summary>
internal sealed class PeerRoster(long version, IReadOnlyList<PeerRecord> peers, IReadOnlyList<PeerRegion> regions,
    IReadOnlyList<PeerProtocolRecord> protocols, IReadOnlyList<byte[]> revocations)
{
    public long Version { get; } = version;
    public IReadOnlyList<PeerRecord> Peers { get; } = peers;
    public IReadOnlyDictionary<string, PeerRecord> ById { get; } = peers.ToDictionary(p => p.NodeId);
    public IReadOnlyList<PeerRegion> Regions { get; } = regions;
    public IReadOnlyList<PeerProtocolRecord> Protocols { get; } = protocols;
    public IReadOnlyDictionary<string, PeerProtocolRecord> ProtocolOf { get; } = protocols.ToDictionary(p => p.NodeId);
    public IReadOnlyList<byte[]> Revocations { get; } = revocations;

    // Set once its revocations have been told (PeerRosterCache.RevocationsRead).
    internal int Announced;
}

/// <summary>
/// The peer roster (peers, what each speaks, the key revocations) held in memory: every
/// peer call reads it, before its service runs, and it changes rarely (issue 20 #5). On
/// PostgreSQL a read per call was a round trip that held a thread-pool thread; under load the
/// pool starved. Each write to the roster counts itself in <c>peer_roster_version</c> in its
/// own transaction (<see cref="SqlStoreTransaction"/>), so:
/// <list type="bullet">
/// <item>a write through this process is seen here as soon as it commits (the store calls
/// <see cref="Invalidate"/> before its WriteAsync returns);</item>
/// <item>a write by another process sharing the database (another replica) is seen within
/// <see cref="RecheckInterval"/>: a timer reads the one-row counter and reads the roster
/// again when it moved. That bound is the delay before a peer suspended or revoked at another
/// replica is refused here; an open stream's recheck of a delegate token elsewhere
/// (Node:TokenRecheckInterval) allows 5 s.</item>
/// <item>a peer asked for and not held makes it recheck at once (<see cref="RecheckForMissing"/>):
/// a peer added at another replica is accepted here at its first call.</item>
/// </list>
/// While the counter cannot be read (the database is away), the roster is dropped, so calls
/// read it themselves and fail as any read does then, rather than trust a stale roster.
/// </summary>
internal sealed class PeerRosterCache : IDisposable
{
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    private readonly Func<long> _readVersion;
    private readonly Func<PeerRoster> _load;
    private readonly Timer _recheck;
    private readonly Lock _announcing = new();
    private Lazy<PeerRoster> _current;
    private IReadOnlyList<byte[]>? _announced;
    private long _loads;

    /// <param name="readVersion">Reads <c>peer_roster_version</c>.</param>
    /// <param name="load">Reads the version, then the roster (in that order: a write between them is caught by the next recheck).</param>
    public PeerRosterCache(Func<long> readVersion, Func<PeerRoster> load)
    {
        _readVersion = readVersion;
        _load = load;
        _current = Unread();
        _recheck = new Timer(_ => Recheck(), null, RecheckInterval, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Raised with every revocation held when a roster read anew holds other revocations
    /// than the last one did (another replica took one): they are applied to the keys here.
    /// </summary>
    public event Action<IReadOnlyList<byte[]>>? RevocationsRead;

    /// <summary>How many times the roster was read from the database: for tests and diagnostics.</summary>
    public long Loads => Interlocked.Read(ref _loads);

    public PeerRoster Current
    {
        get
        {
            var held = Volatile.Read(ref _current);
            PeerRoster roster;
            try
            {
                roster = held.Value;
            }
            catch
            {
                // Lazy keeps a failure: the next read tries the database again.
                Interlocked.CompareExchange(ref _current, Unread(), held);
                throw;
            }
            // Told outside the Lazy's load, so that a handler may read the roster too.
            if (Interlocked.Exchange(ref roster.Announced, 1) == 0)
            {
                Announce(roster.Revocations);
            }
            return roster;
        }
    }

    private void Announce(IReadOnlyList<byte[]> revocations)
    {
        lock (_announcing)
        {
            var before = _announced;
            _announced = revocations;
            if (before is not null && before.Count == revocations.Count && before.Zip(revocations).All(p => p.First.AsSpan().SequenceEqual(p.Second)))
            {
                return;
            }
        }
        RevocationsRead?.Invoke(revocations);
    }

    /// <summary>A write through this process changed the roster and has committed: the next read reads it again.</summary>
    public void Invalidate() => Volatile.Write(ref _current, Unread());

    private Lazy<PeerRoster> Unread() => new(() =>
    {
        Interlocked.Increment(ref _loads);
        return _load();
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// For a peer the roster does not hold: rechecks now rather than at the next tick, so that
    /// a peer just added at another replica is known at once. At most once every
    /// <see cref="MissRecheckInterval"/>, so that a stranger's calls cannot each cost a read.
    /// Null when nothing changed (or it is not time yet).
    /// </summary>
    public PeerRoster? RecheckForMissing()
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastMissRecheck);
        if (now - last < MissRecheckInterval.TotalMilliseconds || Interlocked.CompareExchange(ref _lastMissRecheck, now, last) != last)
        {
            return null;
        }
        return RecheckNow(Volatile.Read(ref _current)) ? Current : null;
    }

    public static readonly TimeSpan MissRecheckInterval = TimeSpan.FromMilliseconds(100);

    private long _lastMissRecheck = long.MinValue / 2;

    /// <summary>Reads the counter; when it moved since <paramref name="held"/> was read, reads the roster again.</summary>
    private bool RecheckNow(Lazy<PeerRoster> held)
    {
        if (!held.IsValueCreated || _readVersion() == held.Value.Version)
        {
            return false;
        }
        Interlocked.CompareExchange(ref _current, Unread(), held);
        _ = Current;
        return true;
    }

    private void Recheck()
    {
        try
        {
            // Nothing read yet: nothing to recheck (a store nobody asks about peers costs no reads).
            var held = Volatile.Read(ref _current);
            try
            {
                // Read here, on the timer, rather than by the next call.
                RecheckNow(held);
            }
            catch (Exception)
            {
                // The database is away (or the roster could not be read): drop what is
                // held, rather than go on trusting it unchecked.
                Interlocked.CompareExchange(ref _current, Unread(), held);
            }
            _recheck.Change(RecheckInterval, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // The store was disposed meanwhile.
        }
    }

    public void Dispose() => _recheck.Dispose();
}
