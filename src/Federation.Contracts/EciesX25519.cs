using System.Numerics;
using System.Security.Cryptography;
using Sodium = NSec.Cryptography;

namespace Federation.Contracts;

/// <summary>
/// ECIES on X25519 to an Ed25519 key (docs/adr/0029), the counterpart of <see cref="EciesP256"/>:
/// a fresh ephemeral X25519 key agrees a key with the X25519 form of a recipient's Ed25519
/// public key, and the recipient agrees the same key from its Ed25519 seed and the ephemeral
/// public half alone. HKDF-SHA256 over the shared secret (libsodium's, never copied out), bound
/// to the label, the ephemeral key's SubjectPublicKeyInfo and the recipient's Ed25519
/// SubjectPublicKeyInfo, as EciesP256 binds its two keys.
/// </summary>
public static class EciesX25519
{
    /// <summary>The size of the agreed key: AES-256.</summary>
    public const int KeySize = EciesP256.KeySize;

    private static readonly Sodium.KeyAgreementAlgorithm X25519 = Sodium.KeyAgreementAlgorithm.X25519;

    // The field of both curves: p = 2^255 - 19.
    private static readonly BigInteger P = BigInteger.Pow(2, 255) - 19;
    // Ed25519's d = -121665/121666 mod p (RFC 8032 §5.1).
    private static readonly BigInteger D = Mod(-121665 * BigInteger.ModPow(121666, P - 2, P));

    /// <summary>The sender's side: a new ephemeral key (its SubjectPublicKeyInfo), and the key it agrees with <paramref name="recipientEd25519"/> (a SubjectPublicKeyInfo).</summary>
    /// <param name="what">Names the recipient's key in the refusal when it is not a usable Ed25519 public key.</param>
    public static (byte[] EphemeralPublicKey, byte[] Key) Agree(ReadOnlySpan<byte> recipientEd25519, ReadOnlySpan<byte> label, string what)
    {
        var recipient = Sodium.PublicKey.Import(X25519, PublicKeyToX25519(recipientEd25519, what), Sodium.KeyBlobFormat.RawPublicKey);
        using var ephemeral = Sodium.Key.Create(X25519);
        var ephemeralPublicKey = ephemeral.PublicKey.Export(Sodium.KeyBlobFormat.PkixPublicKey);
        return (ephemeralPublicKey, Derive(ephemeral, recipient, ephemeralPublicKey, recipientEd25519, label, what));
    }

    /// <summary>
    /// The recipient's side: the key for <paramref name="ephemeralPublicKey"/> (an X25519
    /// SubjectPublicKeyInfo), from the recipient's Ed25519 seed. Throws <see cref="ArgumentException"/>
    /// for an ephemeral key that is not an X25519 public key, or a low-order one.
    /// </summary>
    public static byte[] KeyFor(ReadOnlySpan<byte> recipientSeed, ReadOnlySpan<byte> recipientEd25519, ReadOnlySpan<byte> ephemeralPublicKey, ReadOnlySpan<byte> label, string what)
    {
        if (!Sodium.PublicKey.TryImport(X25519, ephemeralPublicKey, Sodium.KeyBlobFormat.PkixPublicKey, out var ephemeral))
        {
            throw new ArgumentException($"The public key of {what} is not an X25519 key.");
        }
        using var recipient = PrivateKeyToX25519(recipientSeed);
        return Derive(recipient, ephemeral!, ephemeralPublicKey, recipientEd25519, label, what);
    }

    private static byte[] Derive(Sodium.Key own, Sodium.PublicKey other, ReadOnlySpan<byte> ephemeralPublicKey, ReadOnlySpan<byte> recipientEd25519, ReadOnlySpan<byte> label, string what)
    {
        // libsodium refuses an all-zero result: the other key was of low order.
        using var shared = X25519.Agree(own, other) ?? throw new ArgumentException($"The public key of {what} is of low order: it agrees no secret.");
        byte[] info = [.. label, .. ephemeralPublicKey, .. recipientEd25519];
        return Sodium.KeyDerivationAlgorithm.HkdfSha256.DeriveBytes(shared, salt: [], info, KeySize);
    }

