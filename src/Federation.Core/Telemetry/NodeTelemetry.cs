using System.Diagnostics;
using System.Diagnostics.Metrics;
using Federation.Contracts;
using Federation.Core.Storage;

namespace Federation.Core.Telemetry;

/// <summary>
/// The node's own traces and metrics, under one name (<see cref="Name"/>): spans around
/// a delivery call to a peer and around applying received events, and counters and
/// gauges for delivery. Call sites use one line each. With nothing listening (no OTLP
/// endpoint configured, see <see cref="TelemetrySetup"/>) a span is never created and a
/// counter update is a few instructions, so the hot path does not pay for it.
/// Tags carry ids, kinds and counts, never message content.
/// </summary>
public sealed class NodeTelemetry : IDisposable
{
    /// <summary>The name of the node's <see cref="ActivitySource"/> and <see cref="Meter"/>.</summary>
    public const string Name = "Federation.Node";

    // One source for the process: listeners select sources by name, so an instance per node adds nothing.
    private static readonly ActivitySource Source = new(Name);

    private readonly IDeliveryReads _store;
    private readonly Meter _meter;
    private readonly Counter<long> _batches;
    private readonly Counter<long> _itemsSent;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _applied;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _relayed;

    // The gauges below share one outbox query per collection (a collector reads all of them at once).
    private readonly Lock _lagLock = new();
    private IReadOnlyList<PeerDeliveryState> _lag = [];
    private long _lagReadAt;
    private static readonly TimeSpan LagFreshFor = TimeSpan.FromSeconds(1);

    public NodeTelemetry(IMeterFactory meters, IDeliveryReads store, Identity.NodeIdentity identity, NodeClock clock)
    {
        _store = store;
        // From the host's meter factory, so that two nodes in one process (the tests) keep
        // their measurements apart: each meter's Scope is its own node's factory.
        _meter = meters.Create(Name);
        _batches = _meter.CreateCounter<long>("federation.delivery.batches", "{batch}",
            "Calls that delivered items to a peer and were acknowledged");
        _itemsSent = _meter.CreateCounter<long>("federation.delivery.items", "{item}",
            "Outbox items (events and submissions) a peer acknowledged");
        _failures = _meter.CreateCounter<long>("federation.delivery.failures", "{failure}",
            "Failed delivery attempts, by kind: unavailable (retried), refused (parked as a dead letter), circuit_open, not_a_peer");
        _applied = _meter.CreateCounter<long>("federation.events.applied", "{event}",
            "Events from other origins applied to this node's copies (exactly once each)");
        _duplicates = _meter.CreateCounter<long>("federation.events.duplicates", "{event}",
            "Events received again that this node already held (changed nothing)");
        _relayed = _meter.CreateCounter<long>("federation.relay.parcels", "{parcel}",
            "Parcels through a relay (docs/adr/0027), by peer and by direction: sent (this node's, for a peer it cannot reach), carried (held here for another), forwarded (handed to their recipient), received (opened here), settled (a receipt moved this node's cursor)");
        _meter.CreateObservableGauge("federation.delivery.pending", ObservePending, "{item}",
            "Items queued for a peer and not yet acknowledged, per peer");
        _meter.CreateObservableGauge("federation.delivery.oldest_pending_age", ObserveOldestAge, "s",
            "Age of the oldest item not yet acknowledged by a peer, per peer (0 when none is waiting)");
        _meter.CreateObservableGauge("federation.outbox.depth", ObserveDepth, "{item}",
            "Items queued for all peers and not yet acknowledged");
        // The release as a label on a constant 1, the usual shape for "which version runs where".
        _meter.CreateObservableGauge("federation.build.info",
            () => new Measurement<long>(1, new KeyValuePair<string, object?>("version", SoftwareVersion.Number)), "{build}",
            "Always 1; its version label is the release this node runs");
        // For an alert well before peers start refusing what this node signs (KeyRenewal).
        _meter.CreateObservableGauge("federation.node_key.valid_for",
            () => identity.Current.Checked is { } c ? [new Measurement<double>((c.NotAfter - clock.UtcNow).TotalSeconds)] : Array.Empty<Measurement<double>>(), "s",
            "Seconds until the node key's certificate ends (negative once it has); absent while the network key signs itself");
    }

    /// <summary>A span around one delivery call to a peer (a run of events, or one submission).</summary>
    public static Activity? StartDelivery(string peerId, string kind, int items)
    {
        var activity = Source.StartActivity("federation.deliver", ActivityKind.Client);
        activity?.SetTag("federation.peer.id", peerId);
        activity?.SetTag("federation.delivery.kind", kind);
        activity?.SetTag("federation.delivery.items", items);
        return activity;
    }

    /// <summary>A span around applying a batch of received events in one transaction.</summary>
    public static Activity? StartApply(int events)
    {
        var activity = Source.StartActivity("federation.apply", ActivityKind.Internal);
        activity?.SetTag("federation.events.received", events);
        return activity;
    }

    public void Delivered(string peerId, string kind, int items)
    {
        var peer = new KeyValuePair<string, object?>("peer.id", peerId);
        _batches.Add(1, peer, new KeyValuePair<string, object?>("kind", kind));
        _itemsSent.Add(items, peer, new KeyValuePair<string, object?>("kind", kind));
    }

    /// <summary>One parcel through a relay; <paramref name="direction"/> is one of those named on the counter.</summary>
    public void Relayed(string peerId, string direction) =>
        _relayed.Add(1, new KeyValuePair<string, object?>("peer.id", peerId), new KeyValuePair<string, object?>("direction", direction));

    /// <summary>One failed attempt. <paramref name="kind"/> is one of the kinds named on the counter.</summary>
    public void DeliveryFailed(string peerId, string kind, string? status = null) =>
        _failures.Add(1,
            new KeyValuePair<string, object?>("peer.id", peerId),
            new KeyValuePair<string, object?>("kind", kind),
            new KeyValuePair<string, object?>("status", status ?? ""));

    public void Applied(int applied, int duplicates)
    {
        if (applied > 0)
        {
            _applied.Add(applied);
        }
        if (duplicates > 0)
        {
            _duplicates.Add(duplicates);
        }
    }

    private IReadOnlyList<PeerDeliveryState> Lag()
    {
        lock (_lagLock)
        {
            var now = Stopwatch.GetTimestamp();
            if (_lagReadAt == 0 || Stopwatch.GetElapsedTime(_lagReadAt, now) > LagFreshFor)
            {
                try
                {
                    _lag = _store.DeliveryStates();
                }
                catch (Exception)
                {
                    // A database that does not answer has no lag to report; health says why.
                    _lag = [];
                }
                _lagReadAt = now;
            }
            return _lag;
        }
    }

    private IEnumerable<Measurement<long>> ObservePending() =>
        Lag().Select(s => new Measurement<long>(s.Pending, new KeyValuePair<string, object?>("peer.id", s.PeerId)));

    private IEnumerable<Measurement<double>> ObserveOldestAge()
    {
        var now = DateTimeOffset.UtcNow;
        return Lag().Select(s => new Measurement<double>(
            s.Pending > 0 && s.OldestPendingAt is { } oldest ? Math.Max(0, (now - oldest).TotalSeconds) : 0,
            new KeyValuePair<string, object?>("peer.id", s.PeerId)));
    }

    private long ObserveDepth() => Lag().Sum(s => s.Pending);

    public void Dispose() => _meter.Dispose();
}
