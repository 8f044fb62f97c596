using System.Security.Cryptography;
using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Google.Protobuf;

namespace Federation.Node.Tests;

/// <summary>
/// What a network key signs (issue 16, docs/adr/0022), checked with no node running: the
/// recovery code, a forged certificate, a certificate out of its time, a revoked key, and a
/// signature of one kind presented as another.
/// </summary>
public sealed class NetworkSignatureTests
{
    private static readonly byte[] Data = "an event's payload, exactly as signed"u8.ToArray();

    private static (SigningKey Key, CertifiedKey Certificate) NodeKeyOf(NetworkKey network, DateTimeOffset from, TimeSpan validity, ulong serial = 1,
        SignatureAlgorithm algorithm = SignatureAlgorithm.EcdsaP256Sha256)
    {
        var key = SigningKey.Create(algorithm);
        return (key, NetworkSignatures.Certify(network, key.PublicKey, from, validity, serial, "https://alpha.example:5001"));
    }

    private static byte[] SignedBy(SigningKey key) => key.Sign(SignedKind.Event, Data);

    [Fact]
    public void TheRecoveryCodeGivesTheSameNetworkKeyBackAndAMistypedOneIsRefused()
    {
        using var network = NetworkKey.Create(SignatureAlgorithm.EcdsaP256Sha256);
        var code = network.RecoveryCode();
        Assert.Matches(@"^(\w{5}-){11}\w$", code);

        // Typed back in lower case, without dashes, an O for a 0: still the same key.
        var typed = code.Replace("-", " ").ToLowerInvariant().Replace('0', 'o');
        using var again = NetworkKey.FromRecoveryCode(typed);
        Assert.Equal(network.NetworkId, again.NetworkId);
        var (key, certificate) = NodeKeyOf(again, DateTimeOffset.UtcNow, TimeSpan.FromDays(1));
        Assert.Equal(network.NetworkId, NetworkSignatures.Check(certificate).NetworkId);
        key.Dispose();

        var wrong = (code[0] == 'A' ? 'B' : 'A') + code[1..];
        Assert.Throws<FormatException>(() => NetworkKey.FromRecoveryCode(wrong));
        Assert.Throws<FormatException>(() => NetworkKey.FromRecoveryCode(code[..^3]));
    }

    [Fact]
    public void ACertificateNotSignedByTheNetworkItNamesIsRefused()
    {
        using var network = NetworkKey.Create(SignatureAlgorithm.EcdsaP256Sha256);
        using var impostor = NetworkKey.Create(SignatureAlgorithm.EcdsaP256Sha256);
        var (key, genuine) = NodeKeyOf(network, DateTimeOffset.UtcNow, TimeSpan.FromDays(1));
        // The impostor signs a certificate that names the network and carries its public key.
        var forged = new CertifiedKey
        {
            Certificate = genuine.Certificate,
            Signature = ByteString.CopyFrom(impostor.Sign(SignedKind.Certificate, genuine.Certificate.Span)),
        };
        var refused = Assert.Throws<InvalidKeyCertificateException>(() => NetworkSignatures.Check(forged));
        Assert.Contains("is not signed by the key of network", refused.Message);

        // At a receiver, nothing the certified key signs is taken on such a certificate.
        var keys = new PeerKeys();
        keys.Pin(network.NetworkId, network.PublicKey);
        Assert.Null(keys.WhyNot(network.NetworkId, genuine, DateTimeOffset.UtcNow, SignedKind.Event, Data, SignedBy(key)));
        Assert.Contains("is not signed by the key of network", keys.WhyNot(network.NetworkId, forged, DateTimeOffset.UtcNow, SignedKind.Event, Data, SignedBy(key)));
        // Nor for another network than the one it names.
        using var other = NetworkKey.Create(SignatureAlgorithm.EcdsaP256Sha256);
        Assert.Contains("certified for network", keys.WhyNot(other.NetworkId, genuine, DateTimeOffset.UtcNow, SignedKind.Event, Data, SignedBy(key)));
        key.Dispose();
    }

