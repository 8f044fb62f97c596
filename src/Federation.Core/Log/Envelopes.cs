using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf;

namespace Federation.Core.Log;

/// <summary>An envelope whose signature, origin and header have been checked.</summary>
public sealed record VerifiedEvent(Envelope Envelope, EventPayload Payload);

/// <summary>Builds envelopes from stored events and verifies received ones.</summary>
public static class Envelopes
{
    /// <summary>How far ahead of this node's clock an event may be dated.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>The envelope of a stored event, as it was signed.</summary>
    /// <param name="networkKeyAlgorithm">The algorithm of the origin's network key, which signed the event when it carries no certificate.</param>
    public static Envelope Build(StoredEvent e, SignatureAlgorithm networkKeyAlgorithm) => new()
    {
        EventId = e.EventId,
        OriginNode = Identifiers.OriginOf(e.ObjectId),
        KeyId = Identifiers.OriginOf(e.ObjectId),
        ObjectId = e.ObjectId,
        ObjectKind = e.Kind,
        Sequence = e.Sequence,
        Payload = ByteString.CopyFrom(e.Payload),
        Signature = ByteString.CopyFrom(e.Signature),
        Algorithm = SignatureAlgorithms.OfSigner(e.Signer, networkKeyAlgorithm),
        Certificate = e.Signer is null ? null : CertifiedKey.Parser.ParseFrom(e.Signer),
    };

    /// <summary>
    /// Every receiver runs this for every envelope: the signer must be the object's
    /// origin (named in the object id), a peer whose key this node has pinned, and the
    /// signature must verify over the carried bytes. Refusals are <see cref="RuleViolation"/>s
    /// a person can act on; nothing has been stored when one is thrown.
    /// </summary>
    public static VerifiedEvent Verify(Envelope env, PeerKeys keys, DateTimeOffset now)
    {
        if (env.Payload.IsEmpty || env.Signature.IsEmpty)
        {
            throw Refuse(RefusalKind.InvalidArgument, Rules.SignedEnvelope, env, "it has no payload or no signature");
        }
        if (!Identifiers.IsNodeId(env.OriginNode) || env.KeyId != env.OriginNode)
        {
            throw Refuse(RefusalKind.InvalidArgument, Rules.SignedEnvelope, env, "its key id must be its origin node id");
        }
        if (!Identifiers.TryOriginOf(env.ObjectId, out var origin))
        {
            throw Refuse(RefusalKind.InvalidArgument, Rules.SignedEnvelope, env, "its object id is malformed");
        }
        if (origin != env.OriginNode)
        {
            throw Refuse(RefusalKind.PermissionDenied, Rules.OriginAuthority, env,
                $"origin authority: only the origin {Identifiers.Fingerprint(origin)} may sign events for this object, and this one is signed by {Identifiers.Fingerprint(env.OriginNode)}");
        }
        if (!keys.Knows(env.OriginNode))
        {
            throw Refuse(RefusalKind.PermissionDenied, Rules.SignedEnvelope, env,
                $"its origin {Identifiers.Fingerprint(env.OriginNode)} is not a peer of this node; its operator must add that node first");
        }
        if (!SignatureAlgorithms.CanVerify(env.Algorithm))
        {
            throw Refuse(RefusalKind.InvalidArgument, Rules.SignedEnvelope, env, SignatureAlgorithms.Unknown(env.Algorithm));
        }
        EventPayload payload;
        if (env.Certificate is null)
        {
            // The network's own key signed it: checked before anything in it is read.
            if (!keys.Verify(env.OriginNode, SignedKind.Event, env.Payload.Span, env.Signature.Span))
            {
                throw Refuse(RefusalKind.Unauthenticated, Rules.SignedEnvelope, env,
                    $"its signature does not verify against the pinned key of {Identifiers.Fingerprint(env.OriginNode)}");
            }
            payload = Parse(env);
        }
        else
        {
            // A certified node key signed it: whether that key could sign depends on when
            // it signed (its validity period, a revocation), which only the payload says.
            payload = Parse(env);
            var signedAt = payload.OccurredAt is { } t && Dates.IsValid(t) ? t.ToDateTimeOffset() : DateTimeOffset.MinValue;
            if (keys.WhyNot(env.OriginNode, env.Certificate, signedAt, SignedKind.Event, env.Payload.Span, env.Signature.Span) is { } why)
            {
                throw Refuse(RefusalKind.Unauthenticated, Rules.SignedEnvelope, env, why);
            }
        }
        if (payload.EventId != env.EventId || payload.ObjectId != env.ObjectId || payload.Sequence != env.Sequence
            || payload.OriginNode != env.OriginNode || payload.ObjectKind != env.ObjectKind)
        {
            throw Refuse(RefusalKind.InvalidArgument, Rules.SignedEnvelope, env, "its header does not match its signed payload");
        }
        // A date outside the calendar (seconds or nanos out of range) makes ToDateTimeOffset
        // throw: found by fuzzing, it escaped as INTERNAL. Refuse it as the bad input it is.
        if (payload.OccurredAt is { } when && !Dates.IsValid(when))
        {
            throw Refuse(RefusalKind.InvalidArgument, Rules.SignedEnvelope, env, "its date is not a valid timestamp");
        }
        // A network's commitment is checked against its own signature, not the origin's word.
        if (!payload.Submission.IsEmpty && SubmissionProof.Check(payload, keys) is { } unproven)
        {
            throw Refuse(RefusalKind.PermissionDenied, Rules.SignedCommitment, env, $"the network's submission it carries {unproven}");
        }
        // Old events are normal (a node catching up after a week); events from the future
        // are not: they come from a skewed or lying clock and would sort wrongly everywhere.
        if (payload.OccurredAt is { } at && at.ToDateTimeOffset() > now + ClockSkew)
        {
            // Validly signed, only early for this clock: the sender retries it (a refusal under
            // Rules.ClockSkew is marked so on the wire) and it is taken once the clocks agree or
            // time catches up. Parking it as a dead letter would lose it until an operator replayed it.
            throw Refuse(RefusalKind.InvalidArgument, Rules.ClockSkew, env,
                $"it is dated {at.ToDateTimeOffset():u}, more than {ClockSkew.TotalMinutes} minutes ahead of this node's clock; check the origin's clock");
        }
        return new VerifiedEvent(env, payload);
    }

    private static EventPayload Parse(Envelope env)
    {
        try
        {
            return EventPayload.Parser.ParseFrom(env.Payload);
        }
        catch (InvalidProtocolBufferException)
        {
            throw Refuse(RefusalKind.InvalidArgument, Rules.SignedEnvelope, env, "its signed payload is not a readable event");
        }
    }

    private static RuleViolation Refuse(RefusalKind kind, string rule, Envelope env, string why) =>
        new(kind, rule, $"Envelope {Describe(env)} refused: {why}.");

    private static string Describe(Envelope env) =>
        env.EventId.Length is > 0 and <= 64 ? $"{env.EventId} (event {env.Sequence})" : $"#{env.Sequence}";
}
