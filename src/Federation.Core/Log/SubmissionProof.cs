using System.Security.Cryptography;
using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Domain;
using Google.Protobuf;

namespace Federation.Core.Log;

/// <summary>
/// A network's signed submission as its origin embeds it in the event that records it
/// (issue 16 #6, docs/adr/0020): the bytes exactly as the network signed them, with the
/// network's public key, which hashes to its node id, so any node can check them.
/// </summary>
public sealed record SubmissionProof(SignedSubmission Signed, SubmissionPayload Submission)
{
    /// <param name="publicKey">The submitter's key as the origin pinned it (the one the signature was checked against).</param>
    public static SubmissionProof Of(SubmissionPayload submission, SignedSubmission signed, byte[] publicKey) =>
        new(new SignedSubmission(signed) { PublicKey = ByteString.CopyFrom(publicKey) }, submission);

    /// <summary>
    /// Why the submission <paramref name="e"/> carries does not prove it, or null when it
    /// does: readable, signed by the key it names, that key the network's, and the event
    /// exactly what the network asked for. With <paramref name="pinned"/>, a submitter this node
    /// has pinned is checked with its cached key: a receiver runs this for every such event.
    /// </summary>
    // A third node that pins no one still checks certificates (they are self-contained).
    private static readonly PeerKeys Unpinned = new();

    public static string? Check(EventPayload e, PeerKeys? pinned = null)
    {
        SignedSubmission signed;
        SubmissionPayload submission;
        try
        {
            signed = SignedSubmission.Parser.ParseFrom(e.Submission);
            submission = SubmissionPayload.Parser.ParseFrom(signed.Payload);
        }
        catch (InvalidProtocolBufferException)
        {
            return "is not readable";
        }
        if (!SignatureAlgorithms.CanVerify(signed.Algorithm))
        {
            return $"is signed with algorithm {(int)signed.Algorithm}, which this release cannot verify";
        }
        if (signed.PublicKey.IsEmpty || Identifiers.NodeIdFromPublicKey(signed.PublicKey.Span) != signed.KeyId
            || signed.KeyId != submission.SubmitterNode)
        {
            return "does not carry the submitting network's own key";
        }
        try
        {
            var signedAt = submission.SubmittedAt is { } t && Dates.IsValid(t) ? t.ToDateTimeOffset() : DateTimeOffset.MinValue;
            if ((pinned ?? Unpinned).WhyNot(signed.KeyId, signed.Certificate, signedAt, SignedKind.Submission, signed.Payload.Span, signed.Signature.Span,
                    signed.PublicKey.ToByteArray()) is { } why)
            {
                return signed.Certificate is null
                    ? $"has a signature that does not verify against the key of {Identifiers.Fingerprint(signed.KeyId)}"
                    : $"is not proven: {why}";
            }
        }
        catch (CryptographicException)
        {
            return "carries a key that is not a readable public key";
        }
        return Commitments.Mismatch(e, submission) is { } mismatch ? $"does not match the event: {mismatch}" : null;
    }
}
