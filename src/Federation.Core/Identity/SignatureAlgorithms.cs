using Federation.Contracts.V1;

namespace Federation.Core.Identity;

/// <summary>
/// Which signature algorithms this build makes and checks. Every signature on the wire
/// names its algorithm, so a new one can arrive beside the old (issue 23, docs/protocol.md
/// "Compatibility"): a node verifies every algorithm it knows and signs with one the peer
/// has advertised.
/// </summary>
public static class SignatureAlgorithms
{
    /// <summary>
    /// The algorithm of what the key in a stored certificate (a CertifiedKey's bytes) signed;
    /// none: the network's own key signed, whose algorithm is <paramref name="networkKeyAlgorithm"/>
    /// (ECDSA P-256 for every network of 0.1.0, either for one made since: docs/adr/0029).
    /// </summary>
    public static SignatureAlgorithm OfSigner(byte[]? certificate, SignatureAlgorithm networkKeyAlgorithm)
    {
        if (certificate is null)
        {
            return networkKeyAlgorithm == SignatureAlgorithm.Unspecified ? SignatureAlgorithm.EcdsaP256Sha256 : networkKeyAlgorithm;
        }
        var algorithm = NodeKeyCertificate.Parser.ParseFrom(CertifiedKey.Parser.ParseFrom(certificate).Certificate).NodeKeyAlgorithm;
        return algorithm == SignatureAlgorithm.Unspecified ? SignatureAlgorithm.EcdsaP256Sha256 : algorithm;
    }

    /// <summary>Unspecified is what releases before 0.2.0 sent: ECDSA P-256, the same.</summary>
    public static bool CanVerify(SignatureAlgorithm algorithm) => Contracts.Signatures.CanVerify(algorithm);

    /// <summary>Why a signature cannot be checked here, for a refusal.</summary>
    public static string Unknown(SignatureAlgorithm algorithm) =>
        $"it is signed with algorithm {(int)algorithm}, which this release cannot verify (it knows ECDSA P-256 and Ed25519); the sender should not have sent it to this node";

    /// <summary>The capability a peer must have to verify what <paramref name="algorithm"/> signed, or null when every release can.</summary>
    public static string? CapabilityNeeded(SignatureAlgorithm algorithm) =>
        algorithm == SignatureAlgorithm.Ed25519 ? Domain.Protocol.Capabilities.SignaturesEd25519 : null;
}
