using Federation.Contracts.V1;

namespace Federation.Domain;

/// <summary>
/// What another network committed to in an object's log, and whether the event that says
/// so is what that network signed (issue 16 #6). The origin records a submission as an
/// event and embeds the signed submission in it; every node can then check that the event
/// records exactly what the submitter signed — recomputed here, by the same rule the
/// origin used — so not even the origin can invent or alter a commitment.
/// </summary>
public static class Commitments
{
    /// <summary>Whether the event records another network's act (it came from a submission).</summary>
    public static bool IsCommitment(EventPayload e) => e.ActorNode != e.OriginNode && What(e.Body) is not null;

    /// <summary>What the act was, in the words a person reads; null for an event no submission makes.</summary>
    public static string? What(EventBody body) => body.KindCase switch
    {
        EventBody.KindOneofCase.InvitationAccepted => "accepted the terms",
        EventBody.KindOneofCase.InvitationDeclined => "declined the invitation",
        EventBody.KindOneofCase.TermsReaffirmed => "reaffirmed the amended terms",
        EventBody.KindOneofCase.AmendmentDeclined => "declined the amended terms",
        EventBody.KindOneofCase.ReleaseRequested => "asked to be released",
        EventBody.KindOneofCase.ActionPlanned => "planned an action",
        EventBody.KindOneofCase.ActionUpdated => "updated an action",
        EventBody.KindOneofCase.ActionCancelled => "cancelled an action",
        EventBody.KindOneofCase.ActionReported => "reported an action",
        EventBody.KindOneofCase.StandDownAcknowledged => "acknowledged the stand-down",
        EventBody.KindOneofCase.CallOutResponded => body.CallOutResponded.Response?.Kind switch
        {
            ResponseKind.Pledge => "pledged",
            ResponseKind.Decline => "declined",
            ResponseKind.Unable => "said it is unable",
            ResponseKind.ReportBack => "reported back",
            _ => "responded",
        },
        _ => null,
    };

    /// <summary>The terms an acceptance or reaffirmation names ("" for other acts).</summary>
    public static string TermsHashOf(EventBody body) => body.KindCase switch
    {
        EventBody.KindOneofCase.InvitationAccepted => body.InvitationAccepted.TermsHash,
        EventBody.KindOneofCase.TermsReaffirmed => body.TermsReaffirmed.TermsHash,
        _ => "",
    };

    /// <summary>
    /// Why <paramref name="e"/> is not exactly what <paramref name="s"/> asked for, or null
    /// when it is: the same object, the same network, and the event body the origin's own
    /// rule makes from that submission.
    /// </summary>
    public static string? Mismatch(EventPayload e, SubmissionPayload s)
    {
        if (s.SubmitterNode != e.ActorNode)
        {
            return "the event names another network than the one that signed the submission";
        }
        // A participants-only action is recorded in the fight's participants-only log.
        if (s.ObjectId != e.ObjectId && Briefings.IdOf(s.ObjectId) != e.ObjectId)
        {
            return "the submission was for another object";
        }
        EventBody expected;
        try
        {
            expected = s.KindCase == SubmissionPayload.KindOneofCase.CallOutResponse ? CallOuts.FromSubmission(s) : Fights.FromSubmission(s);
        }
        catch (RuleViolation ex)
        {
            return $"the submission does not make an event ({ex.Message})";
        }
        return expected.Equals(e.Body) ? null : "the event does not record what the submission says";
    }

    /// <summary>Why a commitment carries no signed submission, for the person reading the list.</summary>
    public static string WhyNoProof(EventPayload e) =>
        e.Body.CallOutResponded?.Response is { Withheld: true }
            ? "an unshared report-back: the network's signed words stay with the issuer"
            : "recorded without the network's signature (by a release before 0.2.0): it rests on the origin's word";
}
