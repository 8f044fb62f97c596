using System.Text;
using Federation.Contracts.V1;
using Federation.Core.Commands;
using Federation.Core.Storage;
using Federation.Domain;
using Federation.Node.Jobs;
using Federation.Node.Security;
using Federation.Testing;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Node.Tests;

/// <summary>Confidentiality tiers: local details never leave the initiator; briefings reach committed networks only; purge deletes both.</summary>
public sealed class ConfidentialityTests
{
    private const string Worker = "Zebulon Quartermaine-Okafor";
    private const string Phone = "+44 7700 900461";

    private static FightState Fight(TestNode n, string id) => n.Delegate.GetFight(new GetObjectRequest { Id = id }, n.Auth);

    /// <summary>Every byte a node has written: its data folder's files and its log lines.</summary>
    private static byte[] Everything(TestNode n) =>
        Directory.GetFiles(n.DataDir).SelectMany(File.ReadAllBytes)
            .Concat(Encoding.UTF8.GetBytes(string.Join("\n", n.Logs.Lines)))
            .ToArray();

    private static bool Contains(byte[] haystack, string needle) =>
        haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0;

    private static async Task<string> FightWithAsync(TestNode a, params TestNode[] invitees)
    {
        var draft = await a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Bistro wages", Target = new Target { Name = "Bistro Co" }, Terms = Samples.Terms() }, a.Auth);
        await a.Delegate.SetLocalDetailsAsync(new SetLocalDetailsRequest
        {
            FightId = draft.Id,
            Details = new LocalDetails { AffectedPerson = Worker, Contact = Phone, Notes = $"{Worker} is owed 3 months" },
        }, a.Auth);
        await a.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, a.Auth);
        var invite = new InviteToFightRequest { FightId = draft.Id };
        invite.Networks.AddRange(invitees.Select(n => n.NodeId));
        await a.Delegate.InviteToFightAsync(invite, a.Auth);
        foreach (var n in invitees)
        {
            await Eventually.TrueAsync(() => n.Store.GetObject(draft.Id) is not null, $"the invitation to reach {n.Name}");
        }
        return draft.Id;
    }

    private static async Task CommitAsync(TestNode n, string fightId)
    {
        await n.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = fightId, TermsHash = Fight(n, fightId).TermsHash }, n.Auth);
        await Eventually.TrueAsync(() => Fight(n, fightId).Participants.Single(p => p.Network == n.NodeId).State == ParticipantState.Committed,
            $"{n.Name}'s commitment to come back");
    }

    [Fact]
    public async Task AWorkersNameNeverLeavesTheInitiatorThroughAWholeFight()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(a, b, c);

        var fightId = await FightWithAsync(a, b, c);
        await CommitAsync(b, fightId);
        await CommitAsync(c, fightId);
        await a.Delegate.PostBriefingAsync(new PostBriefingRequest { FightId = fightId, Text = "Meet at the bus station, 9am" }, a.Auth);
        await b.Delegate.PlanActionAsync(new PlanActionRequest
        {
            FightId = fightId,
            Plan = new ActionPlan { What = "Picket", StartsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(2)) },
        }, b.Auth);
        await c.Delegate.FileReportAsync(new FileReportRequest { FightId = fightId, Kind = ReportKind.Retaliation, Summary = "The boss is asking around" }, c.Auth);
        await a.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = fightId, Status = FightStatus.Won }, a.Auth);
        foreach (var n in new[] { b, c })
        {
            await Eventually.TrueAsync(() => Fight(n, fightId).Status == FightStatus.Won, $"the end to reach {n.Name}");
            await n.Delegate.AcknowledgeStandDownAsync(new GetObjectRequest { Id = fightId }, n.Auth);
        }
        await Eventually.TrueAsync(() => Fight(a, fightId).Participants.All(p => !p.StandDownPending), "both acknowledgements");
        await Eventually.TrueAsync(() => Fight(b, fightId).Equals(Fight(a, fightId)) && Fight(c, fightId).Equals(Fight(a, fightId)), "every copy up to date");
        await a.StopAsync();
        await b.StopAsync();
        await c.StopAsync();

        // The scan can find the name where it is (the initiator's own database)…
        Assert.True(Contains(Everything(a), Worker));
        // …and finds it nowhere else, byte by byte, in files or logs.
        foreach (var n in new[] { b, c })
        {
            var bytes = Everything(n);
            Assert.True(bytes.Length > 10_000, $"{n.Name} wrote almost nothing; the scan would prove little");
            Assert.False(Contains(bytes, Worker), $"{n.Name} holds the worker's name");
            Assert.False(Contains(bytes, Phone), $"{n.Name} holds the worker's phone number");
            Assert.True(Contains(bytes, "Meet at the bus station"), $"{n.Name} should hold the briefing it was sent");
        }
        // The initiator's logs carry no bodies either.
        Assert.DoesNotContain(a.Logs.Lines, l => l.Contains(Worker, StringComparison.Ordinal) || l.Contains("bus station", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConfidentialReadsAnswerForAFightHeldButNotShownExactlyAsForAnUnknownOne()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var fightId = await FightWithAsync(a, b);
        // The same shape of id, from the same origin, that no node holds.
        var unknownId = $"{a.NodeId}.{Guid.NewGuid():N}";
        var reads = new (string What, Func<string, Task> Read)[]
        {
            ("GetBriefings", id => b.Delegate.GetBriefingsAsync(new GetObjectRequest { Id = id }, b.Auth).ResponseAsync),
            ("GetLocalDetails", id => b.Delegate.GetLocalDetailsAsync(new GetObjectRequest { Id = id }, b.Auth).ResponseAsync),
            ("ListReports", id => b.Delegate.ListReportsAsync(new GetObjectRequest { Id = id }, b.Auth).ResponseAsync),
        };
        foreach (var (what, read) in reads)
        {
            // beta holds the fight (it is invited, not committed, and not the initiator) …
            var held = await Assert.ThrowsAsync<RpcException>(() => read(fightId));
            var unknown = await Assert.ThrowsAsync<RpcException>(() => read(unknownId));
            // … and its delegate cannot tell that from an id nobody holds.
            Assert.Equal(unknown.StatusCode, held.StatusCode);
            Assert.Equal(StatusCode.NotFound, held.StatusCode);
            Assert.Equal(unknown.Status.Detail.Replace(unknownId, "<id>"), held.Status.Detail.Replace(fightId, "<id>"));
            Assert.True(unknown.Status.Detail.Contains(unknownId, StringComparison.Ordinal), $"{what}: the answer should name the id asked for");
        }
    }

    [Fact]
    public async Task BriefingsReachCommittedNetworksOnlyAndLeaveWithThem()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(a, b, c);
        var fightId = await FightWithAsync(a, b, c);
        await CommitAsync(b, fightId);

        await a.Delegate.PostBriefingAsync(new PostBriefingRequest { FightId = fightId, Text = "Safe house is the community centre" }, a.Auth);
        await Eventually.TrueAsync(() => b.Delegate.GetBriefings(new GetObjectRequest { Id = fightId }, b.Auth).Briefings.Count == 1, "the briefing to reach beta");

        // gamma is invited but has not committed: it has nothing, and hears exactly what an unknown id would hear.
        var ex = await Assert.ThrowsAsync<RpcException>(() => c.Delegate.GetBriefingsAsync(new GetObjectRequest { Id = fightId }, c.Auth).ResponseAsync);
        Status.Is(StatusCode.NotFound, ex);
        Assert.Null(c.Store.GetObject(Federation.Domain.Briefings.IdOf(fightId)));

        // Once gamma commits, it receives the briefings so far.
        await CommitAsync(c, fightId);
        await Eventually.TrueAsync(() => c.Delegate.GetBriefings(new GetObjectRequest { Id = fightId }, c.Auth).Briefings.Count == 1, "earlier briefings to reach gamma");

        // beta is released: its copy is deleted, and later briefings do not reach it.
        await b.Delegate.RequestReleaseAsync(new RequestReleaseRequest { FightId = fightId, Reason = "capacity" }, b.Auth);
        await Eventually.TrueAsync(() => Fight(a, fightId).Participants.Single(p => p.Network == b.NodeId).ReleaseRequested, "the release request");
        await a.Delegate.GrantReleaseAsync(new GrantReleaseRequest { FightId = fightId, Network = b.NodeId }, a.Auth);
        await a.Delegate.PostBriefingAsync(new PostBriefingRequest { FightId = fightId, Text = "New safe house: the library" }, a.Auth);
        await Eventually.TrueAsync(() => c.Delegate.GetBriefings(new GetObjectRequest { Id = fightId }, c.Auth).Briefings.Count == 2, "the second briefing to reach gamma");
        await Eventually.TrueAsync(() => b.Delegate.GetBriefings(new GetObjectRequest { Id = fightId }, b.Auth).Purged, "beta to delete its copy");
        Assert.Empty(b.Delegate.GetBriefings(new GetObjectRequest { Id = fightId }, b.Auth).Briefings);
        Assert.Empty(b.Store.LoadEvents(Federation.Domain.Briefings.IdOf(fightId), 0, 100));
        Assert.False(Contains(Directory.GetFiles(b.DataDir).SelectMany(File.ReadAllBytes).ToArray(), "the library"));

        // Invited back and committed again, beta fetches the briefings afresh.
        await a.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = fightId, Networks = { b.NodeId } }, a.Auth);
        await Eventually.TrueAsync(() => Fight(b, fightId).Participants.Single(p => p.Network == b.NodeId).State == ParticipantState.Invited, "the new invitation");
        await CommitAsync(b, fightId);
        await Eventually.TrueAsync(() => b.Delegate.GetBriefings(new GetObjectRequest { Id = fightId }, b.Auth).Briefings.Count == 2, "both briefings back at beta");
        Assert.False(b.Delegate.GetBriefings(new GetObjectRequest { Id = fightId }, b.Auth).Purged);
    }

    /// <summary>
    /// Issue 17 #1: a fight's notifications keep the tiers. A briefing is announced to the
    /// committed network's webhook and e-mail without its text (a mail provider or a chat
    /// service is not a committed network); only the node's own inbox stream carries the text;
    /// an invited network hears nothing of it; the worker's name reaches no channel anywhere.
    /// </summary>
    [Fact]
    public async Task ANotificationNeverCarriesLocalDetailsOrABriefingsTextToAWebhookOrAnEmail()
    {
        const string briefing = "Safe house is the community centre on Mill Lane";
        await using var atAlpha = await WebhookReceiver.StartAsync();
        await using var atBeta = await WebhookReceiver.StartAsync();
        await using var atGamma = await WebhookReceiver.StartAsync();
        await using var smtp = SmtpTestServer.Start();
        var mail = smtp.NodeArgs("solnet@example.org");
        await using var a = await TestNode.StartAsync("alpha", mail);
        await using var b = await TestNode.StartAsync("beta", mail);
        await using var c = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(a, b, c);
        const string secret = "correct-horse-battery-staple-42";
        foreach (var (node, receiver) in new[] { (a, atAlpha), (b, atBeta), (c, atGamma) })
        {
            await node.Delegate.AddWebhookAsync(new AddWebhookRequest { Url = receiver.Url, Secret = secret }, node.Auth);
        }
        await a.Delegate.AddEmailRecipientAsync(new AddEmailRecipientRequest { Address = "organiser@alpha.example" }, a.Auth);
        await b.Delegate.AddEmailRecipientAsync(new AddEmailRecipientRequest { Address = "delegate@beta.example" }, b.Auth);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var stream = b.Delegate.SubscribeInbox(new SubscribeInboxRequest(), b.Auth, cancellationToken: stop.Token);
        await stream.ResponseHeadersAsync;
        var fightId = await FightWithAsync(a, b, c);
        await CommitAsync(b, fightId);

        await a.Delegate.PostBriefingAsync(new PostBriefingRequest { FightId = fightId, Text = briefing }, a.Auth);
        await b.Delegate.RequestReleaseAsync(new RequestReleaseRequest { FightId = fightId, Reason = "capacity" }, b.Auth);

        await Eventually.TrueAsync(() => atBeta.Accepted.Any(r => r.Item().Change == InboxChange.BriefingPosted), "beta's webhook to hear of the briefing");
        await Eventually.TrueAsync(() => smtp.Received.Any(m => m.RcptTo.Contains("delegate@beta.example") && (m.Message.Subject ?? "").Contains("briefing")), "beta's e-mail to hear of the briefing");
        await Eventually.TrueAsync(() => atAlpha.Accepted.Any(r => r.Item().Change == InboxChange.ReleaseRequested), "alpha's webhook to hear of the release request");
        await Eventually.TrueAsync(() => smtp.Received.Any(m => m.RcptTo.Contains("organiser@alpha.example")), "alpha's e-mail to hear of the release request");
        InboxItem? told = null;
        while (told is null && await stream.ResponseStream.MoveNext(stop.Token))
        {
            told = stream.ResponseStream.Current.Change == InboxChange.BriefingPosted ? stream.ResponseStream.Current : null;
        }
        // Gamma is invited, not committed: its notifier passes the whole log without a briefing.
        await Eventually.TrueAsync(() => c.Store.FeedCursor("notifier") >= c.Store.FeedEnd() && atGamma.Accepted.Count >= 1, "gamma's notifier to pass every event");

        // The node's own delegates, in the committed network, read the text on the stream.
        Assert.Equal(briefing, told!.Detail);
        Assert.Equal($"solnet fight briefings {fightId}", told.Act);
        var sent = atAlpha.Requests.Concat(atBeta.Requests).Concat(atGamma.Requests).Select(r => Encoding.UTF8.GetString(r.Body))
            .Concat(smtp.Received.Select(m => $"{m.Message.Subject}\n{m.Message.TextBody}\n{m.Message}"))
            .ToList();
        Assert.NotEmpty(sent);
        Assert.All(sent, body =>
        {
            Assert.DoesNotContain("Mill Lane", body);
            Assert.DoesNotContain(Worker, body);
            Assert.DoesNotContain(Phone, body);
        });
        Assert.DoesNotContain(atGamma.Accepted, r => r.Item().Change == InboxChange.BriefingPosted);
        Assert.Contains(atGamma.Accepted, r => r.Item().Change == InboxChange.Invited);
    }

    private const string SecretPlace = "Acme HQ, 3rd floor side door";

    /// <summary>
    /// Issue 15 #2: a participants-only plan goes in the participants-only log (the briefings'
    /// path), so an invited network that never commits never receives it, and a network
    /// that leaves deletes it. A public plan still reaches everyone, which shows the invited
    /// network was being sent the fight's log all along.
    /// </summary>
    [Fact]
    public async Task ParticipantsOnlyPlansReachCommittedNetworksOnlyAndLeaveWithThem()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        await using var d = await TestNode.StartAsync("delta");
        await TestNode.PeerAsync(a, b, c, d);
        var fightId = await FightWithAsync(a, b, c, d);
        await CommitAsync(b, fightId);
        await CommitAsync(d, fightId);

        var secret = new ActionPlan
        {
            What = "Secret occupation",
            Place = SecretPlace,
            StartsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(2)),
            Visibility = ActionVisibility.ParticipantsUntilStart,
        };
        var rally = new ActionPlan
        {
            What = "Rally at the town hall",
            StartsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(3)),
            Visibility = ActionVisibility.Public,
        };
        await b.Delegate.PlanActionAsync(new PlanActionRequest { FightId = fightId, Plan = secret }, b.Auth);
        await b.Delegate.PlanActionAsync(new PlanActionRequest { FightId = fightId, Plan = rally }, b.Auth);

        // The committed networks and the initiator see both; the invited one only the public plan.
        foreach (var n in new[] { a, b, d })
        {
            await Eventually.TrueAsync(() => Fight(n, fightId).Actions.Count == 2, $"both plans to reach {n.Name}");
        }
        await Eventually.TrueAsync(() => Fight(c, fightId).Actions.Any(x => x.Plan.What == rally.What), "the public plan to reach gamma");
        Assert.DoesNotContain(Fight(c, fightId).Actions, x => x.Plan.Place == SecretPlace);

        // delta is released: its copy of the participants-only plans is deleted.
        await d.Delegate.RequestReleaseAsync(new RequestReleaseRequest { FightId = fightId, Reason = "capacity" }, d.Auth);
        await Eventually.TrueAsync(() => Fight(a, fightId).Participants.Single(p => p.Network == d.NodeId).ReleaseRequested, "the release request");
        await a.Delegate.GrantReleaseAsync(new GrantReleaseRequest { FightId = fightId, Network = d.NodeId }, a.Auth);
        await Eventually.TrueAsync(() => Fight(d, fightId).Actions.All(x => x.Plan.Place != SecretPlace), "delta to delete its copy");

        // gamma declines; nothing secret was ever on its disk, nor is on delta's now.
        await c.Delegate.DeclineInvitationAsync(new DeclineInvitationRequest { FightId = fightId, Reason = "no capacity" }, c.Auth);
        await Eventually.TrueAsync(() => Fight(a, fightId).Participants.Single(p => p.Network == c.NodeId).State == ParticipantState.Declined, "gamma's decline");
        await c.StopAsync();
        await d.StopAsync();
        await b.StopAsync();
        Assert.True(Contains(Everything(b), SecretPlace), "the scan should find the plan where it is (beta, which planned it)");
        foreach (var n in new[] { c, d })
        {
            var bytes = Directory.GetFiles(n.DataDir).SelectMany(File.ReadAllBytes).ToArray();
            Assert.True(Contains(bytes, rally.What), $"{n.Name} should hold the public plan it was sent");
            Assert.False(Contains(bytes, SecretPlace), $"{n.Name} holds the participants-only plan in " + string.Join(", ", Directory.GetFiles(n.DataDir).Where(f => Contains(File.ReadAllBytes(f), SecretPlace)).Select(Path.GetFileName)));
        }
    }

    /// <summary>
    /// Issue 15 #9: a report-back's incidents reach the issuer only; the other recipients see
    /// that a report came, and pledges, but not its text, unless the reporter shares it.
    /// </summary>
    [Fact]
    public async Task ReportBacksReachTheIssuerOnlyUnlessSharedWhilePledgesStayVisible()
    {
        const string Incident = "Constable Ferdinand Oyelaran-Pike arrested our steward";
        const string Shared = "Forty of us held the gate until noon";
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(a, b, c);
        var x = await CallOutSteps.PublishAsync(a, null, b, c);
        await CallOutSteps.ReachedAsync(b, x.Id, 1);
        await CallOutSteps.ReachedAsync(c, x.Id, 1);

        await CallOutSteps.RespondAsync(c, x.Id, CallOutSteps.Pledge("2026-12-05", "the Leeds branch"));
        await CallOutSteps.ReachedAsync(a, x.Id, 2);
        await CallOutSteps.RespondAsync(b, x.Id, new CallOutResponse
        {
            Kind = ResponseKind.ReportBack, Report = "We picketed.", Turnout = 9, TargetResponse = "Doors locked", Incidents = Incident,
        });

        // The issuer reads all of it; gamma (a fellow recipient) only that beta reported back.
        var atIssuer = await CallOutSteps.ReachedAsync(a, x.Id, 3);
        Assert.Equal(Incident, atIssuer.Responses.Single(r => r.Network == b.NodeId).Latest.Incidents);
        var atGamma = await CallOutSteps.ReachedAsync(c, x.Id, 3);
        var betaRow = atGamma.Responses.Single(r => r.Network == b.NodeId).Latest;
        Assert.Equal((ResponseKind.ReportBack, true, "", "", 0u), (betaRow.Kind, betaRow.Withheld, betaRow.Incidents, betaRow.Report, betaRow.Turnout));
        // Pledges stay visible to fellow recipients, for coordination.
        var atBeta = await CallOutSteps.ReachedAsync(b, x.Id, 3);
        Assert.Equal("the Leeds branch", atBeta.Responses.Single(r => r.Network == c.NodeId).Latest.Place);
        Assert.False(Contains(Everything(c), Incident),
            "gamma holds the issuer-only incident in " + string.Join(", ", Directory.GetFiles(c.DataDir).Where(f => Contains(File.ReadAllBytes(f), Incident)).Select(Path.GetFileName)));

        // Shared by its reporter, a report-back reaches every recipient.
        await CallOutSteps.RespondAsync(c, x.Id, new CallOutResponse { Kind = ResponseKind.ReportBack, Report = Shared, Turnout = 40, ShareWithRecipients = true });
        var shared = (await CallOutSteps.ReachedAsync(b, x.Id, 4)).Responses.Single(r => r.Network == c.NodeId).Latest;
        Assert.Equal((Shared, 40u, false), (shared.Report, shared.Turnout, shared.Withheld));
    }

    [Fact]
    public async Task ConfidentialDetailsArePurgedOnDemandAndAfterTheEnd()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta", o => o.PurgeAfter = TimeSpan.Zero);
        await TestNode.PeerAsync(a, b);
        var fightId = await FightWithAsync(a, b);
        await CommitAsync(b, fightId);
        await a.Delegate.PostBriefingAsync(new PostBriefingRequest { FightId = fightId, Text = "Contact Ruth on 07700 900123" }, a.Auth);
        await b.Delegate.FileReportAsync(new FileReportRequest { FightId = fightId, Kind = ReportKind.Lawsuit, Summary = "Letter from Smith & Partners" }, b.Auth);
        await Eventually.TrueAsync(() => b.Delegate.GetBriefings(new GetObjectRequest { Id = fightId }, b.Auth).Briefings.Count == 1 &&
            a.Delegate.ListReports(new GetObjectRequest { Id = fightId }, a.Auth).Reports.Count == 1, "the briefing and the report");
        await a.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = fightId, Status = FightStatus.Settled }, a.Auth);
        await Eventually.TrueAsync(() => Fight(b, fightId).Status == FightStatus.Settled, "the end to reach beta");

        // The operator purges at the initiator on demand…
        var report = await a.Delegate.PurgeFightAsync(new GetObjectRequest { Id = fightId }, a.Auth);
        Assert.Equal((true, 1u, 1u), (report.LocalDetails, report.Briefings, report.Reports));
        Assert.Equal("", a.Delegate.GetLocalDetails(new GetObjectRequest { Id = fightId }, a.Auth).AffectedPerson);
        // …and beta's sweep purges its own copy once the set time has passed (zero here).
        Assert.Equal(1, await b.Services.GetRequiredService<PurgeSweeper>().SweepAsync(CancellationToken.None));
        Assert.True(b.Delegate.GetBriefings(new GetObjectRequest { Id = fightId }, b.Auth).Purged);

        // The shared outcome stays; the confidential bytes are gone from disk.
        Assert.Equal(FightStatus.Settled, Fight(a, fightId).Status);
        await a.StopAsync();
        await b.StopAsync();
        foreach (var secret in new[] { Worker, Phone, "Ruth", "Smith & Partners" })
        {
            Assert.False(Contains(Everything(a), secret), $"alpha still holds '{secret}'");
            Assert.False(Contains(Everything(b), secret), $"beta still holds '{secret}'");
        }
    }

    /// <summary>
    /// Issue 15 #10: a set time after a call-out closes, the issuer and each recipient delete
    /// its responses' texts (and the issuer its unshared report-backs) and keep the outcome.
    /// </summary>
    [Fact]
    public async Task AClosedCallOutsResponsesArePurgedOnTheIssuerAndEachRecipient()
    {
        const string Place = "the loading bay of Quillfeather Mills";
        const string Report = "Nine of us held the bay at Quillfeather";
        const string Incident = "Inspector Marguerite Achterberg took our names";
        await using var a = await TestNode.StartAsync("alpha", PurgingAtOnceWithDashboard(Ports.Free()));
        await using var b = await TestNode.StartAsync("beta", PurgingAtOnceWithDashboard(Ports.Free()));
        await TestNode.PeerAsync(a, b);
        var x = await CallOutSteps.PublishAsync(a, null, b);
        await CallOutSteps.ReachedAsync(b, x.Id, 1);
        await CallOutSteps.RespondAsync(b, x.Id, CallOutSteps.Pledge("2026-12-05", Place));
        await CallOutSteps.ReachedAsync(b, x.Id, 2);
        // Not shared: the issuer keeps this one apart, as issuer-only content.
        await CallOutSteps.RespondAsync(b, x.Id, new CallOutResponse { Kind = ResponseKind.ReportBack, Report = Report, Turnout = 9, Incidents = Incident });
        await CallOutSteps.ReachedAsync(b, x.Id, 3);
        Assert.Equal(Incident, CallOutSteps.Get(a, x.Id).Responses.Single().Latest.Incidents);
        // Open, it is not purged however long ago it was published.
        Assert.Equal(0, await a.Services.GetRequiredService<PurgeSweeper>().SweepAsync(CancellationToken.None));

        await a.Delegate.CloseCallOutAsync(new CloseCallOutRequest { CallOutId = x.Id, Reason = "the day has passed" }, a.Auth);
        await CallOutSteps.ReachedAsync(b, x.Id, 4);
        Assert.Equal(1, await a.Services.GetRequiredService<PurgeSweeper>().SweepAsync(CancellationToken.None));
        Assert.Equal(1, await b.Services.GetRequiredService<PurgeSweeper>().SweepAsync(CancellationToken.None));
        Assert.Equal(0, await b.Services.GetRequiredService<PurgeSweeper>().SweepAsync(CancellationToken.None)); // once

        // The outcome stays on both: closed, who answered, how, and how many came.
        foreach (var n in new[] { a, b })
        {
            var kept = CallOutSteps.Get(n, x.Id);
            var row = kept.Responses.Single();
            Assert.Equal((true, true, x.Content.Title, ResponseKind.ReportBack, 2u), (kept.Purged, kept.Closed, kept.Content.Title, row.Latest.Kind, row.Responses));
            Assert.Equal("", row.Latest.Incidents);
            // What is left still shows: in the dashboard's lists and page, and in solnet.
            var (token, _) = await n.Get<DelegateTokens>().CreateAsync("Sam", Core.Storage.Role.Delegate);
            using var dashboard = await DashboardClient.SignedInAsync(n, token);
            await dashboard.PageAsync("/callouts");
            await dashboard.PageAsync($"/callouts/{x.Id}");
            var shown = await Solnet.RunAsync(n.DataDir, "callout", "show", x.Id);
            Assert.True(shown.ExitCode == 0, shown.Error);
            Assert.Contains(x.Content.Title, shown.Out);
        }
        await a.StopAsync();
        await b.StopAsync();
        foreach (var secret in new[] { Place, Report, Incident })
        {
            Assert.False(Contains(Everything(a), secret), $"alpha still holds '{secret}'");
            Assert.False(Contains(Everything(b), secret), $"beta still holds '{secret}'");
        }
    }

    /// <summary>Issue 15 #10: a network that declined may never learn that the fight ended, so its clock starts when it leaves.</summary>
    [Fact]
    public async Task ANetworkThatDeclinesAFightStartsItsPurgeClockThen()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var fightId = await FightWithAsync(a, b);
        var confidential = b.Services.GetRequiredService<Confidential>();
        Assert.DoesNotContain(fightId, confidential.EndedBefore(DateTimeOffset.UtcNow.AddMinutes(1)));

        await b.Delegate.DeclineInvitationAsync(new DeclineInvitationRequest { FightId = fightId, Reason = "no capacity" }, b.Auth);
        await Eventually.TrueAsync(() => Fight(b, fightId).Participants.Single(p => p.Network == b.NodeId).State == ParticipantState.Declined,
            "beta's decline to come back");

        Assert.Equal(FightStatus.Open, Fight(b, fightId).Status); // the fight goes on
        Assert.Contains(fightId, confidential.EndedBefore(DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.DoesNotContain(fightId, confidential.EndedBefore(DateTimeOffset.UtcNow.AddMinutes(-10)));
        // The initiator's clock still waits for the end.
        Assert.DoesNotContain(fightId, a.Services.GetRequiredService<Confidential>().EndedBefore(DateTimeOffset.UtcNow.AddMinutes(1)));
    }

    /// <summary>Issue 15 #10: purging a fight deletes what of it (and of its briefings) is still queued, parked or held.</summary>
    [Fact]
    public async Task APurgedFightLeavesNothingQueuedParkedOrHeld()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta", o => o.PurgeAfter = TimeSpan.Zero);
        await TestNode.PeerAsync(a, b);
        var fightId = await FightWithAsync(a, b);
        await CommitAsync(b, fightId);
        await a.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = fightId, Status = FightStatus.Settled }, a.Auth);
        await Eventually.TrueAsync(() => Fight(b, fightId).Status == FightStatus.Settled, "the end to reach beta");

        // A peer that is never reached, so nothing is delivered (and so deleted) on its own.
        var gone = Identifiers.NodeIdFromPublicKey(System.Security.Cryptography.RandomNumberGenerator.GetBytes(91));
        var briefingsId = Briefings.IdOf(fightId);
        await a.Store.WriteAsync(tx =>
        {
            tx.DeadLetter(new OutboxItem(0, gone, OutboxKind.Submission, fightId, 0, [1]), "PermissionDenied", "refused");
            tx.DeadLetter(new OutboxItem(0, gone, OutboxKind.Submission, briefingsId, 0, [2]), DeadLetter.WaitingPrefix + "responses.withheld", "waits");
            return true;
        });
        await b.Store.WriteAsync(tx =>
        {
            tx.Enqueue(gone, OutboxKind.Submission, fightId, 0, [3]);
            tx.Hold(fightId, 999, [4]);
            return true;
        });
        Assert.Equal(2, a.Store.ListDeadLetters(gone).Count);

        await a.Delegate.PurgeFightAsync(new GetObjectRequest { Id = fightId }, a.Auth);
        await b.Services.GetRequiredService<PurgeSweeper>().SweepAsync(CancellationToken.None);

        Assert.Empty(a.Store.ListDeadLetters(gone));
        Assert.Empty(b.Store.LoadBatch(gone, 10));
        Assert.DoesNotContain(fightId, b.Store.ObjectsWithHeldEvents());
    }

    // The port is chosen once: the options are built more than once.
    private static Action<Core.NodeOptions> PurgingAtOnceWithDashboard(int dashboardPort) => o =>
    {
        o.PurgeAfter = TimeSpan.Zero;
        o.DashboardPort = dashboardPort;
    };
}
