using System.Security.Cryptography;
using Federation.Contracts;
using Federation.Contracts.V1;

namespace Federation.Node.Tests;

/// <summary>
/// An Ed25519 network key (issue 16 #7, docs/adr/0029), checked with no node running: its
/// recovery code says which algorithm it is while every P-256 code reads as before, it
/// certifies and revokes as a P-256 key does, its file form round-trips, and the storage
/// recovery agreement reaches it through X25519.
/// </summary>
public sealed class Ed25519NetworkKeyTests
{
    // RFC 8032 §7.1, test 1: the seed and its Ed25519 public key.
    private static readonly byte[] Rfc8032Seed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    private static readonly byte[] Rfc8032Public = Convert.FromHexString("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    // Its X25519 form, u = (1 + y) / (1 − y) mod 2^255 − 19, computed apart from this code
    // (Python integers, and a Montgomery ladder from the clamped SHA-512 of the seed: the same u).
    private static readonly byte[] Rfc8032X25519 = Convert.FromHexString("d85e07ec22b0ad881537c2f44d662d1a143cf830c57aca4305d85c7a90f6b62e");

    private static byte[] Ed25519Spki(byte[] raw) => [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, .. raw];

    [Fact]
    public void AnEd25519RecoveryCodeSaysWhichAlgorithmItIsAndGivesTheSameKeyBack()
    {
        using var network = NetworkKey.Create(SignatureAlgorithm.Ed25519);
        Assert.Equal(SignatureAlgorithm.Ed25519, network.Algorithm);
        var code = network.RecoveryCode();
        // 58 symbols beginning with 0 (a P-256 code has 56): the algorithm byte leads.
        Assert.Matches(@"^0\w{4}-(\w{5}-){10}\w{3}$", code);

        using var again = NetworkKey.FromRecoveryCode(code.Replace("-", " ").ToLowerInvariant().Replace('0', 'o'));
        Assert.Equal(SignatureAlgorithm.Ed25519, again.Algorithm);
        Assert.Equal(network.NetworkId, again.NetworkId);

        var wrong = code[..10] + (code[10] == 'A' ? 'B' : 'A') + code[11..];
        Assert.Throws<FormatException>(() => NetworkKey.FromRecoveryCode(wrong));
        Assert.Throws<FormatException>(() => NetworkKey.FromRecoveryCode(code[..^2]));
    }

    [Fact]
    public void ARecoveryCodeOfAP256KeyPrintedByAnEarlierReleaseStillGivesThatKey()
    {
        // The scalar 01 02 … 20 and its code as release 0.1.0 printed it (scalar + SHA-256 check).
        const string Printed = "04106-1050R-3GG28-A1C60-T3GF2-08H44-RM2MB-1E60S-38DHR-78Y3W-GAW8B-C";
        using var network = NetworkKey.FromRecoveryCode(Printed);
        Assert.Equal(SignatureAlgorithm.EcdsaP256Sha256, network.Algorithm);
        using var expected = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = [.. Enumerable.Range(1, 32).Select(i => (byte)i)] });
        Assert.Equal(expected.ExportSubjectPublicKeyInfo(), network.PublicKey);
        Assert.Equal(Printed, network.RecoveryCode());
    }

    [Fact]
    public void AnEd25519NetworkKeyRoundTripsItsFileFormAndCertifiesAndRevokesUnderItsOwnAlgorithm()
    {
        using var network = NetworkKey.Create(SignatureAlgorithm.Ed25519);
        using var fromFile = NetworkKey.FromPkcs8(network.ExportPkcs8());
        Assert.Equal(network.PublicKey, fromFile.PublicKey);
        Assert.Equal(SignatureAlgorithm.Ed25519, Signatures.AlgorithmOf(network.PublicKey));

        foreach (var nodeAlgorithm in new[] { SignatureAlgorithm.Ed25519, SignatureAlgorithm.EcdsaP256Sha256 })
        {
            using var node = SigningKey.Create(nodeAlgorithm);
            var certificate = NetworkSignatures.Certify(fromFile, node.PublicKey, DateTimeOffset.UtcNow, TimeSpan.FromDays(1), 1, "");
            Assert.Equal(SignatureAlgorithm.Ed25519, certificate.Algorithm);
            var checkedCertificate = NetworkSignatures.Check(certificate);
            Assert.Equal(network.NetworkId, checkedCertificate.NetworkId);

            var revocation = NetworkSignatures.Revoke(network, checkedCertificate.KeyId, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);
            Assert.Equal(checkedCertificate.KeyId, NetworkSignatures.Check(revocation).KeyId);
            // Named as ECDSA, an Ed25519 signature is refused before it is checked.
            var misnamed = new CertifiedKey(certificate) { Algorithm = SignatureAlgorithm.EcdsaP256Sha256 };
            Assert.Throws<InvalidKeyCertificateException>(() => NetworkSignatures.Check(misnamed));
            // The revocation's bytes signed as a certificate: refused as a revocation.
            var asCertificate = new SignedRevocation(revocation) { Signature = Google.Protobuf.ByteString.CopyFrom(network.Sign(SignedKind.Certificate, revocation.Revocation.Span)) };
            Assert.Throws<InvalidKeyCertificateException>(() => NetworkSignatures.Check(asCertificate));
        }
    }

    [Fact]
    public void TheX25519FormOfAnEd25519KeyMatchesTheKnownAnswerFromEitherHalf()
    {
        Assert.Equal(Rfc8032X25519, EciesX25519.PublicKeyToX25519(Ed25519Spki(Rfc8032Public)));
        // The private side's public half is the public side's conversion.
        using var x25519 = EciesX25519.PrivateKeyToX25519(Rfc8032Seed);
        Assert.Equal(Rfc8032X25519, x25519.PublicKey.Export(NSec.Cryptography.KeyBlobFormat.RawPublicKey));

        // And for a fresh key, through the network key's own two halves.
        using var network = NetworkKey.Create(SignatureAlgorithm.Ed25519);
        var seed = NSec.Cryptography.Key.Import(NSec.Cryptography.SignatureAlgorithm.Ed25519, network.ExportPkcs8(), NSec.Cryptography.KeyBlobFormat.PkixPrivateKey,
            new() { ExportPolicy = NSec.Cryptography.KeyExportPolicies.AllowPlaintextExport }).Export(NSec.Cryptography.KeyBlobFormat.RawPrivateKey);
        using var fresh = EciesX25519.PrivateKeyToX25519(seed);
        Assert.Equal(EciesX25519.PublicKeyToX25519(network.PublicKey), fresh.PublicKey.Export(NSec.Cryptography.KeyBlobFormat.RawPublicKey));
    }

    [Fact]
    public void AnEd25519KeyOfLowOrderOrNotCanonicalOrOffTheCurveHasNoX25519Form()
    {
        // The neutral point (y = 1), a point of order 2 (y = −1), and y = p (not canonical).
        byte[] neutral = [1, .. new byte[31]];
        var minusOne = Convert.FromHexString("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        var p = Convert.FromHexString("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        foreach (var bad in new[] { neutral, minusOne, p })
        {
            Assert.Throws<ArgumentException>(() => EciesX25519.PublicKeyToX25519(Ed25519Spki(bad)));
        }
        // y = 2 is on no Ed25519 point.
        byte[] two = [2, .. new byte[31]];
        Assert.Contains("not a point", Assert.Throws<ArgumentException>(() => EciesX25519.PublicKeyToX25519(Ed25519Spki(two))).Message);
    }

    [Theory]
    [InlineData(SignatureAlgorithm.Ed25519)]
    [InlineData(SignatureAlgorithm.EcdsaP256Sha256)]
    public void TheNodeAndTheNetworkKeyHolderAgreeTheSameRecoveryKeyAndNoOtherKeyDoes(SignatureAlgorithm algorithm)
    {
        using var network = NetworkKey.Create(algorithm);
        var (ephemeral, wrapKey) = StorageRecoveryAgreement.Agree(network.PublicKey);
        Assert.Equal(StorageRecoveryAgreement.KeySize, wrapKey.Length);
        Assert.Equal(wrapKey, network.StorageRecoveryKey(ephemeral));
        Assert.Equal(algorithm == SignatureAlgorithm.Ed25519 ? 2 : 1, StorageRecoveryAgreement.FormatVersionFor(network.PublicKey));

        // Another key of the same algorithm agrees another key; one of the other algorithm refuses the ephemeral key.
        using var other = NetworkKey.Create(algorithm);
        Assert.NotEqual(wrapKey, other.StorageRecoveryKey(ephemeral));
        using var otherKind = NetworkKey.Create(algorithm == SignatureAlgorithm.Ed25519 ? SignatureAlgorithm.EcdsaP256Sha256 : SignatureAlgorithm.Ed25519);
        Assert.Throws<ArgumentException>(() => otherKind.StorageRecoveryKey(ephemeral));
        // A second wrap for the same network key has its own ephemeral key and wrap key.
        var (ephemeral2, wrapKey2) = StorageRecoveryAgreement.Agree(network.PublicKey);
        Assert.NotEqual(ephemeral, ephemeral2);
        Assert.NotEqual(wrapKey, wrapKey2);
    }

    [Fact]
    public void AnEd25519NetworkKeyOnItsServerVouchesForItsTlsKeyAndNoOtherKeyCanSpeakForIt()
    {
        using var network = SigningKey.Create(SignatureAlgorithm.Ed25519);
        var networkId = NetworkKey.IdOf(network.PublicKey);
        using var tls = Federation.Core.Identity.NodeCertificate.Create(network, networkId, ["127.0.0.1"]);
        Assert.Null(NetworkSignatures.NetworkOf(tls, DateTimeOffset.UtcNow, out var servedFor));
        Assert.Equal(networkId, servedFor);

        // Another key signs for a TLS key in that network's name: it speaks for no network.
        using var impostor = SigningKey.Create(SignatureAlgorithm.Ed25519);
        using var tlsKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=impostor", tlsKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509Extension(NetworkSignatures.TlsNetworkKeyOid, network.PublicKey, critical: false));
        request.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509Extension(NetworkSignatures.TlsKeyBindingOid,
            impostor.Sign(SignedKind.TlsKey, tlsKey.ExportSubjectPublicKeyInfo()), critical: false));
        using var forged = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        Assert.Null(NetworkSignatures.NetworkOf(forged, DateTimeOffset.UtcNow, out var forgedFor));
        Assert.Null(forgedFor);
        Assert.Null(Federation.Core.Identity.NodeCertificate.NodeIdOf(forged));
    }

    [Fact]
    public void AnEphemeralX25519KeyOfLowOrderIsRefusedByTheNetworkKeyHolder()
    {
        using var network = NetworkKey.Create(SignatureAlgorithm.Ed25519);
        // The X25519 SubjectPublicKeyInfo (OID 1.3.101.110) of u = 0.
        byte[] zero = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00, .. new byte[32]];
        Assert.Throws<ArgumentException>(() => network.StorageRecoveryKey(zero));
    }
}
