using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Identity;
using Federation.Core.Peers;
using Federation.Core.Relay;
using Federation.Core.Storage;
using Federation.Core.Telemetry;
using Federation.Domain;
using Federation.Node.Delivery;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federation.Node.Relay;

/// <summary>
/// The relay's three calls (docs/adr/0027), behind the thin gRPC service: a source hands this
/// node a parcel (RelayPut), a relay hands this node a parcel for it (RelayDeliver), a source
/// collects its receipts (RelayCollect).
/// </summary>
public sealed class RelayDesk(
    IFederationStore store,
    NodeIdentity identity,
    PeerKeys keys,
    SealingKey sealingKey,
    Bundles bundles,
    RelayOffers offers,
    NodeClock clock,
    NodeTelemetry telemetry,
    IOptions<NodeOptions> options,
    ILogger<RelayDesk> log)
{
    /// <summary>
    /// At most this many bytes in one parcel: a relayed bundle's items (<see cref="Bundles.MaxRelayedItemBytes"/>),
    /// its header and the parcel's, sealed; under the 4 MiB a peer call may carry.
    /// </summary>
    public const int MaxParcelBytes = Bundles.MaxItemBytes + 256 * 1024;

    /// <summary>
    /// Keeps a parcel for its recipient when the source and the recipient both allow this node
    /// to relay for them, the parcel passes the relay's checks (<see cref="RelayFormat.CheckAtRelay"/>),
    /// and it fits in the source's quota; refuses it otherwise, changing nothing.
    /// </summary>
    public async Task<RelayPutResponse> PutAsync(PeerRecord caller, RelayPutRequest request, CancellationToken ct)
    {
        var parcel = request.Parcel ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "The request carries no parcel."));
        var quota = options.Value.Relay.QuotaPerSourceBytes;
        if (quota <= 0)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                "This node relays for no one (its operator set Node:Relay:QuotaPerSourceBytes to 0); deliver directly, or by bundle."));
        }
        var bytes = parcel.ToByteArray();
        if (bytes.Length > MaxParcelBytes)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"A parcel holds at most {MaxParcelBytes / 1024} KiB; this one has {bytes.Length / 1024} KiB."));
        }
        var header = RelayFormat.CheckAtRelay(parcel, identity.NodeId, caller.NodeId, keys, clock.UtcNow);
        if (store.GetPeer(header.RecipientNode) is not { } recipient || !PeerStates.Reachable(recipient.State))
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"Network {Identifiers.Fingerprint(header.RecipientNode)} is not a peer of this relay: a relay forwards only to its own peers."));
        }
        if (!offers.Allows(caller.NodeId, identity.NodeId))
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                "Your network has not named this node an allowed relay (solnet peers relay THIS-NODE --allow), or this node has not heard so yet: it says Hello again within the protocol exchange interval."));
        }
        if (!offers.Allows(recipient.NodeId, identity.NodeId))
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"{recipient.Name} has not named this node an allowed relay: a relay carries only for a recipient that allows it. Its operator can (solnet peers relay ... --allow)."));
        }
        var expires = header.ExpiresAt.ToDateTimeOffset();
        var latest = clock.UtcNow + options.Value.Relay.ParcelLifetime;
        if (expires > latest)
        {
            expires = latest; // the relay keeps it no longer than its own limit, whatever the source asked
        }
        var refusal = await store.WriteAsync(tx =>
        {
            var held = tx.RelayHeldBytes(caller.NodeId);
            if (!tx.PutRelayParcel(header.ParcelId, caller.NodeId, recipient.NodeId, bytes, expires))
            {
                return (Over: (string?)null, Stored: false); // sent again: held already, nothing more to count
            }
            if (RelayFormat.OverQuota(held, bytes.Length, quota) is { } over)
            {
                tx.DropRelayParcel(header.ParcelId, caller.NodeId); // in the same transaction: nothing is kept
                return (Over: over, Stored: false);
            }
            return (Over: null, Stored: true);
        }, ct);
        if (refusal.Over is { } why)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, why));
        }
        if (refusal.Stored)
        {
            telemetry.Relayed(caller.NodeId, "carried");
            log.LogInformation("Holding parcel {Parcel} from {Source} for {Recipient} as relay ({Bytes} bytes, sealed)",
                header.ParcelId, caller.Name, recipient.Name, bytes.Length);
        }
        return new RelayPutResponse { Duplicate = !refusal.Stored };
    }

    /// <summary>
    /// A parcel for this node, handed over by <paramref name="relay"/>: opened, and its bundle
    /// applied through the import a bundle gets (every item through the checks a delivery gets,
    /// duplicates skipped). Answers with the receipt for the source.
    /// </summary>
    public async Task<RelayDeliverResponse> DeliverAsync(PeerRecord relay, RelayDeliverRequest request, CancellationToken ct)
    {
        var parcel = request.Parcel ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "The request carries no parcel."));
        if (!store.RelayAllowed().Contains(relay.NodeId))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"This node has not named {relay.Name} an allowed relay; the parcel was not opened for use."));
        }
        var (header, bundle) = RelayFormat.Open(parcel, identity.NodeId, relay.NodeId, sealingKey, keys,
            source => keys.Sync(source, store.GetPeer(source)), clock.UtcNow);
        var imported = await bundles.ImportAsync(new ImportBundleRequest { Bundle = ByteString.CopyFrom(bundle) }, ct, relayedFrom: header.SourceNode);
        telemetry.Relayed(header.SourceNode, "received");
        log.LogInformation("Opened parcel {Parcel} from {Source} carried by {Relay}: {Applied} applied, {Duplicates} already held, {Refused} refused",
            header.ParcelId, Identifiers.Fingerprint(header.SourceNode), relay.Name, imported.Applied, imported.Duplicates, imported.Refused.Count);
        return new RelayDeliverResponse { Receipt = imported.Acknowledgement };
    }

    /// <summary>The receipts held for the caller, after forgetting those it says it has taken.</summary>
    public async Task<RelayCollectResponse> CollectAsync(PeerRecord source, RelayCollectRequest request, CancellationToken ct)
    {
        if (request.Taken.Count > 0)
        {
            await store.WriteAsync(tx =>
            {
                foreach (var id in request.Taken)
                {
                    tx.DropRelayParcel(id, source.NodeId);
                }
                return true;
            }, ct);
        }
        var response = new RelayCollectResponse();
        response.Receipts.AddRange(store.RelayReceiptsFor(source.NodeId).Select(r => new RelayReceipt
        {
            ParcelId = r.ParcelId,
            RecipientNode = r.Recipient,
            Receipt = ByteString.CopyFrom(r.Receipt),
        }));
        return response;
    }
}
