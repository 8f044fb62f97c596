using System.Collections.Concurrent;
using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Peers;
using Federation.Core.Relay;
using Federation.Core.Storage;
using Federation.Core.Telemetry;
using Federation.Domain;
using Federation.Node.Delivery;
using Federation.Node.Grpc;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;

namespace Federation.Node.Relay;

/// <summary>
/// Relay through a mutual peer (issue 18 #2, docs/adr/0027), the moving parts, every
/// <see cref="RelayOptions.Interval"/>:
/// <list type="bullet">
/// <item>as a relay: forgets expired parcels and hands the others to their recipients;</item>
/// <item>as a sender: for each peer whose direct path has failed for <see cref="RelayOptions.After"/>,
/// seals what its queue holds into a parcel for a relay both sides allow;</item>
/// <item>collects the receipts relays hold for it, which settle the queue as a bundle's acknowledgement does.</item>
/// </list>
/// The outbox rows stay until a receipt comes back: the relay is one more road, not a hand-over.
/// </summary>
public sealed class RelayCourier(
    IFederationStore store,
    Federation.Core.Identity.NodeIdentity identity,
    PeerCalls calls,
    Bundles bundles,
    NodeClock clock,
    NodeTelemetry telemetry,
    IOptions<NodeOptions> options,
    ILogger<RelayCourier> log) : BackgroundService
{
    private const int ForwardBatch = 50;

    // Receipts taken from each relay since the last collection there, to tell it to forget them.
    private readonly ConcurrentDictionary<string, List<string>> _taken = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.Relay.Interval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await PassAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The database or a peer failed in a way not handled below: the next pass tries again.
                log.LogWarning("Relay pass failed ({Error}); the next pass tries again", ex.Message);
            }
        }
    }

    /// <summary>One pass of everything: as relay, as sender, and collecting receipts.</summary>
    public async Task PassAsync(CancellationToken ct)
    {
        await ForwardAsync(ct);
        await SendAsync(ct);
        await CollectAsync(ct);
    }

    private bool Speaks(string peerId) => store.PeerProtocol(peerId) is { Refusal: null } p && p.CapabilitySet.Contains(Protocol.Capabilities.Relay);

    /// <summary>As relay: hands each held parcel to its recipient, keeps the receipt for the source.</summary>
    private async Task ForwardAsync(CancellationToken ct)
    {
        var now = clock.UtcNow;
        var expired = await store.WriteAsync(tx => tx.DropExpiredRelayParcels(now), ct);
        if (expired > 0)
        {
            log.LogInformation("Forgot {Count} relayed parcels or receipts that expired", expired);
        }
        foreach (var held in store.DueRelayParcels(now, ForwardBatch))
        {
            if (store.GetPeer(held.Recipient) is not { } recipient || !PeerStates.Reachable(recipient.State))
            {
                continue; // suspended or removed meanwhile: kept until it expires, in case it comes back
            }
            var parcel = RelayParcel.Parser.ParseFrom(held.Parcel);
            try
            {
                var answer = await calls.CallAsync(recipient, Methods.RelayDeliver, new RelayDeliverRequest { Parcel = parcel },
                    (c, r, o) => c.RelayDeliverAsync(r, o), ct);
                await store.WriteAsync(tx =>
                {
                    tx.RelayParcelTaken(held.ParcelId, answer.Receipt.ToByteArray());
                    return true;
                }, ct);
                telemetry.Relayed(held.Recipient, "forwarded");
            }
            catch (RpcException refused) when (WireRefusals.Parks(refused))
            {
                // Refused for good (changed on the way, not allowed): carrying it again changes nothing.
                await store.WriteAsync(tx => tx.DropRelayParcel(held.ParcelId, held.Source), ct);
                log.LogWarning("{Recipient} refused relayed parcel {Parcel}: {Reason}; it was dropped", recipient.Name, held.ParcelId, refused.Status.Detail);
            }
            catch (Exception ex) when (ex is RpcException or BrokenCircuitException)
            {
                var next = now + Backoff.Delay(held.Attempts + 1, options.Value.RetryBaseDelay, options.Value.RetryMaxDelay);
                await store.WriteAsync(tx =>
                {
                    tx.RelayParcelFailed(held.ParcelId, next, ex is RpcException r ? $"{r.StatusCode}: {r.Status.Detail}" : "circuit open");
                    return true;
                }, ct);
            }
        }
    }

    /// <summary>As sender: a parcel for each peer cut off long enough, through a relay both allow.</summary>
    private async Task SendAsync(CancellationToken ct)
    {
        var o = options.Value.Relay;
        var now = clock.UtcNow;
        var allowed = store.RelayAllowed();
        if (allowed.Count == 0)
        {
            return;
        }
        var states = store.DeliveryStates().ToDictionary(s => s.PeerId);
        var routes = store.RelayRoutes().ToDictionary(r => r.PeerId);
        foreach (var state in states.Values)
        {
            // Only while the direct path fails now. Relayed once, a peer stays reached by relay
            // until a direct delivery succeeds, and does not wait out After again each time a
            // receipt settles its queue (which clears the failure streak, as an acknowledgement
            // does): the next item is tried directly first, and relayed as soon as that fails.
            var relayed = routes.TryGetValue(state.PeerId, out var route);
            if (state.Pending == 0 || state.FailingSince is not { } since || (!relayed && now - since < o.After))
            {
                continue;
            }
            if (store.GetPeer(state.PeerId) is not { } peer || !PeerStates.Reachable(peer.State) || !Speaks(peer.NodeId)
                || store.PeerRelayOfferOf(peer.NodeId) is not { SealingKey: { } sealingKey } offer)
            {
                continue;
            }
            // Relays both sides allow, that answer now, healthy ones first.
            var relays = offer.AllowedRelays.Where(r => r != peer.NodeId && allowed.Contains(r))
                .Select(store.GetPeer).OfType<PeerRecord>()
                .Where(r => PeerStates.Reachable(r.State) && Speaks(r.NodeId) && !calls.IsOpen(r.NodeId))
                .OrderBy(r => states.TryGetValue(r.NodeId, out var s) && s.FailingSince is not null)
                .ToList();
            if (relays.Count == 0)
            {
                continue;
            }
            var made = bundles.ForRelay(peer, o.ParcelLifetime);
            if (made is not { } owed)
            {
                continue;
            }
            if (relayed && owed.UpTo <= route!.UpToOutboxId && now - route.SentAt < o.ResendAfter)
            {
                continue; // that parcel is on its way; its receipt settles the queue
            }
            foreach (var relay in relays)
            {
                var parcel = RelayFormat.Seal(identity.NodeId, peer.NodeId, relay.NodeId, owed.Bundle.ToByteArray(), sealingKey,
                    identity.Current, now, now + o.ParcelLifetime);
                try
                {
                    await calls.CallAsync(relay, Methods.RelayPut, new RelayPutRequest { Parcel = parcel }, (c, r, opt) => c.RelayPutAsync(r, opt), ct);
                }
                catch (Exception ex) when (ex is RpcException or BrokenCircuitException)
                {
                    log.LogWarning("Relay {Relay} did not take a parcel for {Peer}: {Reason}", relay.Name, peer.Name,
                        ex is RpcException r ? $"{r.StatusCode}: {r.Status.Detail}" : "circuit open");
                    continue;
                }
                await store.WriteAsync(tx =>
                {
                    tx.SetRelayRoute(new RelayRoute(peer.NodeId, relay.NodeId, now, owed.UpTo));
                    return true;
                }, ct);
                telemetry.Relayed(peer.NodeId, "sent");
                log.LogInformation("Sent {Items} queued items for {Peer} through relay {Relay}: the direct path fails ({Error})",
                    owed.Items, peer.Name, relay.Name, state.LastError ?? "no answer");
                break;
            }
        }
    }

    /// <summary>Collects the receipts each relay this node sent through holds for it, and applies them.</summary>
    private async Task CollectAsync(CancellationToken ct)
    {
        foreach (var relayId in store.RelayRoutes().Select(r => r.RelayId).Distinct())
        {
            if (store.GetPeer(relayId) is not { } relay || !PeerStates.Reachable(relay.State))
            {
                continue;
            }
            var taken = _taken.GetOrAdd(relayId, _ => []);
            var request = new RelayCollectRequest();
            request.Taken.AddRange(taken);
            RelayCollectResponse answer;
            try
            {
                answer = await calls.CallAsync(relay, Methods.RelayCollect, request, (c, r, o) => c.RelayCollectAsync(r, o), ct);
            }
            catch (Exception ex) when (ex is RpcException or BrokenCircuitException)
            {
                continue; // the next pass asks again, with the same list of what was taken
            }
            taken.Clear();
            foreach (var receipt in answer.Receipts)
            {
                taken.Add(receipt.ParcelId);
                if (receipt.Receipt.IsEmpty)
                {
                    continue; // the recipient had nothing to acknowledge
                }
                try
                {
                    // The acknowledgement a bundle's import makes, checked and applied as one carried by hand.
                    var settled = await bundles.ImportAsync(new ImportBundleRequest { Bundle = receipt.Receipt }, ct);
                    if (settled.CursorMovedPast > 0)
                    {
                        telemetry.Relayed(receipt.RecipientNode, "settled");
                    }
                }
                catch (RuleViolation refused)
                {
                    log.LogWarning("A receipt from {Recipient} carried by {Relay} was refused: {Reason}",
                        Identifiers.Fingerprint(receipt.RecipientNode), relay.Name, refused.Message);
                }
            }
        }
    }
}
