using System.Globalization;
using System.Text;
using Federation.Contracts.V1;
using Federation.Domain;
using Federation.Node.Delivery;
using Google.Protobuf;
using static Federation.Node.Tests.CallOutSteps;

namespace Federation.Node.Tests;

/// <summary>The "done when": networks on loopback exchange call-outs with every response type, and each delegate is told.</summary>
public sealed class CallOutFederationTests
{
    [Fact]
    public async Task ThreeNetworksExchangeCallOutsWithEveryResponseTypeAndEachDelegateIsNotified()
    {
        await using var smtp = SmtpTestServer.Start();
        await using var hook = await WebhookReceiver.StartAsync();
        await using var alpha = await TestNode.StartAsync("alpha", "--region", "Leeds");
        await using var beta = await TestNode.StartAsync("beta", "--region", "York",
            "--Node:Smtp:Host", "127.0.0.1", "--Node:Smtp:Port", smtp.Port.ToString(CultureInfo.InvariantCulture), "--Node:Smtp:From", "solnet@beta.example",
            "--Node:Smtp:Security", "none"); // the test server speaks no TLS
        await using var gamma = await TestNode.StartAsync("gamma", "--region", "Hull");
        await TestNode.PeerAsync(alpha, beta, gamma);

        // How each delegate hears: alpha by webhook, beta by e-mail, gamma by subscription.
        await alpha.Delegate.AddWebhookAsync(new AddWebhookRequest { Url = hook.Url, Secret = "alpha-webhook-secret-0123456789" }, alpha.Auth);
        await beta.Delegate.AddEmailRecipientAsync(new AddEmailRecipientRequest { Address = "delegate@beta.example" }, beta.Auth);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var stream = gamma.Delegate.SubscribeInbox(new SubscribeInboxRequest(), gamma.Auth, cancellationToken: cts.Token);
        await stream.ResponseHeadersAsync;

        // alpha asks everyone.
        var content = Samples.CallOut("Picket Bistro Co, all branches");
        content.WindowStart = In(TimeSpan.FromDays(5));
        content.WindowEnd = In(TimeSpan.FromDays(5) + TimeSpan.FromHours(2));
        content.TimeZone = "Europe/London";
        content.ExpiresAt = In(TimeSpan.FromDays(6));
        var x = await alpha.Delegate.PublishCallOutAsync(new PublishCallOutRequest
        {
            Content = content,
            Audience = new CallOutAudience { Kind = AudienceKind.AllPeers },
        }, alpha.Auth);
        Assert.Equal(new[] { beta.NodeId, gamma.NodeId }.Order(), x.Recipients.Order());
        await ReachedAsync(beta, x.Id, 1);
        await ReachedAsync(gamma, x.Id, 1);
        Assert.Single((await beta.Delegate.QueryInboxAsync(new InboxQuery { State = InboxStateFilter.Open, Region = "leeds" }, beta.Auth)).CallOuts);

        // Every response type: beta pledges, gamma declines.
        await RespondAsync(beta, x.Id, Pledge("2026-12-05", "York, 3 Coney St"));
        await ReachedAsync(alpha, x.Id, 2);
        await RespondAsync(gamma, x.Id, Decline("We are on our own picket that day"));
        await ReachedAsync(alpha, x.Id, 3);

        // alpha updates; both recipients see what changed.
        var changed = x.Content.Clone();
        changed.TalkingPoints = "Ask customers to phone head office.";
        await alpha.Delegate.UpdateCallOutAsync(new UpdateCallOutRequest { CallOutId = x.Id, Content = changed }, alpha.Auth);
        Assert.Equal(new[] { "talking points" }, (await ReachedAsync(beta, x.Id, 4)).Revisions.Single().ChangedFields);
        await ReachedAsync(gamma, x.Id, 4);

        // beta withdraws honestly, then pledges again and exports it for its calendar.
        await RespondAsync(beta, x.Id, Unable("Our van broke down"));
        await ReachedAsync(beta, x.Id, 5);
        await RespondAsync(beta, x.Id, Pledge("2026-12-05", "York, 3 Coney St"));
        await ReachedAsync(beta, x.Id, 6);
        var calendar = await beta.Delegate.ExportPledgesAsync(new ExportPledgesRequest(), beta.Auth);
        Assert.Equal(1u, calendar.Events);
        Assert.Contains($"UID:{x.Id}.{beta.NodeId}@solnet", calendar.Ics.Replace("\r\n ", ""));
        Assert.Contains("DTSTART;VALUE=DATE:20261205", calendar.Ics);

        // alpha closes; beta reports back what happened.
        await alpha.Delegate.CloseCallOutAsync(new CloseCallOutRequest { CallOutId = x.Id, Reason = "the day has passed" }, alpha.Auth);
        await ReachedAsync(beta, x.Id, 7);
        await RespondAsync(beta, x.Id, ReportBack());
        var final = await ReachedAsync(alpha, x.Id, 8);

        // The issuer sees one row per network with its latest response; every copy agrees.
        var rows = final.Responses.ToDictionary(r => r.Network);
        Assert.Equal(2, rows.Count);
        Assert.Equal((ResponseKind.ReportBack, 4u), (rows[beta.NodeId].Latest.Kind, rows[beta.NodeId].Responses));
        Assert.Equal(ReportBack(), rows[beta.NodeId].Latest);
        Assert.Equal((ResponseKind.Decline, 1u), (rows[gamma.NodeId].Latest.Kind, rows[gamma.NodeId].Responses));
        // The recipients' copies agree with each other; beta's report-back, not shared, is
        // in them only as withheld (issue 15 #9).
        var atBeta = await ReachedAsync(beta, x.Id, 8);
        Assert.Equal(atBeta, await ReachedAsync(gamma, x.Id, 8));
        Assert.Equal(new CallOutResponse { Kind = ResponseKind.ReportBack, Withheld = true }, atBeta.Responses.Single(r => r.Network == beta.NodeId).Latest);
        // Alpha's state but for what only the issuer keeps (its list of recipients, docs/adr/0030).
        var withoutReport = (CallOutState)EventLog.AsOthersHoldIt(final.Clone());
        withoutReport.Responses.Single(r => r.Network == beta.NodeId).Latest = atBeta.Responses.Single(r => r.Network == beta.NodeId).Latest;
        Assert.Equal(withoutReport, atBeta);

        // The other way round: gamma asks alpha, alpha pledges.
        var y = await PublishAsync(gamma, Samples.CallOut("Call-in day for Hull tenants"), alpha);
        await ReachedAsync(alpha, y.Id, 1);
        await RespondAsync(alpha, y.Id, Pledge("2026-12-10", "by phone"));
        Assert.Equal(ResponseKind.Pledge, (await ReachedAsync(gamma, y.Id, 2)).Responses.Single().Latest.Kind);

        // alpha's webhook heard every response to its call-out, and nothing alpha did itself.
        await Eventually.TrueAsync(() => hook.Accepted.Count >= 6, "alpha's webhook to hear of six events");
        var heard = hook.Accepted.Select(r => JsonParser.Default.Parse<InboxItem>(Encoding.UTF8.GetString(r.Body))).ToList();
        Assert.Equal(
            new[] { (x.Id, ResponseKind.Pledge), (x.Id, ResponseKind.Decline), (x.Id, ResponseKind.Unable), (x.Id, ResponseKind.Pledge), (x.Id, ResponseKind.ReportBack) },
            heard.Where(i => i.Change == InboxChange.Responded && i.CallOutId == x.Id).Select(i => (i.CallOutId, i.Response.Kind)));
        Assert.Contains(heard, i => i.CallOutId == y.Id && i.Change == InboxChange.Published);
        Assert.DoesNotContain(heard, i => i.OwnAction);

        // beta's delegate got e-mails: the new call-out, the update (saying what changed), the close.
        await Eventually.TrueAsync(() => smtp.Received.Any(m => (m.Message.Subject ?? "").Contains("was closed")), "beta's e-mail about the close");
        var subjects = smtp.Received.Select(m => m.Message.Subject ?? "").ToList();
        Assert.Contains(subjects, s => s.StartsWith("[solnet] New call-out from alpha", StringComparison.Ordinal));
        Assert.Contains(subjects, s => s.Contains("Call-out updated") && s.Contains("talking points"));
        Assert.Contains(subjects, s => s.Contains("gamma") && s.Contains("declined"));

        // gamma's subscription streamed the call-out's life as gamma saw it.
        var streamed = new List<InboxItem>();
        while (!streamed.Any(i => i.CallOutId == x.Id && i.Sequence == 8) && await stream.ResponseStream.MoveNext(cts.Token))
        {
            streamed.Add(stream.ResponseStream.Current);
        }
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (ulong)i), streamed.Where(i => i.CallOutId == x.Id).Select(i => i.Sequence));
        Assert.Equal(
            new[] { InboxChange.Published, InboxChange.Responded, InboxChange.Responded, InboxChange.Updated, InboxChange.Responded, InboxChange.Responded, InboxChange.Closed, InboxChange.Responded },
            streamed.Where(i => i.CallOutId == x.Id).Select(i => i.Change));
    }

    [Fact]
    public async Task APeerWithoutWithheldReportBacksFetchesTheLogUpToTheWithheldReportAndTheRestOnceItHasIt()
    {
        await using var alpha = await TestNode.StartAsync("alpha");
        await using var beta = await TestNode.StartAsync("beta");
        await using var gamma = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(alpha, beta, gamma);
        var x = await PublishAsync(alpha, null, beta, gamma);
        await ReachedAsync(gamma, x.Id, x.LastSequence);

        // As alpha would know a release that lacks the capability: everything else it has.
        await SpeaksAsync(alpha, gamma, Domain.Protocol.ThisBuild.Where(c => c != Domain.Protocol.Capabilities.WithheldReportBacks));
        await RespondAsync(beta, x.Id, ReportBack());
        await Eventually.TrueAsync(() => Get(alpha, x.Id).Responses.Count == 1, "beta's report-back to reach alpha");
        var withheldAt = Get(alpha, x.Id).LastSequence;

        // gamma pulls the log (catch-up): the event with the withheld report is not sent to
        // fail, nor anything after it; the answer still says how far the log goes.
        var request = new FetchEventsRequest { ObjectId = x.Id };
        var pulled = await alpha.Peer.FetchEventsAsync(request, gamma.AsPeerOf(alpha, Methods.FetchEvents, request));
        Assert.Equal(withheldAt, pulled.LastSequence);
        Assert.Equal(withheldAt - 1, (ulong)pulled.Envelopes.Count);
        Assert.Equal(withheldAt - 1, pulled.Envelopes[^1].Sequence);

        // Once gamma has it, the pull brings the rest.
        await SpeaksAsync(alpha, gamma, Domain.Protocol.ThisBuild);
        pulled = await alpha.Peer.FetchEventsAsync(request, gamma.AsPeerOf(alpha, Methods.FetchEvents, request));
        Assert.Equal(withheldAt, pulled.Envelopes[^1].Sequence);
    }

    private static Task SpeaksAsync(TestNode at, TestNode peer, IEnumerable<string> capabilities) => at.Store.WriteAsync(tx =>
    {
        tx.SetPeerProtocol(new Core.Storage.PeerProtocolRecord(peer.NodeId, Domain.Protocol.Current.ToString(), "test", string.Join(' ', capabilities), DateTimeOffset.UtcNow, null));
        return true;
    });
}
