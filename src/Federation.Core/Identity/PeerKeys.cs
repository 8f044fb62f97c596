using System.Collections.Concurrent;
using Federation.Core.Peers;
using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf;

namespace Federation.Core.Identity;

/// <summary>
/// Imported public keys of pinned peers, cached: importing a key per message costs
/// more than verifying with it (<see cref="VerifyingKey"/>, safe from several threads).
/// Every check names the kind of thing signed (docs/adr/0028).
/// </summary>
public sealed class PeerKeys
{
    private readonly ConcurrentDictionary<string, VerifyingKey> _keys = new();

    // Certified node keys (docs/adr/0022), by key id, and the certificates already checked,
    // by their bytes: a peer's events all carry the same certificate, whose network
    // signature is checked once, not per event.
    private readonly ConcurrentDictionary<string, VerifyingKey> _nodeKeys = new();
    private readonly ConcurrentDictionary<ByteString, (ByteString Signature, CheckedCertificate Checked)> _certificates = new();
    private const int CertificatesKept = 4096;

    // Revocations by (network, key): what a key signed from the time given on is refused.
    private readonly ConcurrentDictionary<(string Network, string Key), CheckedRevocation> _revoked = new();

    /// <summary>Checks that <paramref name="publicKey"/> hashes to <paramref name="nodeId"/> and caches it.</summary>
    public void Pin(string nodeId, byte[] publicKey)
    {
        if (Identifiers.NodeIdFromPublicKey(publicKey) != nodeId)
        {
            throw new InvalidOperationException("The public key does not match the node id.");
        }
        _keys[nodeId] = VerifyingKey.Import(publicKey);
    }

    /// <summary>A one-off check against a key that is not cached (a suspended or revoked peer's stored key).</summary>
    public static bool VerifyWith(byte[] publicKey, SignedKind kind, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        Signatures.Verify(publicKey, kind, data, signature);

    public void Forget(string nodeId) => _keys.TryRemove(nodeId, out _);

    /// <summary>
    /// Brings the cache in line with the peer's row in the store, which every replica of
    /// this node shares: another replica may have suspended or revoked the peer (or added
    /// it) since this process pinned its key, and the database decides, not this cache.
    /// Returns whether the peer is reachable now.
    /// </summary>
    public bool Sync(string nodeId, PeerRecord? peer)
    {
        if (peer is not null && PeerStates.Reachable(peer.State))
        {
            if (!_keys.ContainsKey(nodeId))
            {
                Pin(nodeId, peer.PublicKey);
            }
            return true;
        }
        Forget(nodeId);
        return false;
    }

    /// <summary>Checks a signature of <paramref name="kind"/> against the pinned key of <paramref name="nodeId"/> (its network's own key).</summary>
    public bool Verify(string nodeId, SignedKind kind, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        _keys.TryGetValue(nodeId, out var pinned) && pinned.Verify(kind, data, signature);

    public bool Knows(string nodeId) => _keys.ContainsKey(nodeId);

    /// <summary>
    /// Why a signature made for network <paramref name="networkId"/> at <paramref name="signedAt"/>
    /// does not hold, or null when it does. Without a certificate, the network's own pinned
    /// key signed it (as in 0.1.0; <paramref name="networkKey"/> stands in for a network
    /// not pinned here). With one, the certificate must be the network's, valid at that
    /// time and for a key not revoked from before it, and the node key it names must have
    /// made the signature.
    /// </summary>
    public string? WhyNot(string networkId, CertifiedKey? certificate, DateTimeOffset signedAt, SignedKind kind,
        ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, byte[]? networkKey = null)
    {
        if (certificate is null)
        {
            if (Knows(networkId))
            {
                return Verify(networkId, kind, data, signature) ? null : $"its signature does not verify against the pinned key of {Identifiers.Fingerprint(networkId)}";
            }
            return networkKey is not null && VerifyWith(networkKey, kind, data, signature)
                ? null
                : $"its signature does not verify against the key of {Identifiers.Fingerprint(networkId)}";
        }
        CheckedCertificate network;
        try
        {
            network = Check(certificate);
        }
        catch (InvalidKeyCertificateException e)
        {
            return e.Message;
        }
        if (network.NetworkId != networkId)
        {
            return $"its node key is certified for network {Identifiers.ShortFingerprint(network.NetworkId)}, not {Identifiers.ShortFingerprint(networkId)}";
        }
        if (network.WhyNotValidAt(signedAt) is { } outside)
        {
            return outside;
        }
        if (RevokedSince(networkId, network.KeyId) is { } since && signedAt >= since)
        {
            return $"it was signed at {signedAt:u} by node key {Identifiers.ShortFingerprint(network.KeyId)}, which its network revoked as compromised since {since:u}";
        }
        var pinned = _nodeKeys.GetOrAdd(network.KeyId, _ => VerifyingKey.Import(network.NodePublicKey));
        return pinned.Verify(kind, data, signature)
            ? null
            : $"its signature does not verify against node key {Identifiers.ShortFingerprint(network.KeyId)} of {Identifiers.Fingerprint(networkId)}";
    }

    /// <summary>A certificate checked once and remembered, with its signature, by its bytes.</summary>
    public CheckedCertificate Check(CertifiedKey certificate)
    {
        if (_certificates.TryGetValue(certificate.Certificate, out var known) && known.Signature.Equals(certificate.Signature))
        {
            return known.Checked;
        }
        var checkedCertificate = NetworkSignatures.Check(certificate);
        if (_certificates.Count >= CertificatesKept)
        {
            _certificates.Clear();
        }
        _certificates[certificate.Certificate] = (certificate.Signature, checkedCertificate);
        return checkedCertificate;
    }

    /// <summary>Since when a network's node key is revoked, or null if it is not.</summary>
    public DateTimeOffset? RevokedSince(string networkId, string keyId) =>
        _revoked.TryGetValue((networkId, keyId), out var r) ? r.CompromisedSince : null;

    /// <summary>Applies a checked revocation; an earlier time for the same key wins (what was compromised stays so).</summary>
    public void Revoke(CheckedRevocation revocation) =>
        _revoked.AddOrUpdate((revocation.NetworkId, revocation.KeyId), revocation,
            (_, held) => revocation.CompromisedSince < held.CompromisedSince ? revocation : held);

    /// <summary>The revocations held for <paramref name="networkId"/>, as signed.</summary>
    public IReadOnlyList<CheckedRevocation> RevocationsOf(string networkId) =>
        _revoked.Values.Where(r => r.NetworkId == networkId).OrderBy(r => r.IssuedAt).ToList();
}
