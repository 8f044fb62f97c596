namespace Federation.Core.Storage;

/// <summary>What a peer last said about relaying (Hello): the relays it allows, and its checked sealing key (SubjectPublicKeyInfo).</summary>
public sealed record PeerRelayOffer(string NodeId, IReadOnlyList<string> AllowedRelays, byte[]? SealingKey, DateTimeOffset SeenAt);

/// <summary>A parcel this node holds as relay, until the recipient's receipt or its expiry.</summary>
public sealed record RelayParcelRow(string ParcelId, string Source, string Recipient, byte[] Parcel, DateTimeOffset ExpiresAt, int Attempts);

/// <summary>A recipient's receipt this node holds as relay for the parcel's source to collect.</summary>
public sealed record RelayReceiptRow(string ParcelId, string Source, string Recipient, byte[] Receipt);

/// <summary>A peer this node reaches through a relay, until a direct delivery succeeds again: which relay, when the last parcel went, and the last queued item it held.</summary>
public sealed record RelayRoute(string PeerId, string RelayId, DateTimeOffset SentAt, long UpToOutboxId);

/// <summary>How many parcels and bytes this node holds as relay, per source.</summary>
public sealed record RelayHeld(string Source, long Parcels, long Bytes);

/// <summary>Reads of relaying (issue 18 #2, docs/adr/0027).</summary>
public interface IRelayReads
{
    /// <summary>The peers this node's operator allows to relay for it.</summary>
    IReadOnlySet<string> RelayAllowed();

    PeerRelayOffer? PeerRelayOfferOf(string nodeId);

    /// <summary>Parcels held as relay that are owed to their recipient and due a try, oldest first.</summary>
    IReadOnlyList<RelayParcelRow> DueRelayParcels(DateTimeOffset now, int limit);

    /// <summary>The receipts held for <paramref name="source"/> to collect.</summary>
    IReadOnlyList<RelayReceiptRow> RelayReceiptsFor(string source);

    /// <summary>What this node holds as relay, per source, for the operator and the metrics.</summary>
    IReadOnlyList<RelayHeld> RelayHeldBySource();

    IReadOnlyList<RelayRoute> RelayRoutes();
}

/// <summary>Writes of relaying; each commits with whatever else its transaction writes.</summary>
public interface IRelayWrites
{
    void SetRelayAllowed(string peerId, bool allowed);

    /// <summary>Replaces what a peer last said about relaying.</summary>
    void SetPeerRelayOffer(PeerRelayOffer offer);

    /// <summary>The bytes of parcels held for <paramref name="source"/> (not yet taken by their recipient).</summary>
    long RelayHeldBytes(string source);

    /// <summary>Keeps a parcel; false when its id is held already (a re-sent parcel).</summary>
    bool PutRelayParcel(string parcelId, string source, string recipient, byte[] parcel, DateTimeOffset expiresAt);

    /// <summary>The recipient took the parcel: its bytes go, its receipt stays for the source to collect.</summary>
    void RelayParcelTaken(string parcelId, byte[] receipt);

    void RelayParcelFailed(string parcelId, DateTimeOffset nextAttemptAt, string error);

    /// <summary>Forgets a parcel or receipt (the source collected the receipt, or the recipient refused the parcel for good).</summary>
    bool DropRelayParcel(string parcelId, string source);

    /// <summary>Forgets what expired, parcels and receipts alike. Returns how many.</summary>
    int DropExpiredRelayParcels(DateTimeOffset now);

    /// <summary>A peer reached by relay until now answered a direct delivery.</summary>
    void SetRelayRoute(RelayRoute route);

    void DropRelayRoute(string peerId);
}
