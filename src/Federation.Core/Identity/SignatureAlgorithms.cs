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
    /// <summary>What this node signs events, submissions and calls with.</summary>
    public const SignatureAlgorithm Signing = SignatureAlgorithm.EcdsaP256Sha256;

    /// <summary>Unspecified is what releases before 0.2.0 sent: ECDSA P-256, the same.</summary>
    public static bool CanVerify(SignatureAlgorithm algorithm) => Contracts.NetworkSignatures.CanVerify(algorithm);

    /// <summary>Why a signature cannot be checked here, for a refusal.</summary>
    public static string Unknown(SignatureAlgorithm algorithm) =>
        $"it is signed with algorithm {(int)algorithm}, which this release cannot verify (it knows ECDSA P-256); the sender should not have sent it to this node";
}
