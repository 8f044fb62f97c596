using System.Text.Json;
using Federation.Contracts.V1;
using Grpc.Core;
using static Federation.Node.Tests.CallOutSteps;

namespace Federation.Node.Tests;

/// <summary>
/// Issue 17 #2: "what's new" for the people who started a call-out or a fight: others'
/// answers since this token last looked, over gRPC and in <c>solnet inbox</c>, and what waits
/// for this network's own answer.
/// </summary>
public sealed class WhatsNewTests
{
    private static FightState Fight(TestNode n, string id) => n.Delegate.GetFight(new GetObjectRequest { Id = id }, n.Auth);

    private static WhatsNew News(TestNode n, Metadata auth) => n.Delegate.GetWhatsNew(new GetWhatsNewRequest(), auth);

    private static Metadata Bearer(string token) => new() { { "authorization", "Bearer " + token } };

    /// <summary>Alpha publishes a call-out to beta and invites it to a fight; returns (call-out, fight).</summary>
    private static async Task<(string CallOut, string Fight)> AskBetaAsync(TestNode a, TestNode b)
    {
        var callOut = await PublishAsync(a, to: b);
        var draft = await a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Acme deposits", Target = new Target { Name = "Acme Lettings" }, Terms = Samples.Terms() }, a.Auth);
        await a.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, a.Auth);
        await a.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = draft.Id, Networks = { b.NodeId } }, a.Auth);
        await ReachedAsync(b, callOut.Id, 1);
        await Eventually.TrueAsync(() => b.Store.GetObject(draft.Id) is not null, "the invitation to reach beta");
        return (callOut.Id, draft.Id);
    }

    [Fact]
    public async Task TheIssuerSeesEachAnswerSinceItsTokenLastLookedAndAnotherTokenKeepsItsOwnPlace()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var organiser = Bearer((await a.Delegate.CreateTokenAsync(new CreateTokenRequest { Holder = "Sam", Role = "organiser" }, a.Auth)).Token);
        var (callOutId, fightId) = await AskBetaAsync(a, b);

        // Beta's inbox: the call-out and the invitation wait for its answer.
        var waiting = News(b, b.Auth).Waiting;
        Assert.Equal([InboxChange.Invited, InboxChange.Published], waiting.Select(w => w.Change));
        Assert.Contains($"solnet fight accept {fightId}", waiting[0].Act);
        Assert.Contains($"solnet callout respond {callOutId} pledge", waiting[1].Act);
        Assert.Empty(News(b, b.Auth).News);

        await RespondAsync(b, callOutId, Pledge());
        await b.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = fightId, TermsHash = Fight(b, fightId).TermsHash }, b.Auth);
        await Eventually.TrueAsync(() => Fight(a, fightId).Participants.Single().State == ParticipantState.Committed, "the acceptance to reach alpha");
        await b.Delegate.FileReportAsync(new FileReportRequest { FightId = fightId, Kind = ReportKind.Referral, Summary = "The landlord's agent rang us" }, b.Auth);

        await Eventually.TrueAsync(() => News(a, a.Auth).News.Count == 3, "the pledge, the acceptance and the referral to be new at alpha");
        var news = News(a, a.Auth);
        Assert.Equal([InboxChange.Responded, InboxChange.Accepted, InboxChange.ReportFiled], news.News.Select(n => n.Change));
        Assert.Contains("pledged", news.News[0].Summary);
        Assert.Null(news.LastLooked);
        Assert.Empty(News(b, b.Auth).Waiting); // beta answered both

        var seen = await a.Delegate.MarkNewsSeenAsync(new MarkNewsSeenRequest { UpTo = news.UpTo }, a.Auth);
        Assert.Equal(news.UpTo, seen.UpTo);
        var after = News(a, a.Auth);
        Assert.Empty(after.News);
        Assert.NotNull(after.LastLooked);
        // The organiser's token has not looked: all three are still new to it.
        Assert.Equal(3, News(a, organiser).News.Count);

        // What comes after the look is new again.
        await b.Delegate.RequestReleaseAsync(new RequestReleaseRequest { FightId = fightId, Reason = "we lost our meeting space" }, b.Auth);
        await Eventually.TrueAsync(() => News(a, a.Auth).News.Count == 1, "the release request to be new at alpha");
        Assert.Equal(InboxChange.ReleaseRequested, News(a, a.Auth).News.Single().Change);
    }

    [Theory]
    [InlineData(0UL, "up_to is required")]
    [InlineData(1_000_000UL, "is past this node's feed")]
    public async Task ABadPositionIsRefusedAndChangesNothing(ulong upTo, string message)
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var (callOutId, _) = await AskBetaAsync(a, b);
        await RespondAsync(b, callOutId, Pledge());
        await Eventually.TrueAsync(() => News(a, a.Auth).News.Count == 1, "the pledge to be new at alpha");

        var ex = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.MarkNewsSeenAsync(new MarkNewsSeenRequest { UpTo = upTo }, a.Auth).ResponseAsync);

        Status.Is(StatusCode.InvalidArgument, ex);
        Assert.Contains(message, ex.Status.Detail);
        Assert.Single(News(a, a.Auth).News);
        Assert.Null(News(a, a.Auth).LastLooked);
    }

    [Fact]
    public async Task SolnetInboxShowsWhatWaitsAndWhatIsNewThenMarksItSeen()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var (callOutId, fightId) = await AskBetaAsync(a, b);

        var atBeta = await Solnet.RunAsync(b.DataDir, "inbox");
        Assert.Equal(0, atBeta.ExitCode);
        Assert.Contains("Waiting for your answer (2):", atBeta.Out);
        Assert.Contains("invites you to Acme deposits", atBeta.Out);
        Assert.Contains($"solnet fight accept {fightId}", atBeta.Out);
        Assert.Contains("Nothing new in what you started.", atBeta.Out);

        await RespondAsync(b, callOutId, Decline("Our members are on another action that day"));
        await Eventually.TrueAsync(() => News(a, a.Auth).News.Count == 1, "the decline to be new at alpha");

        var json = await Solnet.RunAsync(a.DataDir, "inbox", "--json", "--keep-new");
        using (var doc = JsonDocument.Parse(json.Out))
        {
            var news = doc.RootElement.GetProperty("whatsNew").GetProperty("news");
            Assert.Equal("INBOX_CHANGE_RESPONDED", Assert.Single(news.EnumerateArray()).GetProperty("change").GetString());
            Assert.Equal(JsonValueKind.Array, doc.RootElement.GetProperty("callOuts").ValueKind);
        }
        var shown = await Solnet.RunAsync(a.DataDir, "inbox");
        Assert.Contains("New in what you started (1):", shown.Out);
        Assert.Contains("declined (Our members are on another action that day)", shown.Out);

        var again = await Solnet.RunAsync(a.DataDir, "inbox");
        Assert.Contains("Nothing new in what you started since you last looked", again.Out);
    }
}