    /// <summary>
    /// The X25519 private key of an Ed25519 seed: the first half of SHA-512(seed), clamped, the
    /// scalar Ed25519 itself signs with (RFC 8032 §5.1.5), as libsodium's
    /// crypto_sign_ed25519_sk_to_curve25519 makes it. Its public half is
    /// <see cref="PublicKeyToX25519"/> of the seed's Ed25519 public key.
    /// </summary>
    public static Sodium.Key PrivateKeyToX25519(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != 32)
        {
            throw new ArgumentException("An Ed25519 seed is 32 bytes.");
        }
        Span<byte> hash = stackalloc byte[64];
        SHA512.HashData(seed, hash);
        try
        {
            hash[0] &= 248;
            hash[31] &= 127;
            hash[31] |= 64;
            return Sodium.Key.Import(X25519, hash[..32], Sodium.KeyBlobFormat.RawPrivateKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(hash);
        }
    }

    /// <summary>
    /// The X25519 public key (32 bytes, little-endian u) of an Ed25519 public key (a
    /// SubjectPublicKeyInfo): the birational map u = (1 + y) / (1 − y) mod 2^255 − 19 (RFC 7748
    /// §4.1). Refuses, as libsodium's crypto_sign_ed25519_pk_to_curve25519 does, a y that is not
    /// canonical (≥ p), a point not on the curve, and a point of low order (its agreement would
    /// be predictable). The sign bit (x's) does not change u and is cleared.
    /// </summary>
    public static byte[] PublicKeyToX25519(ReadOnlySpan<byte> ed25519SubjectPublicKeyInfo, string what = "the key")
    {
        if (Signatures.AlgorithmOf(ed25519SubjectPublicKeyInfo) != Contracts.V1.SignatureAlgorithm.Ed25519)
        {
            throw new ArgumentException($"The public key of {what} is not an Ed25519 key.");
        }
        Span<byte> encoded = stackalloc byte[32];
        ed25519SubjectPublicKeyInfo[^32..].CopyTo(encoded);
        encoded[31] &= 0x7f;
        var y = new BigInteger(encoded, isUnsigned: true, isBigEndian: false);
        if (y >= P)
        {
            throw new ArgumentException($"The public key of {what} is not canonical.");
        }
        // On the curve: x² = (y² − 1) / (d·y² + 1) must be a square mod p (Euler's criterion).
        var y2 = y * y % P;
        var x2 = Mod((y2 - 1) * BigInteger.ModPow(Mod(D * y2 + 1), P - 2, P));
        if (!x2.IsZero && BigInteger.ModPow(x2, (P - 1) / 2, P) != BigInteger.One)
        {
            throw new ArgumentException($"The public key of {what} is not a point of Ed25519.");
        }
        if (y == BigInteger.One)
        {
            // The neutral point: u's denominator is zero.
            throw new ArgumentException($"The public key of {what} is of low order.");
        }
        var u = Mod((1 + y) * BigInteger.ModPow(Mod(1 - y), P - 2, P));
        if (IsLowOrder(u))
        {
            throw new ArgumentException($"The public key of {what} is of low order.");
        }
        var bytes = new byte[32];
        u.TryWriteBytes(bytes, out _, isUnsigned: true, isBigEndian: false);
        return bytes;
    }

    // The u of every point of order 1, 2, 4 or 8 on Curve25519 (RFC 7748 §7; libsodium's
    // blocklist, reduced mod p): agreeing with one gives a secret anyone can guess.
    private static readonly BigInteger[] LowOrder =
    [
        BigInteger.Zero,
        BigInteger.One,
        BigInteger.Parse("325606250916557431795983626356110631294008115727848805560023387167927233504"),
        BigInteger.Parse("39382357235489614581723060781553021112529911719440698176882885853963445705823"),
        P - 1,
    ];

    private static bool IsLowOrder(BigInteger u) => Array.IndexOf(LowOrder, u) >= 0;

    private static BigInteger Mod(BigInteger value) => (value % P + P) % P;
}
