using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Federation.Contracts.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Contracts;

/// <summary>
/// A network's long-term key (issue 16, docs/adr/0022). Its hash is the network's id,
/// which peers pin and every object id begins with; it certifies the node keys that sign
/// on servers, and revokes them. It lives on the operator's machine (a passphrase file,
/// a printed recovery code), never on the server: this type is for <c>solnet</c> and tests.
/// </summary>
public sealed class NetworkKey : IDisposable
{
    private readonly SigningKey _key;

    private NetworkKey(SigningKey key)
    {
        _key = key;
        PublicKey = key.PublicKey;
        NetworkId = IdOf(PublicKey);
    }

    /// <summary>The id of a key: the first 128 bits of the SHA-256 of its SubjectPublicKeyInfo, in hex (a node id, a network id, a key id).</summary>
    public static string IdOf(ReadOnlySpan<byte> subjectPublicKeyInfo) =>
        Convert.ToHexStringLower(SHA256.HashData(subjectPublicKeyInfo)[..16]);

    /// <summary>An id grouped in fours, for operators to read aloud and compare.</summary>
    public static string FingerprintOf(string id) =>
        string.Join('-', Enumerable.Range(0, id.Length / 4).Select(i => id.Substring(i * 4, 4)));

    /// <summary>The first 64 bits of a fingerprint, where space is short (32 bits could be matched by a made-up key).</summary>
    public static string ShortFingerprintOf(string id) => id.Length == 32 ? FingerprintOf(id)[..19] : id;

    public string NetworkId { get; }

    /// <summary>The SubjectPublicKeyInfo (ECDSA P-256 or Ed25519, OID 1.3.101.112).</summary>
    public byte[] PublicKey { get; }

    /// <summary>What this key signs with: Ed25519 for a network made by this release unless told otherwise, ECDSA P-256 for one that must peer with 0.1.0 (docs/adr/0029).</summary>
    public SignatureAlgorithm Algorithm => _key.Algorithm;

    public static NetworkKey Create(SignatureAlgorithm algorithm) => new(SigningKey.Create(algorithm));

    /// <summary>A key from its PKCS#8 form (a legacy <c>node.key</c>'s PEM is one), of either algorithm.</summary>
    public static NetworkKey FromPkcs8(ReadOnlySpan<byte> pkcs8) => new(SigningKey.FromPkcs8(pkcs8));

    public static NetworkKey FromPem(string pem) => new(SigningKey.FromPem(pem));

    public byte[] ExportPkcs8() => _key.ExportPkcs8();

    /// <summary>A signature of <paramref name="kind"/> over its covered bytes (<see cref="Signatures.Covered"/>); a network key signs only prefixed kinds (certificates, revocations).</summary>
    public byte[] Sign(SignedKind kind, ReadOnlySpan<byte> data) => _key.Sign(kind, data);

    /// <summary>
    /// The key that opens a node's storage-key recovery wrap made for <paramref name="ephemeralPublicKey"/>
    /// (docs/adr/0026): agreed here, so this key's private half never leaves the operator's machine.
    /// </summary>
    public byte[] StorageRecoveryKey(ReadOnlySpan<byte> ephemeralPublicKey) =>
        StorageRecoveryAgreement.WrapKeyFor(_key, ephemeralPublicKey);

    // The recovery code, in Crockford's base32 (no I, L, O or U to misread), grouped in fives
    // for writing down and typing. A P-256 key's is its 32-byte private scalar and a 3-byte
    // check, SHA-256 of the scalar: 56 symbols, as release 0.1.0 printed them. An Ed25519
    // seed is 32 bytes too, so its code says what it is: a leading byte naming the algorithm
    // (2, its SignatureAlgorithm number), the seed, and a check over both: 58 symbols,
    // beginning with 0. The length tells the two apart before any check, and the check
    // covers the algorithm byte, so a code cannot be read as a key of the other algorithm.
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    private const int CheckBytes = 3;
    private const int RawKeyBytes = 32;
    private const byte Ed25519Marker = (byte)SignatureAlgorithm.Ed25519;

