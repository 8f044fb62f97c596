using System.Security.Cryptography;

namespace Federation.Contracts;

/// <summary>
/// The key agreement behind recovering a node's storage key through the network key (issue
/// 24, docs/adr/0026): ECIES on P-256. The node wraps the storage key's private half under a
/// key agreed between a fresh ephemeral key and the network key's public half (which its
/// certificate names); whoever holds the network key agrees the same key from the ephemeral
/// public half alone. Both sides derive it here, so they cannot drift apart. The agreement is
/// <see cref="EciesP256"/>'s; the wrap itself is AES-GCM, on the node.
/// </summary>
public static class StorageRecoveryAgreement
{
    /// <summary>The size of the wrap key: AES-256.</summary>
    public const int KeySize = EciesP256.KeySize;

    /// <summary>
    /// Domain separation: the network key also signs (certificates, revocations), so what is
    /// derived from it for recovery names its purpose, and can serve nothing else.
    /// </summary>
    private static ReadOnlySpan<byte> Label => "solnet/v1/storage-recovery\0"u8;

    /// <summary>The node's side: a new ephemeral key, and the wrap key it agrees with <paramref name="networkPublicKey"/> (a SubjectPublicKeyInfo).</summary>
    public static (byte[] EphemeralPublicKey, byte[] WrapKey) Agree(ReadOnlySpan<byte> networkPublicKey) =>
        EciesP256.Agree(networkPublicKey, Label, "the network key");

    /// <summary>
    /// The network key holder's side: the wrap key for <paramref name="ephemeralPublicKey"/>.
    /// Throws <see cref="ArgumentException"/> for a key that is not a P-256 public key.
    /// </summary>
    public static byte[] WrapKeyFor(ECParameters networkPrivateKey, ReadOnlySpan<byte> ephemeralPublicKey) =>
        EciesP256.KeyFor(networkPrivateKey, ephemeralPublicKey, Label, "the node's recovery wrap");
}
