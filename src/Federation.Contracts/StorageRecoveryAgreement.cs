using System.Security.Cryptography;

namespace Federation.Contracts;

/// <summary>
/// The key agreement behind recovering a node's storage key through the network key (issue
/// 24, docs/adr/0026): ECIES on P-256. The node wraps the storage key's private half under a
/// key agreed between a fresh ephemeral key and the network key's public half (which its
/// certificate names); whoever holds the network key agrees the same key from the ephemeral
/// public half alone. Both sides derive it here, so they cannot drift apart. Every primitive
/// is .NET's (ECDH, HKDF-SHA256); the wrap itself is AES-GCM, on the node.
/// </summary>
public static class StorageRecoveryAgreement
{
    /// <summary>The size of the wrap key: AES-256.</summary>
    public const int KeySize = 32;

    /// <summary>
    /// Domain separation: the network key also signs (certificates, revocations), so what is
    /// derived from it for recovery names its purpose, and can serve nothing else.
    /// </summary>
    private static ReadOnlySpan<byte> Label => "solnet/v1/storage-recovery\0"u8;

    /// <summary>The node's side: a new ephemeral key, and the wrap key it agrees with <paramref name="networkPublicKey"/> (a SubjectPublicKeyInfo).</summary>
    public static (byte[] EphemeralPublicKey, byte[] WrapKey) Agree(ReadOnlySpan<byte> networkPublicKey)
    {
        using var network = ImportP256(networkPublicKey, "the network key");
        using var ephemeral = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var ephemeralPublicKey = ephemeral.ExportSubjectPublicKeyInfo();
        return (ephemeralPublicKey, Derive(ephemeral, network, ephemeralPublicKey, networkPublicKey));
    }

    /// <summary>
    /// The network key holder's side: the wrap key for <paramref name="ephemeralPublicKey"/>.
    /// Throws <see cref="ArgumentException"/> for a key that is not a P-256 public key.
    /// </summary>
    public static byte[] WrapKeyFor(ECParameters networkPrivateKey, ReadOnlySpan<byte> ephemeralPublicKey)
    {
        using var network = ECDiffieHellman.Create(networkPrivateKey);
        using var ephemeral = ImportP256(ephemeralPublicKey, "the node's recovery wrap");
        var networkPublicKey = network.ExportSubjectPublicKeyInfo();
        return Derive(network, ephemeral, ephemeralPublicKey, networkPublicKey);
    }

    /// <summary>
    /// HKDF over the raw shared secret, bound to both public keys: a wrap key serves one wrap
    /// only, so the key that travels during a recovery opens nothing made after it.
    /// </summary>
    private static byte[] Derive(ECDiffieHellman own, ECDiffieHellman other, ReadOnlySpan<byte> ephemeralPublicKey, ReadOnlySpan<byte> networkPublicKey)
    {
        var shared = own.DeriveRawSecretAgreement(other.PublicKey);
        try
        {
            byte[] info = [.. Label, .. ephemeralPublicKey, .. networkPublicKey];
            return HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, KeySize, salt: [], info);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    private static ECDiffieHellman ImportP256(ReadOnlySpan<byte> subjectPublicKeyInfo, string what)
    {
        var key = ECDiffieHellman.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out _);
            if (key.ExportParameters(false).Curve.Oid?.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                throw new ArgumentException($"The public key of {what} is not on P-256.");
            }
            return key;
        }
        catch (CryptographicException)
        {
            key.Dispose();
            throw new ArgumentException($"The public key of {what} is not readable.");
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }
}
