using System.Collections.Concurrent;
using System.Security.Cryptography;
using Federation.Core.Peers;
using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf;

namespace Federation.Core.Identity;

/// <summary>
/// Imported public keys of pinned peers, cached: importing a key per message costs
/// more than verifying with it. An ECDsa instance is not documented as safe to use from
/// several threads at once, and calls are verified in parallel, so each peer has a small
/// pool of imported instances: a verify rents one, and returns it after.
/// </summary>
public sealed class PeerKeys
{
    private sealed record Pinned(byte[] PublicKey, ConcurrentBag<ECDsa> Pool);

    private readonly ConcurrentDictionary<string, Pinned> _keys = new();

    // Certified node keys (docs/adr/0022), by key id, and the certificates already checked,
    // by their bytes: a peer's events all carry the same certificate, whose network
    // signature is checked once, not per event.
    private readonly ConcurrentDictionary<string, Pinned> _nodeKeys = new();
    private readonly ConcurrentDictionary<ByteString, (ByteString Signature, CheckedCertificate Checked)> _certificates = new();
    private const int CertificatesKept = 4096;

    // Revocations by (network, key): what a key signed from the time given on is refused.
    private readonly ConcurrentDictionary<(string Network, string Key), CheckedRevocation> _revoked = new();

    public static ECDsa Import(byte[] subjectPublicKeyInfo)
    {
        var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out _);
        return key;
    }

    /// <summary>Checks that <paramref name="publicKey"/> hashes to <paramref name="nodeId"/> and caches it.</summary>
    public void Pin(string nodeId, byte[] publicKey)
    {
        if (Identifiers.NodeIdFromPublicKey(publicKey) != nodeId)
        {
            throw new InvalidOperationException("The public key does not match the node id.");
        }
        var pinned = new Pinned(publicKey, new ConcurrentBag<ECDsa>());
        pinned.Pool.Add(Import(publicKey));
        _keys[nodeId] = pinned;
    }

    /// <summary>A one-off check against a key that is not cached (a suspended or revoked peer's stored key).</summary>
    public static bool VerifyWith(byte[] publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        using var key = Import(publicKey);
        return key.VerifyData(data, signature, HashAlgorithmName.SHA256);
    }

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

    public bool Verify(string nodeId, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        _keys.TryGetValue(nodeId, out var pinned) && Verify(pinned, data, signature);

    private static bool Verify(Pinned pinned, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        var key = pinned.Pool.TryTake(out var pooled) ? pooled : Import(pinned.PublicKey);
        try
        {
            return key.VerifyData(data, signature, HashAlgorithmName.SHA256);
        }
        finally
        {
            pinned.Pool.Add(key);
        }
    }

    public bool Knows(string nodeId) => _keys.ContainsKey(nodeId);

    /// <summary>
    /// Why a signature made for network <paramref name="networkId"/> at <paramref name="signedAt"/>
    /// does not hold, or null when it does. Without a certificate, the network's own pinned
    /// key signed it (as in 0.1.0; <paramref name="networkKey"/> stands in for a network
    /// not pinned here). With one, the certificate must be the network's, valid at that
    /// time and for a key not revoked from before it, and the node key it names must have
    /// made the signature.
    /// </summary>
    public string? WhyNot(string networkId, CertifiedKey? certificate, DateTimeOffset signedAt,
        ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, byte[]? networkKey = null)
    {
        if (certificate is null)
        {
            if (Knows(networkId))
            {
                return Verify(networkId, data, signature) ? null : $"its signature does not verify against the pinned key of {Identifiers.Fingerprint(networkId)}";
            }
            return networkKey is not null && VerifyWith(networkKey, data, signature)
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
        var pinned = _nodeKeys.GetOrAdd(network.KeyId, _ => new Pinned(network.NodePublicKey, new ConcurrentBag<ECDsa>()));
        return Verify(pinned, data, signature)
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
