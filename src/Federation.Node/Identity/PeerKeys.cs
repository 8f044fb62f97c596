using System.Collections.Concurrent;
using System.Security.Cryptography;
using Federation.Domain;

namespace Federation.Node.Identity;

/// <summary>
/// Imported public keys of pinned peers, cached: importing a key per message costs
/// more than verifying with it.
/// </summary>
public sealed class PeerKeys
{
    private readonly ConcurrentDictionary<string, ECDsa> _keys = new();

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
        _keys[nodeId] = Import(publicKey);
    }

    public void Forget(string nodeId) => _keys.TryRemove(nodeId, out _);

    public bool Verify(string nodeId, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        _keys.TryGetValue(nodeId, out var key) && key.VerifyData(data, signature, HashAlgorithmName.SHA256);

    public bool Knows(string nodeId) => _keys.ContainsKey(nodeId);
}
