using Federation.Contracts.V1;
using Federation.Node.Jobs;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Node.Tests;

/// <summary>The joint-fight protocol across real nodes: each rule's allowed and refused paths.</summary>
public sealed class JointFightTests
{
    private static FightState Fight(TestNode n, string id) => n.Delegate.GetFight(new GetObjectRequest { Id = id }, n.Auth);

    private static Participant Of(FightState f, TestNode n) => f.Participants.Single(p => p.Network == n.NodeId);

    private static ActionPlan Picket(string what = "Picket the letting office", int days = 3) => new()
    {
        What = what,
        Place = "Acme Lettings, 5 Station Rd",
        StartsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(days)),
        EndsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(days).AddHours(2)),
        Visibility = ActionVisibility.ParticipantsUntilStart,
    };

    /// <summary>Opens a fight at <paramref name="a"/> and brings each of <paramref name="joiners"/> in.</summary>
    internal static async Task<string> OpenWithAsync(TestNode a, params TestNode[] joiners)
    {
        var draft = await a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Acme deposits", Target = new Target { Name = "Acme Lettings" }, Terms = Samples.Terms() }, a.Auth);
        await a.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, a.Auth);
        if (joiners.Length == 0)
        {
            return draft.Id;
        }
        var invite = new InviteToFightRequest { FightId = draft.Id };
        invite.Networks.AddRange(joiners.Select(j => j.NodeId));
        await a.Delegate.InviteToFightAsync(invite, a.Auth);
        foreach (var j in joiners)
        {
            await Eventually.TrueAsync(() => j.Store.GetObject(draft.Id) is not null, $"the invitation to reach {j.Name}");
            await j.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = draft.Id, TermsHash = Fight(j, draft.Id).TermsHash }, j.Auth);
        }
        // Recorded at the initiator, and back at each joiner.
        await Eventually.TrueAsync(() => joiners.All(j => Of(Fight(j, draft.Id), j).State == ParticipantState.Committed), "every acceptance to be recorded and shared");
        return draft.Id;
    }

    private static async Task<RpcException> Refused(Func<Task> call, StatusCode code, string text)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Status.Is(code, ex);
        Assert.Contains(text, ex.Status.Detail);
        return ex;
    }

    [Fact]
    public async Task AWholeFightRunsAcrossFourNodesIncludingOneOfflineWhenItEnds()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        await using var d = await TestNode.StartAsync("delta");
        await TestNode.PeerAsync(a, b, c, d);

        // Terms first; take it or leave it: beta and gamma accept, delta declines with an offer.
        var draft = await a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Acme deposits", Target = new Target { Name = "Acme Lettings" }, Terms = Samples.Terms() }, a.Auth);
        var fightId = draft.Id;
        await a.Delegate.OpenFightAsync(new GetObjectRequest { Id = fightId }, a.Auth);
        await a.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = fightId, Networks = { b.NodeId, c.NodeId, d.NodeId } }, a.Auth);
        foreach (var n in new[] { b, c, d })
        {
            await Eventually.TrueAsync(() => n.Store.GetObject(fightId) is not null, $"the invitation to reach {n.Name}");
        }
        await b.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = fightId, TermsHash = Fight(b, fightId).TermsHash }, b.Auth);
        await c.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = fightId, TermsHash = Fight(c, fightId).TermsHash }, c.Auth);
        await d.Delegate.DeclineInvitationAsync(new DeclineInvitationRequest { FightId = fightId, Reason = "stretched thin", Offer = "one call-in day" }, d.Auth);
        await Eventually.TrueAsync(() => Of(Fight(a, fightId), d).State == ParticipantState.Declined && Of(Fight(a, fightId), c).State == ParticipantState.Committed,
            "the answers to reach alpha");
        Assert.Equal("one call-in day", Of(Fight(a, fightId), d).Offer);

        // One voice: the initiator delivers the demand and records the target's reply; a participant cannot.
        await a.Delegate.DeliverDemandAsync(new DeliverDemandRequest { FightId = fightId, Deadline = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(14)), Note = "hand-delivered" }, a.Auth);
        await a.Delegate.RecordCommunicationAsync(new RecordCommunicationRequest { FightId = fightId, Kind = CommunicationKind.Reply, Summary = "Acme refuses" }, a.Auth);
        await Refused(() => b.Delegate.RecordCommunicationAsync(new RecordCommunicationRequest { FightId = fightId, Kind = CommunicationKind.Negotiation, Summary = "we talked" }, b.Auth).ResponseAsync,
            StatusCode.PermissionDenied, "file a referral");
        await b.Delegate.FileReportAsync(new FileReportRequest { FightId = fightId, Kind = ReportKind.Referral, Summary = "Acme's lawyer phoned us" }, b.Auth);
        await c.Delegate.FileReportAsync(new FileReportRequest { FightId = fightId, Kind = ReportKind.Police, Summary = "police asked for our names" }, c.Auth);
        await Eventually.TrueAsync(() => a.Delegate.ListReports(new GetObjectRequest { Id = fightId }, a.Auth).Reports.Count == 2, "both reports to reach alpha");
        await Refused(() => b.Delegate.ListReportsAsync(new GetObjectRequest { Id = fightId }, b.Auth).ResponseAsync, StatusCode.NotFound, "No referrals or incidents of");

        // Autonomy: beta plans its own action; nobody else can touch it.
        var planned = await b.Delegate.PlanActionAsync(new PlanActionRequest { FightId = fightId, Plan = Picket() }, b.Auth);
        await Eventually.TrueAsync(() => Fight(c, fightId).Actions.Count == 1, "beta's action to reach gamma");
        await Refused(() => c.Delegate.CancelActionAsync(new CancelActionRequest { FightId = fightId, ActionId = planned.ActionId }, c.Auth).ResponseAsync,
            StatusCode.PermissionDenied, "Autonomy of action");
        await Refused(() => a.Delegate.CancelActionAsync(new CancelActionRequest { FightId = fightId, ActionId = planned.ActionId }, a.Auth).ResponseAsync,
            StatusCode.PermissionDenied, "Autonomy of action");

        // Changing the terms re-opens consent: both reaffirm; a stale hash is refused naming the current one.
        var oldHash = Fight(a, fightId).TermsHash;
        var amendedTerms = Samples.Terms();
        amendedTerms.Demands.Add("Compensation for the damp");
        var amended = await a.Delegate.AmendTermsAsync(new AmendTermsRequest { FightId = fightId, Terms = amendedTerms, Note = "tenant asked" }, a.Auth);
        await Eventually.TrueAsync(() => Of(Fight(b, fightId), b).State == ParticipantState.AwaitingReaffirmation && Of(Fight(c, fightId), c).State == ParticipantState.AwaitingReaffirmation,
            "the amendment to reach beta and gamma");
        Assert.Contains("+ demand: Compensation for the damp", Fight(b, fightId).AmendmentDiff);
        await Refused(() => b.Delegate.ReaffirmTermsAsync(new ReaffirmTermsRequest { FightId = fightId, TermsHash = oldHash }, b.Auth).ResponseAsync,
            StatusCode.FailedPrecondition, amended.TermsHash);
        await b.Delegate.ReaffirmTermsAsync(new ReaffirmTermsRequest { FightId = fightId, TermsHash = amended.TermsHash }, b.Auth);
        await c.Delegate.ReaffirmTermsAsync(new ReaffirmTermsRequest { FightId = fightId, TermsHash = amended.TermsHash }, c.Auth);
        await Eventually.TrueAsync(() => Fight(a, fightId).Participants.Count(p => p.State == ParticipantState.Committed) == 2, "both reaffirmations");

        // Shared outcome: gamma is offline when alpha ends the fight.
        await a.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = fightId, Status = FightStatus.Escalating }, a.Auth);
        await Eventually.TrueAsync(() => Fight(c, fightId).Status == FightStatus.Escalating, "escalation to reach gamma");
        await c.StopAsync();
        await a.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = fightId, Status = FightStatus.Won, Note = "deposits returned" }, a.Auth);

        await Eventually.TrueAsync(() => Of(Fight(b, fightId), b).StandDownPending, "the stand-down to reach beta");
        await b.Delegate.AcknowledgeStandDownAsync(new GetObjectRequest { Id = fightId }, b.Auth);
        await Eventually.TrueAsync(() => !Of(Fight(a, fightId), b).StandDownPending, "beta's acknowledgement to reach alpha");
        Assert.True(Of(Fight(a, fightId), c).StandDownPending); // the initiator sees who has not acknowledged

        // Until acknowledged, the initiator keeps re-sending the stand-down to gamma, and only to gamma.
        // First beta's queue drains of the fight (the event recording its acknowledgement goes to it
        // too), so what the re-send queues, and only that, is what is looked at.
        await Eventually.TrueAsync(() => !a.Store.LoadBatch(b.NodeId, 1000).Any(item => item.ObjectId == fightId), "beta to have taken every event of the fight");
        await a.Services.GetRequiredService<StandDownResender>().ResendAsync(CancellationToken.None);
        Assert.Contains(a.Store.LoadBatch(c.NodeId, 1000), item => item.ObjectId == fightId);
        Assert.DoesNotContain(a.Store.LoadBatch(b.NodeId, 1000), item => item.ObjectId == fightId);

        // Actions planned after the end are refused.
        await Refused(() => b.Delegate.PlanActionAsync(new PlanActionRequest { FightId = fightId, Plan = Picket("victory picnic") }, b.Auth).ResponseAsync,
            StatusCode.FailedPrecondition, "actions planned after the end are refused");

        // Gamma returns, receives the stand-down by itself, and acknowledges.
        await c.StartAgainAsync();
        await Eventually.TrueAsync(() => Fight(c, fightId).Status == FightStatus.Won, "gamma to learn the outcome when it returns", seconds: 30);
        Assert.True(Of(Fight(c, fightId), c).StandDownPending);
        await c.Delegate.AcknowledgeStandDownAsync(new GetObjectRequest { Id = fightId }, c.Auth);
        await Eventually.TrueAsync(() => Fight(a, fightId).Participants.All(p => !p.StandDownPending), "every stand-down acknowledged");

        // Every copy folds the same events into the same state as the initiator's.
        var final = Fight(a, fightId);
        await Eventually.TrueAsync(() => Fight(b, fightId).Equals(final) && Fight(c, fightId).Equals(final), "beta's and gamma's copies to match alpha's");
        Assert.Equal(FightStatus.Won, final.Status);

        // The outcome is recorded at each committed network as its own.
        var balanceB = b.Delegate.GetBalance(new GetBalanceRequest(), b.Auth);
        Assert.Equal(FightStatus.Won, Assert.Single(balanceB.FightsJoined).Status);
        var balanceA = a.Delegate.GetBalance(new GetBalanceRequest(), a.Auth);
        Assert.Equal(FightStatus.Won, Assert.Single(balanceA.FightsInitiated).Status);
        Assert.Empty(d.Delegate.GetBalance(new GetBalanceRequest(), d.Auth).FightsJoined);

        // The shared calendar has beta's action.
        var ics = b.Delegate.ExportFightCalendar(new GetObjectRequest { Id = fightId }, b.Auth);
        Assert.Contains($"UID:{planned.ActionId}@solnet", ics.Content);
        Assert.Contains("SUMMARY:Picket the letting office", ics.Content);
    }

    [Fact]
    public async Task AParticipantAsksForReleaseAndOnlyTheInitiatorGrantsIt()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var fightId = await OpenWithAsync(a, b);

        // No unilateral withdrawal: declining after committing is refused.
        await Refused(() => b.Delegate.DeclineInvitationAsync(new DeclineInvitationRequest { FightId = fightId }, b.Auth).ResponseAsync,
            StatusCode.FailedPrecondition, "In until the end");
        await Refused(() => b.Delegate.GrantReleaseAsync(new GrantReleaseRequest { FightId = fightId, Network = b.NodeId }, b.Auth).ResponseAsync,
            StatusCode.PermissionDenied, "only the initiating network");

        await b.Delegate.RequestReleaseAsync(new RequestReleaseRequest { FightId = fightId, Reason = "our members are facing eviction" }, b.Auth);
        await Eventually.TrueAsync(() => Of(Fight(a, fightId), b).ReleaseRequested, "the request to reach alpha");
        Assert.Equal(ParticipantState.Committed, Of(Fight(a, fightId), b).State);

        await a.Delegate.GrantReleaseAsync(new GrantReleaseRequest { FightId = fightId, Network = b.Identity.Fingerprint, Reason = "of course" }, a.Auth);
        await Eventually.TrueAsync(() => Of(Fight(b, fightId), b).State == ParticipantState.Released, "the release to reach beta");

        await Refused(() => b.Delegate.PlanActionAsync(new PlanActionRequest { FightId = fightId, Plan = Picket() }, b.Auth).ResponseAsync,
            StatusCode.PermissionDenied, "not committed");
    }

    [Fact]
    public async Task DecliningAmendedTermsReleasesTheNetwork()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var fightId = await OpenWithAsync(a, b);

        var terms = Samples.Terms();
        terms.Strategy = "Occupation of the letting office";
        await a.Delegate.AmendTermsAsync(new AmendTermsRequest { FightId = fightId, Terms = terms }, a.Auth);
        await Eventually.TrueAsync(() => Of(Fight(b, fightId), b).State == ParticipantState.AwaitingReaffirmation, "the amendment to reach beta");
        Assert.Contains("~ strategy: Occupation of the letting office", Fight(b, fightId).AmendmentDiff);

        await b.Delegate.DeclineAmendmentAsync(new DeclineAmendmentRequest { FightId = fightId, Reason = "we cannot do occupations" }, b.Auth);

        await Eventually.TrueAsync(() => Of(Fight(a, fightId), b).State == ParticipantState.Released, "the release to be recorded at alpha");
        Assert.Equal("we cannot do occupations", Of(Fight(a, fightId), b).ReleaseReason);
    }

    [Fact]
    public async Task AParticipantEditsCancelsAndReportsItsOwnActionsOnly()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(a, b, c);
        var fightId = await OpenWithAsync(a, b, c);

        var first = await b.Delegate.PlanActionAsync(new PlanActionRequest { FightId = fightId, Plan = Picket() }, b.Auth);
        var second = await b.Delegate.PlanActionAsync(new PlanActionRequest { FightId = fightId, Plan = Picket("Leaflet the tenants", 5) }, b.Auth);
        var own = await a.Delegate.PlanActionAsync(new PlanActionRequest { FightId = fightId, Plan = Picket("Noise demo", 7) }, a.Auth);
        Assert.True(own.Recorded);
        await Eventually.TrueAsync(() => Fight(c, fightId).Actions.Count == 3, "all three actions to reach gamma");

        await b.Delegate.UpdateActionAsync(new UpdateActionRequest { FightId = fightId, ActionId = first.ActionId, Plan = Picket("Bigger picket") }, b.Auth);
        await b.Delegate.CancelActionAsync(new CancelActionRequest { FightId = fightId, ActionId = second.ActionId, Reason = "rain" }, b.Auth);
        await b.Delegate.ReportActionAsync(new ReportActionRequest { FightId = fightId, ActionId = first.ActionId, Report = "30 people, office shut early", Turnout = 30 }, b.Auth);
        await Refused(() => c.Delegate.UpdateActionAsync(new UpdateActionRequest { FightId = fightId, ActionId = own.ActionId, Plan = Picket() }, c.Auth).ResponseAsync,
            StatusCode.PermissionDenied, "Autonomy of action");

        await Eventually.TrueAsync(() => Fight(c, fightId).Actions.Single(x => x.ActionId == first.ActionId).Status == ActionStatus.Reported, "the report to reach gamma");
        var actions = Fight(c, fightId).Actions.ToDictionary(x => x.ActionId);
        Assert.Equal("Bigger picket", actions[first.ActionId].Plan.What);
        Assert.Equal(30u, actions[first.ActionId].Turnout);
        Assert.Equal(ActionStatus.Cancelled, actions[second.ActionId].Status);
        Assert.Equal(a.NodeId, actions[own.ActionId].Network);
        var ics = c.Delegate.ExportFightCalendar(new GetObjectRequest { Id = fightId }, c.Auth).Content;
        Assert.Contains("STATUS:CANCELLED", ics);
        Assert.Equal(3, ics.Split("BEGIN:VEVENT").Length - 1);
    }

    [Fact]
    public async Task AForgedCommunicationFromAParticipantIsRefusedByAThirdNode()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(a, b, c);
        var fightId = await OpenWithAsync(a, b, c);
        await Eventually.TrueAsync(() => c.Store.GetObject(fightId)!.LastSequence == Fight(a, fightId).LastSequence, "gamma to be up to date");
        var seq = Fight(c, fightId).LastSequence;

        // beta signs a "settlement offer" as if it spoke for the fight.
        var forged = Forge.Sign(b.Identity, fightId, ObjectKind.Fight, seq + 1,
            new EventBody { TargetCommunication = new TargetCommunication { Kind = CommunicationKind.SettlementOffer, Summary = "we settled for half" } });
        var ex = await Assert.ThrowsAsync<RpcException>(() => c.Peer.DeliverAsync(new DeliverRequest { Envelopes = { forged } }, b.AsPeerOf(c, Federation.Node.Delivery.Methods.Deliver, new DeliverRequest { Envelopes = { forged } })).ResponseAsync);

        Status.Is(StatusCode.PermissionDenied, ex);
        Assert.Empty(Fight(c, fightId).Communications);
        Assert.Equal(seq, Fight(c, fightId).LastSequence);
    }
}