    /// <summary>The printable recovery code: with it alone, <see cref="FromRecoveryCode"/> gives this key back.</summary>
    public string RecoveryCode()
    {
        var raw = _key.ExportRawPrivateKey();
        byte[] body = Algorithm == SignatureAlgorithm.Ed25519 ? [Ed25519Marker, .. raw] : raw;
        byte[] bytes = [.. body, .. SHA256.HashData(body).AsSpan(0, CheckBytes)];
        try
        {
            var text = Base32(bytes);
            return string.Join('-', Enumerable.Range(0, (text.Length + 4) / 5).Select(i => text.Substring(i * 5, Math.Min(5, text.Length - i * 5))));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
            CryptographicOperations.ZeroMemory(body);
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>The key a recovery code stands for; throws <see cref="FormatException"/> on a code that does not check out.</summary>
    public static NetworkKey FromRecoveryCode(string code)
    {
        var clean = new string(code.ToUpperInvariant().Where(char.IsLetterOrDigit).Select(c => c switch { 'O' => '0', 'I' or 'L' => '1', _ => c }).ToArray());
        var bytes = FromBase32(clean) ?? [];
        try
        {
            var (algorithm, bodyLength) = bytes.Length switch
            {
                RawKeyBytes + CheckBytes => (SignatureAlgorithm.EcdsaP256Sha256, RawKeyBytes),
                1 + RawKeyBytes + CheckBytes when bytes[0] == Ed25519Marker => (SignatureAlgorithm.Ed25519, 1 + RawKeyBytes),
                _ => (SignatureAlgorithm.Unspecified, 0),
            };
            var body = bytes.AsSpan(0, bodyLength);
            if (algorithm == SignatureAlgorithm.Unspecified
                || !SHA256.HashData(body).AsSpan(0, CheckBytes).SequenceEqual(bytes.AsSpan(bodyLength)))
            {
                throw new FormatException("That recovery code does not check out: a character is missing or mistyped.");
            }
            return new NetworkKey(SigningKey.FromRawPrivateKey(algorithm, body[^RawKeyBytes..]));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    private static string Base32(byte[] bytes)
    {
        var text = new StringBuilder();
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                text.Append(Alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0)
        {
            text.Append(Alphabet[(buffer << (5 - bits)) & 31]);
        }
        return text.ToString();
    }

    private static byte[]? FromBase32(string text)
    {
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in text)
        {
            var value = Alphabet.IndexOf(c);
            if (value < 0)
            {
                return null;
            }
            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                bytes.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }
        return [.. bytes];
    }

    public void Dispose() => _key.Dispose();
}

/// <summary>
/// What a network key signs: node key certificates and revocations (docs/adr/0022). Each
/// kind is signed over a prefix naming it, so a network key's signature on one kind can
/// never be presented as another (a certificate as a revocation, either as an event).
/// They are checked here too: by the node, and by solnet, which pins a node's TLS key.
/// </summary>
public static class NetworkSignatures
{
    /// <summary>
    /// How far before its certificate's start a key may sign: a key certified a moment ago
    /// signs at once, on a server whose clock may be a little behind the operator's (the
    /// allowance a receiver gives any signed date).
    /// </summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Where a certified node key's certificate rides in its TLS certificate: an OID under
    /// the 2.25 arc (a UUID as a number), so none had to be registered.
    /// </summary>
    public const string TlsExtensionOid = "2.25.215043958232424587745123062421377931311";

    /// <summary>
    /// Where a TLS certificate carries its node key's signature over the TLS key
    /// (<see cref="SignedKind.TlsKey"/>): an Ed25519 node key cannot be the key of an X.509
    /// certificate here, so the node serves a P-256 key of its own that the node key vouches
    /// for (docs/adr/0028).
    /// </summary>
    public const string TlsKeyBindingOid = "2.25.15201309575803435901393446209387628834";

    /// <summary>
    /// Where the TLS certificate of a node whose Ed25519 network key is still on its server
    /// carries that key's SubjectPublicKeyInfo: with no network certificate to name the
    /// network, the key that vouches for the TLS key (<see cref="TlsKeyBindingOid"/>) is the
    /// network's own, and its hash is the network id (docs/adr/0029).
    /// </summary>
    public const string TlsNetworkKeyOid = "2.25.206796973339225021326940543187000723839";

    /// <summary>The network certificate a TLS certificate carries, or null if it carries none (the network key itself serves).</summary>
    public static CertifiedKey? CertificateIn(System.Security.Cryptography.X509Certificates.X509Certificate2 tls)
    {
        if (tls.Extensions[TlsExtensionOid] is not { } extension)
        {
            return null;
        }
        try
        {
            return CertifiedKey.Parser.ParseFrom(extension.RawData);
        }
        catch (InvalidProtocolBufferException)
        {
            throw new InvalidKeyCertificateException("its TLS certificate carries an unreadable node key certificate");
        }
    }

    /// <summary>
    /// The network a TLS certificate speaks for: the hash of its key, or of the Ed25519 network
    /// key it carries when that key signed for its key (<see cref="TlsNetworkKeyOid"/>), or, when it carries a
    /// network certificate, the network that certificate names, once it checks out for this
    /// very key (or one its node key signed for, <see cref="TlsKeyBindingOid"/>) and is in
    /// its validity period at <paramref name="now"/>. Null: neither.
    /// </summary>
    public static CheckedCertificate? NetworkOf(System.Security.Cryptography.X509Certificates.X509Certificate2 tls, DateTimeOffset now, out string? networkId)
    {
        networkId = null;
        using var key = tls.GetECDsaPublicKey();
        if (key is null)
        {
            return null;
        }
        // Exported through ECDsa, as the node does, so the same key gives the same bytes.
        var publicKey = key.ExportSubjectPublicKeyInfo();
        try
        {
            if (CertificateIn(tls) is not { } certified)
            {
                // The network key serves itself: as the TLS key (ECDSA P-256), or, being Ed25519,
                // by its signature over the TLS key.
                if (tls.Extensions[TlsNetworkKeyOid] is not { } networkKey)
                {
                    networkId = NetworkKey.IdOf(publicKey);
                }
                else if (Signatures.AlgorithmOf(networkKey.RawData) == SignatureAlgorithm.Ed25519
                    && tls.Extensions[TlsKeyBindingOid] is { } vouch
                    && Signatures.Verify(networkKey.RawData, SignedKind.TlsKey, publicKey, vouch.RawData))
                {
                    networkId = NetworkKey.IdOf(networkKey.RawData);
                }
                return null;
            }
            var network = Check(certified);
            var vouched = network.NodePublicKey.AsSpan().SequenceEqual(publicKey)
                || tls.Extensions[TlsKeyBindingOid] is { } binding
                    && Signatures.Verify(network.NodePublicKey, SignedKind.TlsKey, publicKey, binding.RawData);
            if (vouched && network.WhyNotValidAt(now) is null)
            {
                networkId = network.NetworkId;
                return network;
            }
            return null;
        }
        catch (InvalidKeyCertificateException)
        {
            return null;
        }
    }

    /// <summary>How long a node key is certified for unless the operator says otherwise.</summary>
    public static readonly TimeSpan DefaultValidity = TimeSpan.FromDays(365);

    /// <summary>The network key's certificate for <paramref name="nodePublicKey"/>.</summary>
    public static CertifiedKey Certify(NetworkKey network, byte[] nodePublicKey, DateTimeOffset notBefore, TimeSpan validity, ulong serial, string address)
    {
        var certificate = new NodeKeyCertificate
        {
            NetworkId = network.NetworkId,
            NetworkPublicKey = ByteString.CopyFrom(network.PublicKey),
            NodePublicKey = ByteString.CopyFrom(nodePublicKey),
            NodeKeyAlgorithm = Signatures.AlgorithmOf(nodePublicKey),
            NotBefore = Timestamp.FromDateTimeOffset(notBefore),
            NotAfter = Timestamp.FromDateTimeOffset(notBefore + validity),
            Serial = serial,
            Address = address,
        }.ToByteString();
        return new CertifiedKey
        {
            Certificate = certificate,
            Signature = ByteString.CopyFrom(network.Sign(SignedKind.Certificate, certificate.Span)),
            Algorithm = network.Algorithm,
        };
    }

    public static SignedRevocation Revoke(NetworkKey network, string keyId, DateTimeOffset compromisedSince, DateTimeOffset issuedAt)
    {
        var revocation = new KeyRevocation
        {
            NetworkId = network.NetworkId,
            KeyId = keyId,
            CompromisedSince = Timestamp.FromDateTimeOffset(compromisedSince),
            IssuedAt = Timestamp.FromDateTimeOffset(issuedAt),
        }.ToByteString();
        return new SignedRevocation
        {
            Revocation = revocation,
            NetworkPublicKey = ByteString.CopyFrom(network.PublicKey),
            Signature = ByteString.CopyFrom(network.Sign(SignedKind.Revocation, revocation.Span)),
            Algorithm = network.Algorithm,
        };
    }
    /// <summary>Checks a certificate's network signature; throws <see cref="InvalidKeyCertificateException"/> saying why it does not hold.</summary>
    public static CheckedCertificate Check(CertifiedKey signed)
    {
        NodeKeyCertificate c;
        try
        {
            c = NodeKeyCertificate.Parser.ParseFrom(signed.Certificate);
        }
        catch (InvalidProtocolBufferException)
        {
            throw new InvalidKeyCertificateException("its node key certificate is not readable");
        }
        if (!CanVerify(signed.Algorithm) || !CanVerify(c.NodeKeyAlgorithm))
        {
            throw new InvalidKeyCertificateException("its node key certificate uses an algorithm this release cannot verify");
        }
        if (c.NetworkPublicKey.IsEmpty || NetworkKey.IdOf(c.NetworkPublicKey.Span) != c.NetworkId)
        {
            throw new InvalidKeyCertificateException("its node key certificate does not carry its network's own key");
        }
        if (c.NotBefore is null || c.NotAfter is null || !IsValid(c.NotBefore) || !IsValid(c.NotAfter) || c.NodePublicKey.IsEmpty)
        {
            throw new InvalidKeyCertificateException("its node key certificate is incomplete");
        }
        if (Signatures.AlgorithmOf(c.NodePublicKey.Span) != (c.NodeKeyAlgorithm == SignatureAlgorithm.Unspecified ? SignatureAlgorithm.EcdsaP256Sha256 : c.NodeKeyAlgorithm))
        {
            throw new InvalidKeyCertificateException("its node key certificate names an algorithm its node key is not of");
        }
        if (!Signatures.Fits(signed.Algorithm, Signatures.AlgorithmOf(c.NetworkPublicKey.Span))
            || !Signatures.Verify(c.NetworkPublicKey.Span, SignedKind.Certificate, signed.Certificate.Span, signed.Signature.Span))
        {
            throw new InvalidKeyCertificateException(
                $"its node key certificate is not signed by the key of network {NetworkKey.ShortFingerprintOf(c.NetworkId)}");
        }
        return new CheckedCertificate(c.NetworkId, c.NetworkPublicKey.ToByteArray(), NetworkKey.IdOf(c.NodePublicKey.Span),
            c.NodePublicKey.ToByteArray(), c.NotBefore.ToDateTimeOffset(), c.NotAfter.ToDateTimeOffset(), c.Serial, c.Address);
    }

    /// <summary>Checks a revocation's network signature; throws <see cref="InvalidKeyCertificateException"/> saying why it does not hold.</summary>
    public static CheckedRevocation Check(SignedRevocation signed)
    {
        KeyRevocation r;
        try
        {
            r = KeyRevocation.Parser.ParseFrom(signed.Revocation);
        }
        catch (InvalidProtocolBufferException)
        {
            throw new InvalidKeyCertificateException("the revocation is not readable");
        }
        if (signed.NetworkPublicKey.IsEmpty || NetworkKey.IdOf(signed.NetworkPublicKey.Span) != r.NetworkId
            || !IsId(r.KeyId))
        {
            throw new InvalidKeyCertificateException("the revocation does not carry its network's own key, or names no key");
        }
        if (r.CompromisedSince is null || !IsValid(r.CompromisedSince) || r.IssuedAt is null || !IsValid(r.IssuedAt))
        {
            throw new InvalidKeyCertificateException("the revocation has no valid time");
        }
        if (!CanVerify(signed.Algorithm) || !Signatures.Fits(signed.Algorithm, Signatures.AlgorithmOf(signed.NetworkPublicKey.Span))
            || !Signatures.Verify(signed.NetworkPublicKey.Span, SignedKind.Revocation, signed.Revocation.Span, signed.Signature.Span))
        {
            throw new InvalidKeyCertificateException(
                $"the revocation is not signed by the key of network {NetworkKey.ShortFingerprintOf(r.NetworkId)}");
        }
        return new CheckedRevocation(r.NetworkId, r.KeyId, r.CompromisedSince.ToDateTimeOffset(), r.IssuedAt.ToDateTimeOffset(), signed);
    }

    /// <summary>The algorithms this release verifies.</summary>
    public static bool CanVerify(SignatureAlgorithm algorithm) => Signatures.CanVerify(algorithm);

    private static bool IsValid(Timestamp t) => t.Seconds is >= -62135596800 and <= 253402300799 && t.Nanos is >= 0 and < 1_000_000_000;

    private static bool IsId(string id) => id.Length == 32 && id.All(char.IsAsciiHexDigitLower);
}

/// <summary>
/// The data folder's <c>node.key</c> for a certified node key: its PKCS#8 private key, then
/// its certificate under <see cref="Label"/>. Written by <c>solnet network init</c> and by
/// the node on a rotation, read by the node at start; one format for both.
/// </summary>
public static class NodeKeyFile
{
    public const string Label = "SOLNET NODE KEY CERTIFICATE";

    public static string Text(SigningKey key, CertifiedKey certificate) =>
        key.ExportPkcs8Pem() + "\n" + new string(PemEncoding.Write(Label, certificate.ToByteArray())) + "\n";

    /// <summary>The certificate a <c>node.key</c> holds, or null when it holds a key alone (the network's own).</summary>
    public static CertifiedKey? CertificateIn(string pem)
    {
        var rest = pem.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            if (rest[fields.Label].SequenceEqual(Label))
            {
                return CertifiedKey.Parser.ParseFrom(Convert.FromBase64String(rest[fields.Base64Data].ToString()));
            }
            rest = rest[fields.Location.End..];
        }
        return null;
    }
}

/// <summary>A node key certificate whose network signature has been checked (docs/adr/0022).</summary>
public sealed record CheckedCertificate(
    string NetworkId, byte[] NetworkPublicKey, string KeyId, byte[] NodePublicKey,
    DateTimeOffset NotBefore, DateTimeOffset NotAfter, ulong Serial, string Address)
{
    /// <summary>Why an item signed at <paramref name="signedAt"/> falls outside this certificate, or null.</summary>
    public string? WhyNotValidAt(DateTimeOffset signedAt) =>
        // A key certified a moment ago signs at once, on a server whose clock may be a
        // little behind the operator's: the allowance a receiver gives any signed date.
        signedAt < NotBefore - NetworkSignatures.ClockSkew || signedAt > NotAfter
            ? $"it was signed at {signedAt:u} by node key {NetworkKey.ShortFingerprintOf(KeyId)}, whose certificate is valid from {NotBefore:u} to {NotAfter:u}"
            : null;
}

/// <summary>A revocation whose network signature has been checked.</summary>
public sealed record CheckedRevocation(string NetworkId, string KeyId, DateTimeOffset CompromisedSince, DateTimeOffset IssuedAt, SignedRevocation Signed);

/// <summary>A certificate or revocation that does not hold; the message says why, for a refusal.</summary>
public sealed class InvalidKeyCertificateException(string message) : Exception(message);
