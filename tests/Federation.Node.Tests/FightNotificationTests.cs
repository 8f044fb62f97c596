using System.Collections.Concurrent;
using Federation.Contracts.V1;
using Grpc.Core;

namespace Federation.Node.Tests;

/// <summary>
/// Issue 17 #1: the fight events a network must act on reach its people through every
/// channel: the inbox stream, a signed webhook and e-mail over a real SMTP conversation.
/// </summary>
public sealed class FightNotificationTests
{
    private const string Secret = "correct-horse-battery-staple-42";

    private static FightState Fight(TestNode n, string id) => n.Delegate.GetFight(new GetObjectRequest { Id = id }, n.Auth);

    private static Participant Of(FightState f, TestNode n) => f.Participants.Single(p => p.Network == n.NodeId);

    private static IReadOnlyList<NotificationDelivery> Deliveries(TestNode node, string channelId = "") =>
        node.Delegate.ListNotificationDeliveries(new ListNotificationDeliveriesRequest { ChannelId = channelId }, node.Auth).Deliveries;

    private static async Task<string> OpenAsync(TestNode a)
    {
        var draft = await a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Acme deposits", Target = new Target { Name = "Acme Lettings" }, Terms = Samples.Terms() }, a.Auth);
        await a.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, a.Auth);
        return draft.Id;
    }

    /// <summary>Collects what a node's inbox stream sends, until disposed.</summary>
    private sealed class InboxStream : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly AsyncServerStreamingCall<InboxItem> _call;
        private readonly Task _reading;

        public ConcurrentQueue<InboxItem> Items { get; } = new();

        public InboxStream(TestNode node)
        {
            _call = node.Delegate.SubscribeInbox(new SubscribeInboxRequest(), node.Auth, cancellationToken: _stop.Token);
            _reading = Task.Run(async () =>
            {
                try
                {
                    while (await _call.ResponseStream.MoveNext(_stop.Token))
                    {
                        Items.Enqueue(_call.ResponseStream.Current);
                    }
                }
                catch (Exception) when (_stop.IsCancellationRequested)
                {
                    // Disposed: the way the stream ends.
                }
            });
        }

        /// <summary>The subscription is in place once the node has sent its headers.</summary>
        public Task ReadyAsync() => _call.ResponseHeadersAsync;

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _reading;
            _call.Dispose();
            _stop.Dispose();
        }
    }

    [Fact]
    public async Task AnInvitationAnAmendmentAndAStandDownEachReachTheWebhookTheSmtpServerAndTheInboxStream()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var smtp = SmtpTestServer.Start();
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta", [.. smtp.NodeArgs("Beta SolNet <solnet@beta.example>"),
            "--Node:Notifications:DashboardUrl", "https://solnet.beta.example/"]);
        await TestNode.PeerAsync(a, b);
        var webhook = await b.Delegate.AddWebhookAsync(new AddWebhookRequest { Url = receiver.Url, Secret = Secret }, b.Auth);
        var email = await b.Delegate.AddEmailRecipientAsync(new AddEmailRecipientRequest { Address = "delegate@beta.example" }, b.Auth);
        await using var stream = new InboxStream(b);
        await stream.ReadyAsync();
        var fightId = await OpenAsync(a);

        // The invitation.
        await a.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = fightId, Networks = { b.NodeId } }, a.Auth);
        await Eventually.TrueAsync(() => receiver.Accepted.Count == 1 && smtp.Received.Count == 1 && stream.Items.Count == 1, "the invitation to reach all three channels");
        var hash = Fight(b, fightId).TermsHash;
        var link = $"https://solnet.beta.example/fights/{Uri.EscapeDataString(fightId)}";
        var invited = receiver.Accepted[0].Item();
        Assert.Equal((InboxChange.Invited, fightId, "Acme deposits", link), (invited.Change, invited.FightId, invited.Title, invited.Link));
        Assert.Contains("invites you to a joint fight: Acme deposits (target: Acme Lettings)", invited.Summary);
        Assert.Contains($"solnet fight accept {fightId} {hash}", invited.Act);
        Assert.Equal("fight.invited", receiver.Accepted[0].Headers["X-Solnet-Event"]);
        var inviteMail = smtp.Received.Single().Message;
        Assert.StartsWith("[solnet] alpha", inviteMail.Subject);
        Assert.Contains("invites you to a joint fight", inviteMail.Subject);
        Assert.Contains($"Open it: {link}", inviteMail.TextBody);
        Assert.Contains($"Answer with: solnet fight show {fightId}; then solnet fight accept {fightId} {hash}", inviteMail.TextBody);
        Assert.Equal((InboxChange.Invited, fightId), (stream.Items.Single().Change, stream.Items.Single().FightId));

        // Beta commits: its own act, told to nobody at beta.
        await b.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = fightId, TermsHash = hash }, b.Auth);
        await Eventually.TrueAsync(() => Of(Fight(b, fightId), b).State == ParticipantState.Committed, "the acceptance to be recorded and shared");

        // The amendment: beta must reaffirm.
        var terms = Samples.Terms();
        terms.Demands.Add("Compensation for the damp");
        var amended = await a.Delegate.AmendTermsAsync(new AmendTermsRequest { FightId = fightId, Terms = terms, Note = "the tenant asked" }, a.Auth);
        await Eventually.TrueAsync(() => receiver.Accepted.Count == 2 && smtp.Received.Count == 2 && stream.Items.Count == 2, "the amendment to reach all three channels");
        var amendment = receiver.Accepted[1].Item();
        Assert.Equal((InboxChange.Amended, fightId, "fight.amended"), (amendment.Change, amendment.FightId, receiver.Accepted[1].Headers["X-Solnet-Event"]));
        Assert.Contains("reaffirm them to stay in the fight", amendment.Summary);
        Assert.Contains($"solnet fight reaffirm {fightId} {amended.TermsHash}", amendment.Act);
        Assert.Contains("reaffirm them to stay in the fight", smtp.Received.ElementAt(1).Message.TextBody);
        Assert.Equal(InboxChange.Amended, stream.Items.ElementAt(1).Change);
        await b.Delegate.ReaffirmTermsAsync(new ReaffirmTermsRequest { FightId = fightId, TermsHash = amended.TermsHash }, b.Auth);
        await Eventually.TrueAsync(() => Of(Fight(a, fightId), b).State == ParticipantState.Committed, "the reaffirmation to reach alpha");

        // The stand-down, with the acknowledge action.
        await a.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = fightId, Status = FightStatus.Settled, Note = "deposits returned" }, a.Auth);
        await Eventually.TrueAsync(() => receiver.Accepted.Count == 3 && smtp.Received.Count == 3 && stream.Items.Count == 3, "the stand-down to reach all three channels");
        var standDown = receiver.Accepted[2].Item();
        Assert.Equal((InboxChange.StandDown, "fight.stand_down", $"solnet fight ack {fightId}"), (standDown.Change, receiver.Accepted[2].Headers["X-Solnet-Event"], standDown.Act));
        Assert.Contains("Stand down", standDown.Summary);
        Assert.Contains("settled (deposits returned)", standDown.Summary);
        var standDownMail = smtp.Received.ElementAt(2).Message;
        Assert.StartsWith("[solnet] Stand down", standDownMail.Subject);
        Assert.Contains($"Answer with: solnet fight ack {fightId}", standDownMail.TextBody);
        Assert.Equal(InboxChange.StandDown, stream.Items.ElementAt(2).Change);

        // Each channel's deliveries say which fight they were about, and all went.
        await Eventually.TrueAsync(() => Deliveries(b).Count(d => d.State == "delivered") == 6, "all six deliveries to show as delivered");
        Assert.All(Deliveries(b), d => Assert.Equal((fightId, ""), (d.FightId, d.CallOutId)));
        Assert.Equal(3, Deliveries(b, webhook.Id).Count);
        Assert.Equal(3, Deliveries(b, email.Id).Count);
    }

    [Fact]
    public async Task TheInitiatorHearsOfAReleaseRequestAndTheNetworkOfItsRelease()
    {
        await using var atAlpha = await WebhookReceiver.StartAsync();
        await using var atBeta = await WebhookReceiver.StartAsync();
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        await a.Delegate.AddWebhookAsync(new AddWebhookRequest { Url = atAlpha.Url, Secret = Secret }, a.Auth);
        await b.Delegate.AddWebhookAsync(new AddWebhookRequest { Url = atBeta.Url, Secret = Secret, Kinds = { "release" } }, b.Auth);
        var fightId = await OpenAsync(a);
        await a.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = fightId, Networks = { b.NodeId } }, a.Auth);
        await Eventually.TrueAsync(() => b.Store.GetObject(fightId) is not null, "the invitation to reach beta");
        await b.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = fightId, TermsHash = Fight(b, fightId).TermsHash }, b.Auth);
        await Eventually.TrueAsync(() => Of(Fight(b, fightId), b).State == ParticipantState.Committed, "the acceptance to be recorded and shared");

        await b.Delegate.RequestReleaseAsync(new RequestReleaseRequest { FightId = fightId, Reason = "we lost our meeting space" }, b.Auth);

        await Eventually.TrueAsync(() => atAlpha.Accepted.Any(r => r.Item().Change == InboxChange.ReleaseRequested), "alpha to hear of the request");
        var request = atAlpha.Accepted.Single(r => r.Item().Change == InboxChange.ReleaseRequested).Item();
        Assert.Contains("asks to be released from Acme deposits. (we lost our meeting space)", request.Summary);
        Assert.StartsWith($"solnet fight release {fightId} ", request.Act);

        await a.Delegate.GrantReleaseAsync(new GrantReleaseRequest { FightId = fightId, Network = b.NodeId }, a.Auth);

        await Eventually.TrueAsync(() => atBeta.Accepted.Count == 1, "beta to hear of its release");
        Assert.Equal(InboxChange.Released, atBeta.Accepted[0].Item().Change);
        // Beta's webhook asked for releases only: its invitation was never sent to it.
        Assert.DoesNotContain(Deliveries(b), d => d.Change == InboxChange.Invited);
        // Alpha's own acts (opening, inviting, releasing) were told to nobody at alpha.
        Assert.DoesNotContain(Deliveries(a), d => d.Change is InboxChange.Invited or InboxChange.Released);
    }

    /// <summary>
    /// A referral reaches the initiator's people through every channel, and no channel
    /// carries what was reported: the inbox stream says which kind, webhooks and e-mail only
    /// that one came; the text is read with the audited ListReports.
    /// </summary>
    [Fact]
    public async Task AReferralReachesTheInitiatorsWebhookSmtpServerAndInboxStreamWithoutWhatWasReported()
    {
        const string reported = "The manager rang our secretary and named the tenant in flat 4";
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var smtp = SmtpTestServer.Start();
        await using var a = await TestNode.StartAsync("alpha", smtp.NodeArgs("Alpha SolNet <solnet@alpha.example>"));
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var fightId = await OpenAsync(a);
        await a.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = fightId, Networks = { b.NodeId } }, a.Auth);
        await Eventually.TrueAsync(() => b.Store.GetObject(fightId) is not null, "the invitation to reach beta");
        await b.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = fightId, TermsHash = Fight(b, fightId).TermsHash }, b.Auth);
        await Eventually.TrueAsync(() => Of(Fight(a, fightId), b).State == ParticipantState.Committed, "the acceptance to reach alpha");
        await a.Delegate.AddWebhookAsync(new AddWebhookRequest { Url = receiver.Url, Secret = Secret, Kinds = { "report" } }, a.Auth);
        await a.Delegate.AddEmailRecipientAsync(new AddEmailRecipientRequest { Address = "organisers@alpha.example", Kinds = { "report" } }, a.Auth);
        await using var stream = new InboxStream(a);
        await stream.ReadyAsync();
        await using var atBeta = new InboxStream(b);
        await atBeta.ReadyAsync();

        await b.Delegate.FileReportAsync(new FileReportRequest { FightId = fightId, Kind = ReportKind.Police, Summary = reported }, b.Auth);

        await Eventually.TrueAsync(() => receiver.Accepted.Count == 1 && smtp.Received.Count == 1 && stream.Items.Any(i => i.Change == InboxChange.ReportFiled),
            "the report to reach all three of alpha's channels");
        var hooked = receiver.Accepted[0].Item();
        Assert.Equal((InboxChange.ReportFiled, fightId, "fight.report_filed"), (hooked.Change, hooked.FightId, receiver.Accepted[0].Headers["X-Solnet-Event"]));
        Assert.Contains("filed an incident report with you in Acme deposits", hooked.Summary);
        Assert.Equal($"solnet fight reports {fightId}", hooked.Act);
        Assert.Equal("", hooked.Detail);
        var mail = smtp.Received.Single().Message;
        Assert.Contains("filed an incident report", mail.Subject);
        var told = stream.Items.Single(i => i.Change == InboxChange.ReportFiled);
        Assert.Equal(("Kind: police", b.NodeId), (told.Detail, told.Network));
        foreach (var text in new[] { System.Text.Encoding.UTF8.GetString(receiver.Accepted[0].Body), mail.TextBody, mail.HtmlBody ?? "", told.ToString() })
        {
            Assert.DoesNotContain("flat 4", text);
        }
        // The report is alpha's to read, still whole, and beta (which filed it) is told nothing.
        Assert.Equal(reported, a.Delegate.ListReports(new GetObjectRequest { Id = fightId }, a.Auth).Reports.Single().Summary);
        Assert.DoesNotContain(atBeta.Items, i => i.Change == InboxChange.ReportFiled);
    }

    [Fact]
    public async Task AChannelLimitedToStandDownsIsSentOnlyTheStandDown()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var channel = await b.Delegate.AddWebhookAsync(new AddWebhookRequest { Url = receiver.Url, Secret = Secret, Kinds = { "stand-down" } }, b.Auth);
        Assert.Equal(["stand-down"], channel.Kinds);
        var fightId = await OpenAsync(a);
        await a.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = fightId, Networks = { b.NodeId } }, a.Auth);
        await Eventually.TrueAsync(() => b.Store.GetObject(fightId) is not null, "the invitation to reach beta");
        await b.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = fightId, TermsHash = Fight(b, fightId).TermsHash }, b.Auth);
        await Eventually.TrueAsync(() => Of(Fight(a, fightId), b).State == ParticipantState.Committed, "the acceptance to reach alpha");

        await a.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = fightId, Status = FightStatus.Won }, a.Auth);

        await Eventually.TrueAsync(() => receiver.Accepted.Count == 1, "the stand-down to be posted");
        await Eventually.TrueAsync(() => b.Store.FeedCursor("notifier") >= b.Store.FeedEnd(), "the notifier to pass every event");
        Assert.Equal(InboxChange.StandDown, Assert.Single(receiver.Requests).Item().Change);
        Assert.Equal(InboxChange.StandDown, Assert.Single(Deliveries(b, channel.Id)).Change);
    }

    [Theory]
    [InlineData("standdown", "'standdown' is not a kind of notification")]
    [InlineData("invitation,picket,riot", "'picket,riot' are not kinds of notification")]
    public async Task AnUnknownKindIsRefusedNamingTheKnownOnesAndNothingIsAdded(string kinds, string message)
    {
        await using var smtp = SmtpTestServer.Start();
        await using var a = await TestNode.StartAsync("alpha", smtp.NodeArgs("solnet@alpha.example"));

        var webhook = await Assert.ThrowsAsync<RpcException>(() =>
            a.Delegate.AddWebhookAsync(new AddWebhookRequest { Url = "http://127.0.0.1:9/hook", Secret = Secret, Kinds = { kinds } }, a.Auth).ResponseAsync);
        var email = await Assert.ThrowsAsync<RpcException>(() =>
            a.Delegate.AddEmailRecipientAsync(new AddEmailRecipientRequest { Address = "delegate@alpha.example", Kinds = { kinds } }, a.Auth).ResponseAsync);

        foreach (var ex in new[] { webhook, email })
        {
            Status.Is(StatusCode.InvalidArgument, ex);
            Assert.Contains(message, ex.Status.Detail);
            Assert.Contains("the kinds are: invitation, amendment, stand-down", ex.Status.Detail);
        }
        Assert.Empty(a.Delegate.ListNotificationChannels(new ListNotificationChannelsRequest(), a.Auth).Channels);
    }
}