    [Fact]
    public void ASignatureOfOneKindNeverVerifiesAsAnother()
    {
        using var network = NetworkKey.Create(SignatureAlgorithm.EcdsaP256Sha256);
        var (key, certificate) = NodeKeyOf(network, DateTimeOffset.UtcNow, TimeSpan.FromDays(1));
        var revocation = NetworkSignatures.Revoke(network, NetworkKey.IdOf(key.PublicKey), DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);
        Assert.Equal(network.NetworkId, NetworkSignatures.Check(revocation).NetworkId);

        // The revocation's bytes, signed as a certificate is: refused as a revocation.
        var asCertificate = new SignedRevocation(revocation)
        {
            Signature = ByteString.CopyFrom(network.Sign(SignedKind.Certificate, revocation.Revocation.Span)),
        };
        Assert.Throws<InvalidKeyCertificateException>(() => NetworkSignatures.Check(asCertificate));
        // The certificate's bytes, signed as an ECDSA event is (with no prefix): refused as a certificate.
        var asEvent = new CertifiedKey(certificate) { Signature = ByteString.CopyFrom(network.Sign(SignedKind.Event, certificate.Certificate.Span)) };
        Assert.Throws<InvalidKeyCertificateException>(() => NetworkSignatures.Check(asEvent));
        key.Dispose();
    }

    /// <summary>
    /// Every kind is signed over its own prefix (docs/adr/0028). Under Ed25519 no signature
    /// verifies as another kind; ECDSA P-256 keeps what releases before 0.2.0 signed, so its
    /// events, submissions and calls share the one unprefixed form, and only those.
    /// </summary>
    [Theory]
    [InlineData(SignatureAlgorithm.Ed25519)]
    [InlineData(SignatureAlgorithm.EcdsaP256Sha256)]
    public void UnderEitherAlgorithmASignatureVerifiesOnlyAsTheKindItWasMadeFor(SignatureAlgorithm algorithm)
    {
        using var key = SigningKey.Create(algorithm);
        using var again = SigningKey.FromPem(key.ExportPkcs8Pem());
        Assert.Equal(key.PublicKey, again.PublicKey);
        Assert.Equal(algorithm, Signatures.AlgorithmOf(key.PublicKey));
        var verifying = VerifyingKey.Import(again.PublicKey);
        foreach (var signedAs in Enum.GetValues<SignedKind>())
        {
            var signature = again.Sign(signedAs, Data);
            foreach (var checkedAs in Enum.GetValues<SignedKind>())
            {
                var sameUnprefixedForm = !Signatures.Prefixed(algorithm, signedAs) && !Signatures.Prefixed(algorithm, checkedAs);
                Assert.True(verifying.Verify(checkedAs, Data, signature) == (signedAs == checkedAs || sameUnprefixedForm),
                    $"{algorithm}: signed as {signedAs}, checked as {checkedAs}");
            }
            Assert.False(verifying.Verify(signedAs, "other bytes"u8, signature));
        }
    }

    [Fact]
    public void AnEd25519NodeKeyIsCertifiedByAP256NetworkKeyAndItsCertificateNamesItsAlgorithm()
    {
        using var network = NetworkKey.Create(SignatureAlgorithm.EcdsaP256Sha256);
        var (key, certificate) = NodeKeyOf(network, DateTimeOffset.UtcNow, TimeSpan.FromDays(1), algorithm: SignatureAlgorithm.Ed25519);
        var keys = new PeerKeys();
        keys.Pin(network.NetworkId, network.PublicKey);
        Assert.Null(keys.WhyNot(network.NetworkId, certificate, DateTimeOffset.UtcNow, SignedKind.Event, Data, SignedBy(key)));
        Assert.Contains("does not verify", keys.WhyNot(network.NetworkId, certificate, DateTimeOffset.UtcNow, SignedKind.Call, Data, SignedBy(key)));

        // A certificate that says ECDSA over an Ed25519 key is refused, whoever signed it.
        var body = NodeKeyCertificate.Parser.ParseFrom(certificate.Certificate);
        body.NodeKeyAlgorithm = SignatureAlgorithm.EcdsaP256Sha256;
        var mislabelled = new CertifiedKey { Certificate = body.ToByteString() };
        mislabelled.Signature = ByteString.CopyFrom(network.Sign(SignedKind.Certificate, mislabelled.Certificate.Span));
        Assert.Contains("names an algorithm its node key is not of", Assert.Throws<InvalidKeyCertificateException>(() => NetworkSignatures.Check(mislabelled)).Message);
        key.Dispose();
    }

