using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core.Commands;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Node.Grpc;

/// <summary>
/// Checks a submission another network signed and records it: the one path for Submit,
/// SubmitStream and a submission carried in a bundle (docs/adr/0023).
/// </summary>
public sealed class SignedSubmissions(PeerKeys keys, Submissions submissions)
{
    /// <summary>
    /// Records <paramref name="signed"/> from <paramref name="submitter"/>, a peer known to
    /// have sent it (the authenticated caller, or the network that signed the bundle).
    /// Throws an <see cref="RpcException"/> or a <see cref="RuleViolation"/> saying why not.
    /// </summary>
    public async Task<SubmitResponse> RecordAsync(PeerRecord submitter, SignedSubmission signed, CancellationToken ct)
    {
        if (!SignatureAlgorithms.CanVerify(signed.Algorithm))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"The submission is refused: {SignatureAlgorithms.Unknown(signed.Algorithm)}."));
        }
        if (signed.KeyId != submitter.NodeId || signed.Certificate is null && !keys.Verify(submitter.NodeId, SignedKind.Submission, signed.Payload.Span, signed.Signature.Span))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "The submission is not signed by the calling node's pinned key."));
        }
        SubmissionPayload submission;
        try
        {
            submission = SubmissionPayload.Parser.ParseFrom(signed.Payload);
        }
        catch (InvalidProtocolBufferException)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The signed submission is not readable."));
        }
        // A certified node key signed it: whether it could depends on when (its validity, a revocation).
        if (signed.Certificate is not null && keys.WhyNot(submitter.NodeId, signed.Certificate,
                submission.SubmittedAt is { } at && Dates.IsValid(at) ? at.ToDateTimeOffset() : DateTimeOffset.MinValue,
                SignedKind.Submission, signed.Payload.Span, signed.Signature.Span) is { } why)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"The submission is refused: {why}."));
        }
        if (submission.SubmitterNode != submitter.NodeId || !Guid.TryParse(submission.SubmissionId, out _))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The submission must name the calling node as submitter and carry a UUID."));
        }
        return await submissions.RecordAsync(submission, SubmissionProof.Of(submission, signed, submitter.PublicKey), ct);
    }
}
