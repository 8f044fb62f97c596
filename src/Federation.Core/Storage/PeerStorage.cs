namespace Federation.Core.Storage;

/// <summary>Reads of the peer roster and the peers' regions.</summary>
public interface IPeerReads
{
    PeerRecord? GetPeer(string nodeId) => ListPeers().FirstOrDefault(p => p.NodeId == nodeId);
    IReadOnlyList<PeerRecord> ListPeers();
    IReadOnlyList<PeerRegion> PeerRegions();

    /// <summary>What each peer said it speaks; a peer that has never said has no row.</summary>
    IReadOnlyList<PeerProtocolRecord> PeerProtocols();

    /// <summary>What one peer said it speaks, or null if it never said (read on every peer call, so by key).</summary>
    PeerProtocolRecord? PeerProtocol(string nodeId);

    /// <summary>Whether a peer said it has <paramref name="capability"/> (one refused for its major version has nothing usable).</summary>
    bool PeerHas(string nodeId, string capability) => PeerProtocol(nodeId) is { Refusal: null } known && known.CapabilitySet.Contains(capability);

    /// <summary>Every node key revocation held, this network's and its peers' (serialised SignedRevocations).</summary>
    IReadOnlyList<byte[]> Revocations();

    /// <summary>
    /// Raised with every revocation held when the store reads them anew and they differ from
    /// what it read before: another process sharing the database (a replica) took one.
    /// </summary>
    event Action<IReadOnlyList<byte[]>>? RevocationsRead;
}

/// <summary>Writes of the peer roster.</summary>
public interface IPeerWrites
{
    void UpsertPeer(PeerRecord p);

    /// <summary>Sets a peer's state; with <paramref name="onlyFrom"/>, only if it is in that state now.</summary>
    bool SetPeerState(string nodeId, string state, string? onlyFrom);

    void SetPeerRegion(string nodeId, string region);

    /// <summary>Where the peer last said it is, or null if it never said (issue 16 #4).</summary>
    string? AnnouncedAddress(string nodeId);

    void SetAnnouncedAddress(string nodeId, string address);

    /// <summary>Keeps a checked revocation; for a key already revoked, only an earlier time replaces the one held.</summary>
    void SaveRevocation(string networkId, string keyId, DateTimeOffset compromisedSince, byte[] signed);

    /// <summary>Records what a peer says it speaks, replacing what it said before; <c>SeenAt</c> is the time of writing.</summary>
    void SetPeerProtocol(PeerProtocolRecord p);
}
