using Federation.Contracts.V1;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace Federation.Domain.Tests;

/// <summary>
/// Fights with networks in each participant state, and the submissions participants
/// send, for the tests of the joint-fight rules (docs/protocol.md, "The joint-fight rules").
/// </summary>
internal static class JointFight
{
    public static readonly FightStatus[] Endings = [FightStatus.Won, FightStatus.Settled, FightStatus.Lost, FightStatus.CalledOff];


    public static Log<FightState> Opened() => FightTests.OpenedFight();

    public static string Invited(Log<FightState> fight)
    {
        var network = Make.NodeId();
        fight.Append(Fights.Invite(fight.State!, network));
        return network;
    }

    public static string Committed(Log<FightState> fight)
    {
        var network = Invited(fight);
        fight.Append(Accept(network, fight.State!.TermsHash), actor: network);
        return network;
    }

    public static string Declined(Log<FightState> fight)
    {
        var network = Invited(fight);
        fight.Append(Submit(network, s => s.DeclineInvitation = new DeclineInvitation { Reason = "Too far away" }), actor: network);
        return network;
    }

    public static string Released(Log<FightState> fight)
    {
        var network = Committed(fight);
        fight.Append(Fights.Release(network, "Asked to leave"));
        return network;
    }

    /// <summary>Amends the terms as the initiator and returns the new hash.</summary>
    public static string Amend(Log<FightState> fight, FightTerms? terms = null, string note = "Add union recognition")
    {
        fight.Append(Fights.Amend(fight.State!, terms ?? AmendedTerms(), note));
        return fight.State!.TermsHash;
    }

    public static FightTerms AmendedTerms()
    {
        var terms = Make.CompleteTerms();
        terms.Demands.Add("Recognise the union");
        terms.Strategy = "Pickets at every branch and a phone blockade of head office.";
        return terms;
    }

    public static void End(Log<FightState> fight, FightStatus ending = FightStatus.Won) =>
        fight.Append(Fights.ChangeStatus(fight.State!, ending, "The outcome"));

    public static Participant ParticipantOf(Log<FightState> fight, string network) =>
        Assert.Single(fight.State!.Participants, p => p.Network == network);

    public static FightAction ActionOf(Log<FightState> fight, string actionId) =>
        Assert.Single(fight.State!.Actions, a => a.ActionId == actionId);

    // ---- Submissions, turned into events the way the origin does it -------------

    public static EventBody Submit(string submitter, Action<SubmissionPayload> kind)
    {
        var s = new SubmissionPayload
        {
            SubmissionId = Guid.NewGuid().ToString(),
            SubmitterNode = submitter,
            SubmittedAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero)),
        };
        kind(s);
        return Fights.FromSubmission(s);
    }

    public static EventBody Accept(string network, string hash) =>
        Submit(network, s => s.AcceptInvitation = new AcceptInvitation { TermsHash = hash });

    public static EventBody Reaffirm(string network, string hash) =>
        Submit(network, s => s.ReaffirmTerms = new ReaffirmTerms { TermsHash = hash });

    public static EventBody DeclineAmendment(string network, string reason = "We cannot support the new demand") =>
        Submit(network, s => s.DeclineAmendment = new DeclineAmendment { Reason = reason });

    public static EventBody RequestRelease(string network, string reason = "We lost our meeting space") =>
        Submit(network, s => s.RequestRelease = new RequestRelease { Reason = reason });

    public static EventBody AcknowledgeStandDown(string network) =>
        Submit(network, s => s.AcknowledgeStandDown = new AcknowledgeStandDown());

    public static EventBody Plan(string network, string actionId, ActionPlan? plan) =>
        Submit(network, s => s.PlanAction = new PlanAction { ActionId = actionId, Plan = plan });

    public static EventBody Update(string network, string actionId, ActionPlan? plan) =>
        Submit(network, s => s.UpdateAction = new UpdateAction { ActionId = actionId, Plan = plan });

    public static EventBody Cancel(string network, string actionId, string reason = "Rain") =>
        Submit(network, s => s.CancelAction = new CancelAction { ActionId = actionId, Reason = reason });

    public static EventBody Report(string network, string actionId, string report = "Forty people for two hours", uint turnout = 40) =>
        Submit(network, s => s.ReportAction = new ReportAction { ActionId = actionId, Report = report, Turnout = turnout });

    public static ActionPlan PlanOn(int day, string what = "Picket the Leeds branch") => new()
    {
        What = what,
        Place = "1 High Street, Leeds",
        StartsAt = At(day, 9),
        EndsAt = At(day, 11),
        Visibility = ActionVisibility.Public,
    };

    public static Timestamp At(int day, int hour) =>
        Timestamp.FromDateTimeOffset(new DateTimeOffset(2025, 3, day, hour, 0, 0, TimeSpan.Zero));

    /// <summary>Plans an action as <paramref name="network"/> (which may be the initiator) and returns its id.</summary>
    public static string Planned(Log<FightState> fight, string network, int day = 10)
    {
        var id = Guid.NewGuid().ToString();
        fight.Append(Plan(network, id, PlanOn(day)), actor: network);
        return id;
    }
}
