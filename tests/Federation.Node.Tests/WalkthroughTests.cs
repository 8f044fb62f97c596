using Federation.Contracts.V1;
using Federation.Domain;

namespace Federation.Node.Tests;

/// <summary>The walkthrough of docs/delegates.md, step by step through the gRPC API, on two real nodes.</summary>
public sealed class WalkthroughTests
{
    [Fact]
    public async Task TwoNodesPeerAndEachSeesTheOtherActive()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");

        await TestNode.PeerAsync(a, b);

        var peersOfA = (await a.Delegate.ListPeersAsync(new ListPeersRequest(), a.Auth)).Peers;
        var peer = Assert.Single(peersOfA);
        Assert.Equal(b.NodeId, peer.NodeId);
        Assert.Equal("beta", peer.Name);
        Assert.Equal("active", peer.State);
        Assert.Equal(a.NodeId, Assert.Single((await b.Delegate.ListPeersAsync(new ListPeersRequest(), b.Auth)).Peers).NodeId);
    }

    [Fact]
    public async Task ACallOutReachesThePeerAndItsPledgeComesBack()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);

        var published = await a.Delegate.PublishCallOutAsync(new PublishCallOutRequest { Content = Samples.CallOut() }, a.Auth);
        Assert.Equal(new[] { b.NodeId }, published.Recipients);

        await Eventually.TrueAsync(() => b.Delegate.ListCallOuts(new ListCallOutsRequest(), b.Auth).CallOuts.Any(c => c.Id == published.Id),
            "the call-out to appear at beta");
        var atB = b.Delegate.GetCallOut(new GetObjectRequest { Id = published.Id }, b.Auth);
        Assert.Equal("Picket the Leeds branch", atB.Content.Title);
        Assert.Equal(a.NodeId, atB.OriginNode);

        await b.Delegate.RespondToCallOutAsync(new RespondToCallOutRequest
        {
            CallOutId = published.Id,
            Response = new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "2026-12-01", Place = "Leeds branch" },
        }, b.Auth);

        await Eventually.TrueAsync(() => a.Delegate.GetCallOut(new GetObjectRequest { Id = published.Id }, a.Auth).Responses.Count == 1,
            "beta's pledge to reach alpha");
        var row = Assert.Single(a.Delegate.GetCallOut(new GetObjectRequest { Id = published.Id }, a.Auth).Responses);
        Assert.Equal(b.NodeId, row.Network);
        Assert.Equal(ResponseKind.Pledge, row.Latest.Kind);
        Assert.Equal("2026-12-01", row.Latest.PlannedDate);

        // The issuer redistributes: beta's copy shows its own pledge as recorded by alpha.
        await Eventually.TrueAsync(() => b.Delegate.GetCallOut(new GetObjectRequest { Id = published.Id }, b.Auth).Responses.Count == 1,
            "the recorded pledge to come back to beta");
        // The same state, but for the list of recipients only the issuer keeps (docs/adr/0030).
        Assert.Equal(EventLog.AsOthersHoldIt(a.Delegate.GetCallOut(new GetObjectRequest { Id = published.Id }, a.Auth)),
                     b.Delegate.GetCallOut(new GetObjectRequest { Id = published.Id }, b.Auth));
    }

    [Fact]
    public async Task AJointFightRunsFromDraftToWonAndTheParticipantSharesEveryStep()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);

        var draft = await a.Delegate.DraftFightAsync(new DraftFightRequest
        {
            Title = "Acme deposit fight",
            Target = new Target { Name = "Acme Lettings" },
            Terms = new FightTerms { Demands = { "Return the deposit" } },
        }, a.Auth);
        Assert.Equal(FightStatus.Draft, draft.Status);

        await a.Delegate.UpdateDraftTermsAsync(new UpdateDraftTermsRequest { FightId = draft.Id, Terms = Samples.Terms() }, a.Auth);
        var opened = await a.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, a.Auth);
        Assert.Equal(FightStatus.Open, opened.Status);
        Assert.Equal(64, opened.TermsHash.Length);

        await a.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = draft.Id, Networks = { b.Identity.Fingerprint } }, a.Auth);
        await Eventually.TrueAsync(() => b.Delegate.ListFights(new ListFightsRequest(), b.Auth).Fights.Any(f => f.Id == draft.Id),
            "the invitation to reach beta");
        var atB = b.Delegate.GetFight(new GetObjectRequest { Id = draft.Id }, b.Auth);
        Assert.Equal(ParticipantState.Invited, Assert.Single(atB.Participants).State);
        Assert.Equal(Samples.Terms(), atB.Terms);

        await b.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = draft.Id, TermsHash = atB.TermsHash }, b.Auth);
        await Eventually.TrueAsync(() => a.Delegate.GetFight(new GetObjectRequest { Id = draft.Id }, a.Auth).Participants[0].State == ParticipantState.Committed,
            "beta's acceptance to be recorded at alpha");

        await a.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = draft.Id, Status = FightStatus.Escalating, Note = "letter ignored" }, a.Auth);
        var won = await a.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = draft.Id, Status = FightStatus.Won, Note = "deposit paid" }, a.Auth);

        await Eventually.TrueAsync(() => b.Delegate.GetFight(new GetObjectRequest { Id = draft.Id }, b.Auth).Status == FightStatus.Won,
            "the outcome to reach beta");
        var final = b.Delegate.GetFight(new GetObjectRequest { Id = draft.Id }, b.Auth);
        // The replica folded the same signed events into the same state as the origin.
        Assert.Equal(won, final);
        Assert.Equal(new[] { FightStatus.Open, FightStatus.Escalating, FightStatus.Won }, final.History.Select(h => h.To));
        Assert.Equal(ParticipantState.Committed, final.Participants[0].State);
        Assert.Equal(a.Store.LoadEvents(draft.Id, 0, 100).Select(e => e.EventId), b.Store.LoadEvents(draft.Id, 0, 100).Select(e => e.EventId));
    }
}