    [Fact]
    public void AKeySignsOnlyWithinItsCertificateAndNotFromTheTimeItWasRevoked()
    {
        using var network = NetworkKey.Create(SignatureAlgorithm.EcdsaP256Sha256);
        var start = new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
        var (key, certificate) = NodeKeyOf(network, start, TimeSpan.FromDays(30));
        var keys = new PeerKeys();
        keys.Pin(network.NetworkId, network.PublicKey);
        var signature = SignedBy(key);

        Assert.Null(keys.WhyNot(network.NetworkId, certificate, start.AddDays(10), SignedKind.Event, Data, signature));
        Assert.Contains("whose certificate is valid from", keys.WhyNot(network.NetworkId, certificate, start.AddDays(31), SignedKind.Event, Data, signature));
        Assert.Contains("whose certificate is valid from", keys.WhyNot(network.NetworkId, certificate, start.AddHours(-1), SignedKind.Event, Data, signature));
        Assert.Contains("does not verify", keys.WhyNot(network.NetworkId, certificate, start.AddDays(10), SignedKind.Event, "other bytes"u8, signature));

        var since = start.AddDays(20);
        var checkedRevocation = NetworkSignatures.Check(NetworkSignatures.Revoke(network, NetworkKey.IdOf(key.PublicKey), since, since.AddDays(1)));
        keys.Revoke(checkedRevocation);
        Assert.Null(keys.WhyNot(network.NetworkId, certificate, since.AddSeconds(-1), SignedKind.Event, Data, signature));
        Assert.Contains("revoked as compromised since", keys.WhyNot(network.NetworkId, certificate, since, SignedKind.Event, Data, signature));
        // A later time for the same key does not undo the earlier one.
        keys.Revoke(NetworkSignatures.Check(NetworkSignatures.Revoke(network, checkedRevocation.KeyId, since.AddDays(5), since.AddDays(2))));
        Assert.Equal(since, keys.RevokedSince(network.NetworkId, checkedRevocation.KeyId));
        key.Dispose();
    }

    [Fact]
    public void ANodeTakesOnlyACertificateForItsNetworkItsWaitingKeyAndALaterSerial()
    {
        var folder = Directory.CreateTempSubdirectory("node-key-").FullName;
        try
        {
            using var network = NetworkKey.Create(SignatureAlgorithm.EcdsaP256Sha256);
            var (first, firstCertificate) = NodeKeyOf(network, DateTimeOffset.UtcNow, TimeSpan.FromDays(30), serial: 5);
            NodeIdentity.WriteAtomically(Path.Combine(folder, NodeIdentity.KeyFile), NodeKeyFile.Text(first, firstCertificate));
            using var identity = NodeIdentity.LoadOrCreate(folder);
            Assert.Equal(network.NetworkId, identity.NodeId);
            Assert.Equal(network.PublicKey, identity.PublicKey);

            var next = identity.NextPublicKey();
            Assert.Equal(next, identity.NextPublicKey());
            var older = NetworkSignatures.Certify(network, next, DateTimeOffset.UtcNow, TimeSpan.FromDays(30), 4, "");
            Assert.Contains("is not after the one in use", Assert.Throws<InvalidKeyCertificateException>(() => identity.Install(older)).Message);
            using var stray = SigningKey.Create(SignatureAlgorithm.EcdsaP256Sha256);
            var strayCertificate = NetworkSignatures.Certify(network, stray.PublicKey, DateTimeOffset.UtcNow, TimeSpan.FromDays(30), 6, "");
            Assert.Contains("not for the key this node has waiting", Assert.Throws<InvalidKeyCertificateException>(() => identity.Install(strayCertificate)).Message);
            Assert.Equal(NetworkKey.IdOf(first.PublicKey), identity.Current.KeyId);

            identity.Install(NetworkSignatures.Certify(network, next, DateTimeOffset.UtcNow, TimeSpan.FromDays(30), 6, ""));
            Assert.Equal(NetworkKey.IdOf(next), identity.Current.KeyId);
            // What is on disk after the switch is what a restart reads.
            using var restarted = NodeIdentity.LoadOrCreate(folder);
            Assert.Equal(NetworkKey.IdOf(next), restarted.Current.KeyId);
            Assert.False(File.Exists(Path.Combine(folder, "node.key.next")));
            first.Dispose();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
