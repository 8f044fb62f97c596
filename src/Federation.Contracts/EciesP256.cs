using System.Security.Cryptography;

namespace Federation.Contracts;

/// <summary>
/// ECIES on P-256, the one copy of it in this codebase: a fresh ephemeral key agrees a key
/// with a recipient's public half; the recipient agrees the same key from the ephemeral
/// public half alone. HKDF-SHA256 over the raw shared secret, bound to both public keys and
/// to a label naming the purpose, so a key derived for one use (recovering a storage key,
/// sealing a relayed parcel) serves no other. Every primitive is .NET's; the AEAD (AES-GCM)
/// is the caller's.
/// </summary>
public static class EciesP256
{
    /// <summary>The size of the agreed key: AES-256.</summary>
    public const int KeySize = 32;

    /// <summary>The sender's side: a new ephemeral key, and the key it agrees with <paramref name="recipientPublicKey"/> (a SubjectPublicKeyInfo).</summary>
    /// <param name="what">Names the recipient's key in the refusal when it is not a P-256 public key.</param>
    public static (byte[] EphemeralPublicKey, byte[] Key) Agree(ReadOnlySpan<byte> recipientPublicKey, ReadOnlySpan<byte> label, string what)
    {
        using var recipient = ImportP256(recipientPublicKey, what);
        using var ephemeral = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var ephemeralPublicKey = ephemeral.ExportSubjectPublicKeyInfo();
        return (ephemeralPublicKey, Derive(ephemeral, recipient, ephemeralPublicKey, recipientPublicKey, label));
    }

    /// <summary>
    /// The recipient's side: the key for <paramref name="ephemeralPublicKey"/>. Throws
    /// <see cref="ArgumentException"/> for a key that is not a P-256 public key.
    /// </summary>
    public static byte[] KeyFor(ECParameters recipientPrivateKey, ReadOnlySpan<byte> ephemeralPublicKey, ReadOnlySpan<byte> label, string what)
    {
        using var recipient = ECDiffieHellman.Create(recipientPrivateKey);
        using var ephemeral = ImportP256(ephemeralPublicKey, what);
        var recipientPublicKey = recipient.ExportSubjectPublicKeyInfo();
        return Derive(recipient, ephemeral, ephemeralPublicKey, recipientPublicKey, label);
    }

    private static byte[] Derive(ECDiffieHellman own, ECDiffieHellman other, ReadOnlySpan<byte> ephemeralPublicKey, ReadOnlySpan<byte> recipientPublicKey, ReadOnlySpan<byte> label)
    {
        var shared = own.DeriveRawSecretAgreement(other.PublicKey);
        try
        {
            byte[] info = [.. label, .. ephemeralPublicKey, .. recipientPublicKey];
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
