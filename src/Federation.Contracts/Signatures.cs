using System.Collections.Concurrent;
using System.Security.Cryptography;
using Federation.Contracts.V1;
using Sodium = NSec.Cryptography;

namespace Federation.Contracts;

/// <summary>
/// What a signature is of. Every kind is signed over a prefix naming it
/// (<see cref="Signatures.Prefix"/>), so a signature made for one kind can never verify as
/// another: an event's as a call's, a certificate's as a revocation's (docs/adr/0028).
/// </summary>
public enum SignedKind
{
    Event,
    Submission,
    Call,
    Certificate,
    Revocation,
    Bundle,
    /// <summary>A node key vouching for the separate key its TLS certificate holds (Ed25519 keys cannot be in an X.509 certificate here).</summary>
    TlsKey,
    /// <summary>A node key vouching for the key others encrypt to it with.</summary>
    SealingKey,
    /// <summary>The header of a parcel a relay carries (docs/adr/0027).</summary>
    RelayParcel,
}

/// <summary>
/// The signature algorithms this release makes and checks, and the one rule of what is
/// signed: the kind's prefix, then the bytes. ECDSA P-256 keeps what releases before
/// 0.2.0 signed, so that they still verify it: events, submissions and calls over their
/// bytes alone (the other kinds were prefixed from the start). Ed25519 came later and
/// prefixes every kind.
/// </summary>
public static class Signatures
{
    // An Ed25519 SubjectPublicKeyInfo: the algorithm identifier 1.3.101.112, then 32 bytes of key.
    private static ReadOnlySpan<byte> Ed25519Spki => [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

    public static ReadOnlySpan<byte> Prefix(SignedKind kind) => kind switch
    {
        SignedKind.Event => "solnet/v1/event\0"u8,
        SignedKind.Submission => "solnet/v1/submission\0"u8,
        SignedKind.Call => "solnet/v1/call\0"u8,
        SignedKind.Certificate => "solnet/v1/certificate\0"u8,
        SignedKind.Revocation => "solnet/v1/revocation\0"u8,
        SignedKind.Bundle => "solnet/v1/bundle\0"u8,
        SignedKind.TlsKey => "solnet/v1/tls-key\0"u8,
        SignedKind.SealingKey => "solnet/v1/sealing-key\0"u8,
        SignedKind.RelayParcel => "solnet/v1/relay-parcel\0"u8,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Whether a signature of <paramref name="kind"/> by <paramref name="algorithm"/> covers the kind's prefix.</summary>
    public static bool Prefixed(SignatureAlgorithm algorithm, SignedKind kind) =>
        algorithm == SignatureAlgorithm.Ed25519 || kind is not (SignedKind.Event or SignedKind.Submission or SignedKind.Call);

    /// <summary>The bytes a signature of <paramref name="kind"/> over <paramref name="data"/> is made over.</summary>
    public static byte[] Covered(SignatureAlgorithm algorithm, SignedKind kind, ReadOnlySpan<byte> data)
    {
        if (!Prefixed(algorithm, kind))
        {
            return data.ToArray();
        }
        var prefix = Prefix(kind);
        var bytes = new byte[prefix.Length + data.Length];
        prefix.CopyTo(bytes);
        data.CopyTo(bytes.AsSpan(prefix.Length));
        return bytes;
    }

    /// <summary>The algorithm of a SubjectPublicKeyInfo: Ed25519 by its identifier, anything else is taken for ECDSA P-256 and checked on import.</summary>
    public static SignatureAlgorithm AlgorithmOf(ReadOnlySpan<byte> subjectPublicKeyInfo) =>
        subjectPublicKeyInfo.Length == Ed25519Spki.Length + 32 && subjectPublicKeyInfo.StartsWith(Ed25519Spki)
            ? SignatureAlgorithm.Ed25519
            : SignatureAlgorithm.EcdsaP256Sha256;

    /// <summary>The algorithms this release verifies; Unspecified is what releases before 0.2.0 sent: ECDSA P-256, the same.</summary>
    public static bool CanVerify(SignatureAlgorithm algorithm) =>
        algorithm is SignatureAlgorithm.Unspecified or SignatureAlgorithm.EcdsaP256Sha256 or SignatureAlgorithm.Ed25519;

    /// <summary>Whether a signature that names <paramref name="declared"/> may be checked with a key of <paramref name="key"/>.</summary>
    public static bool Fits(SignatureAlgorithm declared, SignatureAlgorithm key) =>
        declared == key || declared == SignatureAlgorithm.Unspecified && key == SignatureAlgorithm.EcdsaP256Sha256;

    /// <summary>How people read an algorithm's name.</summary>
    public static string Name(SignatureAlgorithm algorithm) => algorithm switch
    {
        SignatureAlgorithm.Unspecified or SignatureAlgorithm.EcdsaP256Sha256 => "ECDSA P-256",
        SignatureAlgorithm.Ed25519 => "Ed25519",
        _ => $"algorithm {(int)algorithm}",
    };

    /// <summary>The word an operator types for an algorithm (solnet's --algorithm).</summary>
    public static SignatureAlgorithm? Parse(string text) => text.ToLowerInvariant() switch
    {
        "ed25519" => SignatureAlgorithm.Ed25519,
        "ecdsa-p256" or "ecdsa" or "p256" or "p-256" => SignatureAlgorithm.EcdsaP256Sha256,
        _ => null,
    };

    /// <summary>A one-off check against a key that is not cached; false for an unreadable key.</summary>
    public static bool Verify(ReadOnlySpan<byte> subjectPublicKeyInfo, SignedKind kind, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        VerifyingKey.TryImport(subjectPublicKeyInfo.ToArray()) is { } key && key.Verify(kind, data, signature);
}

/// <summary>
/// A public key imported once and used for many checks, from any thread: importing costs
/// more than a verification. An ECDsa instance is not documented as safe to use from
/// several threads at once, so an ECDSA key keeps a small pool of imported instances; an
/// Ed25519 key (libsodium through NSec) is immutable and shared.
/// </summary>
public sealed class VerifyingKey
{
    private readonly ConcurrentBag<ECDsa>? _pool;
    private readonly Sodium.PublicKey? _ed25519;

    private VerifyingKey(byte[] publicKey, SignatureAlgorithm algorithm, ECDsa? ecdsa, Sodium.PublicKey? ed25519)
    {
        PublicKey = publicKey;
        Algorithm = algorithm;
        if (ecdsa is not null)
        {
            _pool = [ecdsa];
        }
        _ed25519 = ed25519;
    }

    /// <summary>The SubjectPublicKeyInfo.</summary>
    public byte[] PublicKey { get; }
    public SignatureAlgorithm Algorithm { get; }

    /// <summary>Throws <see cref="CryptographicException"/> for a key that is neither ECDSA P-256 nor Ed25519.</summary>
    public static VerifyingKey Import(byte[] subjectPublicKeyInfo)
    {
        if (Signatures.AlgorithmOf(subjectPublicKeyInfo) == SignatureAlgorithm.Ed25519)
        {
            return Sodium.PublicKey.TryImport(Sodium.SignatureAlgorithm.Ed25519, subjectPublicKeyInfo, Sodium.KeyBlobFormat.PkixPublicKey, out var ed)
                ? new VerifyingKey(subjectPublicKeyInfo, SignatureAlgorithm.Ed25519, null, ed)
                : throw new CryptographicException("The Ed25519 public key is not readable.");
        }
        return new VerifyingKey(subjectPublicKeyInfo, SignatureAlgorithm.EcdsaP256Sha256, ImportEcdsa(subjectPublicKeyInfo), null);
    }

    public static VerifyingKey? TryImport(byte[] subjectPublicKeyInfo)
    {
        try
        {
            return Import(subjectPublicKeyInfo);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    private static ECDsa ImportEcdsa(byte[] subjectPublicKeyInfo)
    {
        var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out _);
        return key;
    }

    public bool Verify(SignedKind kind, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        // ECDSA events, submissions and calls are signed over their bytes alone: no copy on that hot path.
        ReadOnlySpan<byte> covered = Signatures.Prefixed(Algorithm, kind) ? Signatures.Covered(Algorithm, kind, data) : data;
        if (_ed25519 is not null)
        {
            return Sodium.SignatureAlgorithm.Ed25519.Verify(_ed25519, covered, signature);
        }
        var key = _pool!.TryTake(out var pooled) ? pooled : ImportEcdsa(PublicKey);
        try
        {
            return key.VerifyData(covered, signature, HashAlgorithmName.SHA256);
        }
        finally
        {
            _pool.Add(key);
        }
    }
}

/// <summary>
/// A private key that signs: a node key on a server, or a network key on the operator's
/// machine. Kept as PKCS#8, in PEM, for either algorithm.
/// </summary>
public sealed class SigningKey : IDisposable
{
    private const string PemLabel = "PRIVATE KEY";
    // A node key is kept in its data folder's node.key, so it must be exportable.
    private static Sodium.KeyCreationParameters Exportable => new() { ExportPolicy = Sodium.KeyExportPolicies.AllowPlaintextExport };

    private readonly ECDsa? _ecdsa;
    private readonly Sodium.Key? _ed25519;

    private SigningKey(ECDsa? ecdsa, Sodium.Key? ed25519)
    {
        _ecdsa = ecdsa;
        _ed25519 = ed25519;
        Algorithm = ed25519 is null ? SignatureAlgorithm.EcdsaP256Sha256 : SignatureAlgorithm.Ed25519;
        PublicKey = ed25519 is null ? ecdsa!.ExportSubjectPublicKeyInfo() : ed25519.PublicKey.Export(Sodium.KeyBlobFormat.PkixPublicKey);
    }

    public SignatureAlgorithm Algorithm { get; }

    /// <summary>The SubjectPublicKeyInfo.</summary>
    public byte[] PublicKey { get; }

    /// <summary>The ECDSA key itself, for what takes one (a TLS certificate, a storage-recovery agreement); null for Ed25519.</summary>
    public ECDsa? Ecdsa => _ecdsa;

    public static SigningKey Create(SignatureAlgorithm algorithm) => algorithm switch
    {
        SignatureAlgorithm.Ed25519 => new(null, Sodium.Key.Create(Sodium.SignatureAlgorithm.Ed25519, Exportable)),
        SignatureAlgorithm.EcdsaP256Sha256 or SignatureAlgorithm.Unspecified => new(ECDsa.Create(ECCurve.NamedCurves.nistP256), null),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), $"This release cannot make {Signatures.Name(algorithm)} keys."),
    };

    /// <summary>The first private key in <paramref name="pem"/> (PKCS#8, or SEC 1 for ECDSA), of either algorithm.</summary>
    public static SigningKey FromPem(string pem)
    {
        var rest = pem.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            if (rest[fields.Label].SequenceEqual(PemLabel))
            {
                return FromPkcs8(Convert.FromBase64String(rest[fields.Base64Data].ToString()));
            }
            rest = rest[fields.Location.End..];
        }
        // Not PKCS#8 (an "EC PRIVATE KEY"): only ECDSA is written that way.
        var ecdsa = ECDsa.Create();
        ecdsa.ImportFromPem(pem);
        return new SigningKey(ecdsa, null);
    }

    public static SigningKey FromPkcs8(ReadOnlySpan<byte> pkcs8)
    {
        if (Sodium.Key.TryImport(Sodium.SignatureAlgorithm.Ed25519, pkcs8, Sodium.KeyBlobFormat.PkixPrivateKey, out var ed, Exportable))
        {
            return new SigningKey(null, ed);
        }
        var ecdsa = ECDsa.Create();
        ecdsa.ImportPkcs8PrivateKey(pkcs8, out _);
        return new SigningKey(ecdsa, null);
    }

    /// <summary>
    /// The private key's own 32 bytes: the P-256 scalar, or the Ed25519 seed. Only what a
    /// network key is written down as (its recovery code) and agrees with (storage recovery).
    /// </summary>
    internal byte[] ExportRawPrivateKey() => _ed25519 is null
        ? _ecdsa!.ExportParameters(includePrivateParameters: true).D!
        : _ed25519.Export(Sodium.KeyBlobFormat.RawPrivateKey);

    /// <summary>The key whose own 32 bytes are <paramref name="raw"/> (<see cref="ExportRawPrivateKey"/>); the public half follows from them.</summary>
    internal static SigningKey FromRawPrivateKey(SignatureAlgorithm algorithm, ReadOnlySpan<byte> raw)
    {
        if (algorithm == SignatureAlgorithm.Ed25519)
        {
            return new SigningKey(null, Sodium.Key.Import(Sodium.SignatureAlgorithm.Ed25519, raw, Sodium.KeyBlobFormat.RawPrivateKey, Exportable));
        }
        var d = raw.ToArray();
        try
        {
            var ecdsa = ECDsa.Create();
            // .NET computes the public point when Q is absent.
            ecdsa.ImportParameters(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = d });
            return new SigningKey(ecdsa, null);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(d);
        }
    }

    public byte[] ExportPkcs8() => _ed25519 is null ? _ecdsa!.ExportPkcs8PrivateKey() : _ed25519.Export(Sodium.KeyBlobFormat.PkixPrivateKey);

    public string ExportPkcs8Pem() => new(PemEncoding.Write(PemLabel, ExportPkcs8()));

    public byte[] Sign(SignedKind kind, ReadOnlySpan<byte> data)
    {
        // ECDSA events, submissions and calls are signed over their bytes alone: no copy on that hot path.
        ReadOnlySpan<byte> covered = Signatures.Prefixed(Algorithm, kind) ? Signatures.Covered(Algorithm, kind, data) : data;
        return _ed25519 is null
            ? _ecdsa!.SignData(covered, HashAlgorithmName.SHA256)
            : Sodium.SignatureAlgorithm.Ed25519.Sign(_ed25519, covered);
    }

    public void Dispose()
    {
        _ecdsa?.Dispose();
        _ed25519?.Dispose();
    }
}
