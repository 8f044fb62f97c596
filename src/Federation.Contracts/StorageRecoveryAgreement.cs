using Federation.Contracts.V1;

namespace Federation.Contracts;

/// <summary>
/// The key agreement behind recovering a node's storage key through the network key (issue
/// 24, docs/adr/0026): the node wraps the storage key's private half under a key agreed
/// between a fresh ephemeral key and the network key's public half (which its certificate
/// names); whoever holds the network key agrees the same key from the ephemeral public half
/// alone. Both sides derive it here, chosen by the network key's algorithm, so they cannot
/// drift apart: ECIES on P-256 (<see cref="EciesP256"/>) for a P-256 network key, on X25519
/// (<see cref="EciesX25519"/>, docs/adr/0029) for an Ed25519 one. The wrap itself is AES-GCM, on the node.
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

    private const string NetworkKeyName = "the network key";
    private const string WrapName = "the node's recovery wrap";

    /// <summary>
    /// The format version of a wrap made for <paramref name="networkPublicKey"/>: 1 for ECIES on
    /// P-256, 2 for ECIES on X25519. The ephemeral key names its algorithm too; the version
    /// says it before anything is parsed.
    /// </summary>
    public static int FormatVersionFor(ReadOnlySpan<byte> networkPublicKey) =>
        Signatures.AlgorithmOf(networkPublicKey) == SignatureAlgorithm.Ed25519 ? 2 : 1;

    /// <summary>The node's side: a new ephemeral key, and the wrap key it agrees with <paramref name="networkPublicKey"/> (a SubjectPublicKeyInfo).</summary>
    public static (byte[] EphemeralPublicKey, byte[] WrapKey) Agree(ReadOnlySpan<byte> networkPublicKey) =>
        Signatures.AlgorithmOf(networkPublicKey) == SignatureAlgorithm.Ed25519
            ? EciesX25519.Agree(networkPublicKey, Label, NetworkKeyName)
            : EciesP256.Agree(networkPublicKey, Label, NetworkKeyName);

    /// <summary>
    /// The network key holder's side: the wrap key for <paramref name="ephemeralPublicKey"/>.
    /// Throws <see cref="ArgumentException"/> for an ephemeral key that is not of the network key's kind.
    /// </summary>
    internal static byte[] WrapKeyFor(SigningKey networkKey, ReadOnlySpan<byte> ephemeralPublicKey)
    {
        if (networkKey.Algorithm == SignatureAlgorithm.Ed25519)
        {
            var seed = networkKey.ExportRawPrivateKey();
            try
            {
                return EciesX25519.KeyFor(seed, networkKey.PublicKey, ephemeralPublicKey, Label, WrapName);
            }
            finally
            {
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(seed);
            }
        }
        var parameters = networkKey.Ecdsa!.ExportParameters(includePrivateParameters: true);
        try
        {
            return EciesP256.KeyFor(parameters, ephemeralPublicKey, Label, WrapName);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(parameters.D);
        }
    }
}
