using System.Collections.Concurrent;
using System.Security.Cryptography;
using Federation.Core.Peers;
using Federation.Core.Storage;
using Federation.Domain;

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

    public bool Verify(string nodeId, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (!_keys.TryGetValue(nodeId, out var pinned))
        {
            return false;
        }
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
}
