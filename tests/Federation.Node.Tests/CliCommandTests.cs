using System.Text.Json;
using Federation.Contracts.V1;

namespace Federation.Node.Tests;

/// <summary>
/// solnet end to end against real nodes: every delegate-service call has a command, usage
/// errors and refusals have their exit codes and messages, --json is machine-readable, and
/// the commands added on top of the service (peering codes, call-outs from a file,
/// participants, waiting for delivery) work.
/// </summary>
public sealed class CliCommandTests
{
    /// <summary>
    /// The command that makes each delegate-service call. A new RPC without a command fails
    /// here until someone gives it one.
    /// </summary>
    private static readonly Dictionary<string, string> CommandFor = new()
    {
        ["GetNodeInfo"] = "info",
        ["AddPeer"] = "peer add",
        ["ListPeers"] = "peers",
        ["SetPeerState"] = "peer suspend",
        ["CreateToken"] = "token create",
        ["ListTokens"] = "token list",
        ["RevokeToken"] = "token revoke",
        ["EndTokenSessions"] = "token sign-out",
        ["RotateOperatorToken"] = "token rotate-operator",
        ["ListDeadLetters"] = "deadletters",
        ["ReplayDeadLetter"] = "deadletter replay",
        ["PublishCallOut"] = "callout publish",
        ["CloseCallOut"] = "callout close",
        ["RespondToCallOut"] = "callout respond",
        ["GetCallOut"] = "callout show",
        ["ListCallOuts"] = "callouts",
        ["UpdateCallOut"] = "callout update",
        ["QueryInbox"] = "inbox",
        ["SubscribeInbox"] = "inbox watch",
        ["GetWhatsNew"] = "inbox",
        ["MarkNewsSeen"] = "inbox",
        ["ExportPledges"] = "callout calendar",
        ["AddWebhook"] = "notify webhook",
        ["AddEmailRecipient"] = "notify email",
        ["ListNotificationChannels"] = "notify list",
        ["RemoveNotificationChannel"] = "notify remove",
        ["ListNotificationDeliveries"] = "notify deliveries",
        ["DraftFight"] = "fight draft",
        ["UpdateDraftTerms"] = "fight terms",
        ["OpenFight"] = "fight open",
        ["InviteToFight"] = "fight invite",
        ["AcceptInvitation"] = "fight accept",
        ["DeclineInvitation"] = "fight decline",
        ["ChangeFightStatus"] = "fight status",
        ["GetFight"] = "fight show",
        ["ListFights"] = "fights",
        ["AmendTerms"] = "fight amend",
        ["ReaffirmTerms"] = "fight reaffirm",
        ["DeclineAmendment"] = "fight decline-amendment",
        ["RequestRelease"] = "fight release-request",
        ["GrantRelease"] = "fight release",
        ["DeliverDemand"] = "fight demand",
        ["RecordCommunication"] = "fight communication",
        ["FileReport"] = "fight report",
        ["ListReports"] = "fight reports",
        ["UnlockStorage"] = "unlock",
        ["LockStorage"] = "lock",
        ["GetStorageRecovery"] = "unlock",
        ["RecoverStorage"] = "unlock",
        ["GetNodeKeys"] = "key show",
        ["PrepareNodeKey"] = "key rotate",
        ["InstallNodeKey"] = "key rotate",
        ["RevokeNodeKey"] = "key revoke",
        ["RecoverFromPeers"] = "network recover-objects",
        ["ListCommitments"] = "commitments",
        ["PlanAction"] = "fight action plan",
        ["UpdateAction"] = "fight action update",
        ["CancelAction"] = "fight action cancel",
        ["ReportAction"] = "fight action report",
        ["AcknowledgeStandDown"] = "fight ack",
        ["ExportFightCalendar"] = "fight calendar",
        ["GetBalance"] = "balance",
        ["SetLocalDetails"] = "fight local",
        ["GetLocalDetails"] = "fight local-show",
        ["PostBriefing"] = "fight brief",
        ["GetBriefings"] = "fight briefings",
        ["PurgeFight"] = "fight purge",
        ["ListAudit"] = "audit",
        ["TakeBackup"] = "backup",
        ["ExportBundle"] = "bundle export",
        ["SetPeerRelay"] = "peer relay",
        ["ExportBundleParts"] = "bundle export",
        ["ImportBundle"] = "bundle import",
    };

    /// <summary>Commands that are not one call: overviews, aliases, settings and waiting.</summary>
    private static readonly string[] MoreCommands =
    [
        "status", "peer list", "peer show", "peer code", "peer revoke", "peer resume", "peer wait", "deadletter list",
        "callout list", "callout cancel", "fight list", "fight participants", "fight diff", "config set", "config show",
        "restore",
    ];

    [Fact]
    public async Task EveryDelegateServiceCallHasACommandAndEveryCommandExplainsItselfAndTheExitCodes()
    {
        var methods = DelegateService.Descriptor.Methods.Select(m => m.Name).ToHashSet();
        Assert.Empty(methods.Except(CommandFor.Keys));
        Assert.Empty(CommandFor.Keys.Except(methods)); // the table names only real calls

        var failures = new List<string>();
        using var slots = new SemaphoreSlim(4);
        await Task.WhenAll(CommandFor.Values.Concat(MoreCommands).Distinct().Select(async path =>
        {
            await slots.WaitAsync();
            try
            {
                var help = await Solnet.RunWithoutDataAsync([.. path.Split(' '), "--help"]);
                if (help.ExitCode != 0 || !help.Out.Contains($"solnet {path}", StringComparison.Ordinal) || !help.Out.Contains("Exit codes:", StringComparison.Ordinal)
                    || !help.Out.Contains("3  the node refused", StringComparison.Ordinal))
                {
                    lock (failures)
                    {
                        failures.Add($"{path}: exit {help.ExitCode}\n{help.Out}{help.Error}");
                    }
                }
            }
            finally
            {
                slots.Release();
            }
        }));
        Assert.Empty(failures);
    }

    [Fact]
    public async Task MistakesOnTheCommandLineExitWithTwoSayWhatIsWrongAndSendNothing()
    {
        async Task Usage(string expected, params string[] args)
        {
            // No node: a usage error must be found before any node is needed.
            var r = await Solnet.RunWithoutDataAsync(["--node", "http://127.0.0.1:9", "--token", "sn_x", .. args]);
            Assert.True(r.ExitCode == 2, $"{string.Join(' ', args)}: exit {r.ExitCode}\n{r.Out}{r.Error}");
            Assert.Contains(expected, r.Error);
        }

        await Usage("Unrecognized command or argument 'frobnicate'", "frobnicate");
        await Usage("'bogus' is not a status: escalating, paused, won, settled, lost, called-off.", "fight", "status", "f1", "bogus");
        await Usage("'pickets' is not an action: picket, blockade", "callout", "publish", "--title", "t", "--action", "pickets");
        await Usage("'boss' is not a role: delegate, organiser, operator.", "token", "create", "--holder", "Sam", "--role", "boss");
        await Usage("--turnout must be a whole number, not 'many'.", "callout", "respond", "c1", "report", "--report", "r", "--turnout", "many");
        await Usage("--from 'next week' is not a date/time (try 2026-12-01T17:00:00Z).", "inbox", "--from", "next week");
        await Usage("--start", "fight", "action", "plan", "f1", "--what", "Picket");
        await Usage("Option '--title' is required.", "fight", "draft", "--target", "Acme");
        await Usage("Choose --open or --closed, or neither for both.", "inbox", "--open", "--closed");
        await Usage("--date is required.", "callout", "respond", "c1", "pledge");
        await Usage("A call-out needs --title, --target and --demand", "callout", "publish", "--title", "t");
        await Usage("'x' is not a dead letter id", "deadletter", "replay", "x");
        await Usage("Which dead letters?", "deadletter", "replay");
        await Usage("'not-a-code' is not a peering code", "peer", "add", "not-a-code");
        await Usage("--recover needs the network key file", "unlock", "--recover");
        await Usage("give one of them", "unlock", "--change", "--recover", "--network-key", "k");

        // A group on its own shows what it offers.
        var group = await Solnet.RunWithoutDataAsync(["fight"]);
        Assert.Equal(2, group.ExitCode);
        Assert.Contains("draft", group.Out);
        Assert.Contains("needs one of the commands above", group.Error);

        // No node anywhere: says how to name one.
        var nowhere = await Solnet.RunWithoutDataAsync(["info"]);
        Assert.Equal(2, nowhere.ExitCode);
        Assert.Contains("Which node?", nowhere.Error);
        var badAddress = await Solnet.RunWithoutDataAsync(["--node", "ftp://example.org", "--token", "t", "info"]);
        Assert.Equal(2, badAddress.ExitCode);
        Assert.Contains("is not a node address", badAddress.Error);
    }

    [Fact]
    public async Task RefusalsExitWithThreeAndCarryTheNodesMessageAndAnUnreachableNodeExitsWithFour()
    {
        await using var a = await TestNode.StartAsync("alpha");

        var stranger = await Solnet.RunWithoutDataAsync(["--node", a.Address, "--token", "sn_00000000_forged", "info"]);
        Assert.Equal(3, stranger.ExitCode);
        Assert.Contains("(Unauthenticated)", stranger.Error);
        Assert.Equal("", stranger.Out);

        var malformed = await Solnet.RunAsync(a.DataDir, "fight", "show", "no-such-fight");
        Assert.Equal(3, malformed.ExitCode);
        Assert.Contains("is not an object", malformed.Error);
        var missing = await Solnet.RunAsync(a.DataDir, "fight", "show", $"{a.NodeId}.{new string('0', 32)}");
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("(NotFound)", missing.Error);

        var ghost = await Solnet.RunAsync(a.DataDir, "peer", "show", "0000-0000-0000-0000-0000-0000-0000-0000");
        Assert.Equal(3, ghost.ExitCode);
        Assert.Contains("is not a peer of this node", ghost.Error);

        var bad = await Solnet.RunAsync(a.DataDir, "peer", "add", "http://127.0.0.1:9", "not-a-fingerprint");
        Assert.Equal(3, bad.ExitCode);
        Assert.Contains("is not a node fingerprint", bad.Error);
        Assert.Empty(a.Store.ListPeers());

        // A node that is not running: said so, with its address, not as "Error connecting to subchannel".
        var port = Ports.Free();
        var closed = await Solnet.RunWithoutDataAsync(["--node", $"http://127.0.0.1:{port}", "--token", "sn_x", "info"]);
        Assert.Equal(4, closed.ExitCode);
        Assert.Contains($"No node answers at http://127.0.0.1:{port}: it is not running, or it listens on another address.", closed.Error);
        Assert.DoesNotContain("subchannel", closed.Error);
    }

    [Fact]
    public async Task JsonIsOneParsableDocumentWithEveryFieldAndNoTableOrColour()
    {
        await using var a = await TestNode.StartAsync("alpha", "--region", "Leeds");

        var info = await Solnet.RunAsync(a.DataDir, "info", "--json");
        Assert.Equal(0, info.ExitCode);
        using (var doc = JsonDocument.Parse(info.Out))
        {
            Assert.Equal("alpha", doc.RootElement.GetProperty("name").GetString());
            Assert.Equal(a.NodeId, doc.RootElement.GetProperty("nodeId").GetString());
            Assert.Equal("Leeds", doc.RootElement.GetProperty("region").GetString());
        }

        // Lists are arrays, empty ones too; fields at their default value are still there.
        var peers = await Solnet.RunAsync(a.DataDir, "peers", "--json");
        Assert.Equal("[]", peers.Out.Trim());
        var created = await Solnet.RunAsync(a.DataDir, "token", "create", "--holder", "Sam", "--role", "delegate", "--json");
        using (var doc = JsonDocument.Parse(created.Out))
        {
            Assert.StartsWith("sn_", doc.RootElement.GetProperty("token").GetString());
            Assert.Equal("delegate", doc.RootElement.GetProperty("info").GetProperty("role").GetString());
        }
        var tokens = await Solnet.RunAsync(a.DataDir, "token", "list", "--json");
        using (var doc = JsonDocument.Parse(tokens.Out))
        {
            var sam = doc.RootElement.EnumerateArray().Single(t => t.GetProperty("holder").GetString() == "Sam");
            Assert.Equal("delegate", sam.GetProperty("role").GetString());
        }

        var fight = (await Solnet.RunAsync(a.DataDir, "fight", "draft", "--title", "Acme deposit fight", "--target", "Acme Lettings", "--demand", "Return the £900 deposit", "--field", "id")).Out.Trim();
        var diff = await Solnet.RunAsync(a.DataDir, "fight", "diff", fight, "--json");
        using (var doc = JsonDocument.Parse(diff.Out))
        {
            Assert.False(doc.RootElement.GetProperty("amended").GetBoolean());
            Assert.Equal(0, doc.RootElement.GetProperty("changes").GetArrayLength());
        }
        var fights = await Solnet.RunAsync(a.DataDir, "fights", "--json");
        using (var doc = JsonDocument.Parse(fights.Out))
        {
            var only = Assert.Single(doc.RootElement.EnumerateArray().ToList());
            Assert.Equal("FIGHT_STATUS_DRAFT", only.GetProperty("status").GetString());
            Assert.Equal("Return the £900 deposit", only.GetProperty("terms").GetProperty("demands")[0].GetString());
            Assert.Equal("", only.GetProperty("terms").GetProperty("strategy").GetString());
        }
        var status = await Solnet.RunAsync(a.DataDir, "status", "--json");
        using (var doc = JsonDocument.Parse(status.Out))
        {
            Assert.Equal("alpha", doc.RootElement.GetProperty("node").GetProperty("name").GetString());
            Assert.Equal(0, doc.RootElement.GetProperty("peers").GetArrayLength());
        }
        foreach (var output in new[] { info, peers, created, tokens, diff, fights, status })
        {
            Assert.DoesNotContain('\u001b', output.Out);
            Assert.DoesNotContain('│', output.Out);
        }

        // --field on a list: one value a line, for shell loops.
        var ids = await Solnet.RunAsync(a.DataDir, "fights", "--field", "id");
        Assert.Equal(fight, ids.Out.Trim());
    }

    [Fact]
    public async Task OperatorsPeerWithOneCodeAndTheHealthTableReadsOneLineAPeerWhenRedirected()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");

        var code = (await Solnet.RunAsync(a.DataDir, "peer", "code")).Out.Trim();
        Assert.Equal($"{a.Identity.Fingerprint}@{a.Address}", code);
        var codeB = (await Solnet.RunAsync(b.DataDir, "peer", "code")).Out.Trim();
        Assert.Equal(0, (await Solnet.RunAsync(b.DataDir, "peer", "add", code)).ExitCode);
        Assert.Equal(0, (await Solnet.RunAsync(a.DataDir, "peer", "add", codeB)).ExitCode);
        Assert.Equal("active", a.PeerInfo(b.NodeId).State);

        var table = await Solnet.RunAsync(a.DataDir, "peers");
        Assert.Equal(0, table.ExitCode);
        var row = Assert.Single(table.Out.Split('\n'), l => l.Contains("beta", StringComparison.Ordinal));
        Assert.Contains(b.Identity.Fingerprint, row);
        Assert.Contains("healthy", row);
        Assert.DoesNotContain('\u001b', table.Out);

        var shown = await Solnet.RunAsync(a.DataDir, "peer", "show", b.Identity.Fingerprint, "--field", "state");
        Assert.Equal("active", shown.Out.Trim());
        var suspended = await Solnet.RunAsync(a.DataDir, "peer", "suspend", b.Identity.Fingerprint);
        Assert.Equal(0, suspended.ExitCode);
        Assert.Equal("suspended", a.PeerInfo(b.NodeId).State);
    }

    [Fact]
    public async Task ACallOutPublishedFromAFileIsAnsweredWithWaitAndTheAnswerIsAtTheOriginWhenSolnetReturns()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);

        var file = Path.Combine(a.DataDir, "callout.json");
        await File.WriteAllTextAsync(file, """
            {
              "title": "Picket Bistro Co, York",
              "target": { "name": "Bistro Co", "parentCompany": "Bistro Holdings" },
              "demandSummary": "Pay the £2,400 in stolen wages",
              "places": [ { "city": "York", "address": "3 Coney St" } ],
              "actionTypes": [ "ACTION_TYPE_PICKET" ],
              "windowStart": "2026-12-05T10:00:00Z"
            }
            """);
        // A flag given as well as the file wins.
        var published = await Solnet.RunAsync(a.DataDir, "callout", "publish", "--file", file, "--title", "Picket Bistro Co, York (Saturday)", "--field", "id");
        Assert.True(published.ExitCode == 0, published.Error);
        var id = published.Out.Trim();
        var state = await a.Delegate.GetCallOutAsync(new GetObjectRequest { Id = id }, a.Auth);
        Assert.Equal(("Picket Bistro Co, York (Saturday)", "Bistro Holdings", "York"), (state.Content.Title, state.Content.Target.ParentCompany, state.Content.Places.Single().City));
        Assert.Equal(ActionType.Picket, state.Content.ActionTypes.Single());

        // A file that is not a call-out changes nothing.
        var broken = Path.Combine(a.DataDir, "broken.json");
        await File.WriteAllTextAsync(broken, """{ "title": 5 }""");
        var refused = await Solnet.RunAsync(a.DataDir, "callout", "publish", "--file", broken);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("is not a call-out", refused.Error);
        Assert.Single((await a.Delegate.ListCallOutsAsync(new ListCallOutsRequest(), a.Auth)).CallOuts);

        Assert.Equal(0, (await Solnet.RunAsync(a.DataDir, "peer", "wait", b.Identity.Fingerprint)).ExitCode);
        var inbox = await Solnet.RunAsync(b.DataDir, "inbox", "--city", "york", "--action", "picket", "--field", "id");
        Assert.Equal(id, inbox.Out.Trim());

        var pledged = await Solnet.RunAsync(b.DataDir, "callout", "respond", id, "pledge", "--date", "2026-12-05", "--wait");
        Assert.True(pledged.ExitCode == 0, pledged.Error);
        Assert.Contains("Delivered to the origin.", pledged.Out);
        // --wait means the origin has it: no polling needed here.
        var atOrigin = await a.Delegate.GetCallOutAsync(new GetObjectRequest { Id = id }, a.Auth);
        Assert.Equal("2026-12-05", atOrigin.Responses.Single().Latest.PlannedDate);
    }

    [Fact]
    public async Task WaitingForAnOriginThatIsDownGivesUpWithFiveAndTheAnswerStaysQueued()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var x = await a.PublishAsync(b);
        await Eventually.TrueAsync(() => b.Store.Count("events") > 0, "the call-out to reach beta");
        await a.StopAsync();

        var r = await Solnet.RunAsync(b.DataDir, "callout", "respond", x.Id, "decline", "--reason", "Not this week", "--wait", "--timeout", "2");
        Assert.Equal(5, r.ExitCode);
        Assert.Contains("Not delivered after 2s", r.Error);
        Assert.Contains("the node keeps trying", r.Error);
        Assert.True(b.PeerInfo(a.NodeId).Pending > 0);
    }

    [Fact]
    public async Task TheInitiatorSeesWhoHasAcknowledgedTheStandDown()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var fight = (await Solnet.RunAsync(a.DataDir, "fight", "draft", "--title", "Acme deposit fight", "--target", "Acme Lettings",
            "--demand", "Return the deposit", "--field", "id")).Out.Trim();
        // Only the flags given change: the demand from the draft stays.
        var edited = await Solnet.RunAsync(a.DataDir, "fight", "terms", fight, "--strategy", "Letter, then pickets", "--facts", "Deposit withheld", "--end-conditions", "Deposit returned");
        Assert.True(edited.ExitCode == 0, edited.Error);
        var hash = (await Solnet.RunAsync(a.DataDir, "fight", "open", fight, "--field", "terms_hash")).Out.Trim();
        Assert.Equal(64, hash.Length);
        Assert.Equal("Return the deposit", (await a.Delegate.GetFightAsync(new GetObjectRequest { Id = fight }, a.Auth)).Terms.Demands.Single());
        Assert.Equal(0, (await Solnet.RunAsync(a.DataDir, "fight", "invite", fight, b.Identity.Fingerprint)).ExitCode);
        Assert.Equal(0, (await Solnet.RunAsync(a.DataDir, "peer", "wait")).ExitCode);
        // The invited network reads every part of the terms it is asked to accept.
        var offered = await Solnet.RunAsync(b.DataDir, "fight", "show", fight);
        Assert.Contains("facts:      Deposit withheld", offered.Out);
        Assert.Contains("ends when:  Deposit returned", offered.Out);
        Assert.Equal(0, (await Solnet.RunAsync(b.DataDir, "fight", "accept", fight, hash, "--wait")).ExitCode);
        Assert.Equal(0, (await Solnet.RunAsync(a.DataDir, "fight", "status", fight, "won", "--note", "paid")).ExitCode);
        Assert.Equal(0, (await Solnet.RunAsync(a.DataDir, "peer", "wait")).ExitCode);

        var before = await Solnet.RunAsync(a.DataDir, "fight", "participants", fight);
        Assert.Contains("NOT ACKNOWLEDGED", Assert.Single(before.Out.Split('\n'), l => l.Contains("committed", StringComparison.Ordinal)));

        Assert.Equal(0, (await Solnet.RunAsync(b.DataDir, "fight", "ack", fight, "--wait")).ExitCode);
        await Eventually.TrueAsync(() => !a.Delegate.GetFight(new GetObjectRequest { Id = fight }, a.Auth).Participants.Single().StandDownPending, "alpha to record the acknowledgement");
        var after = await Solnet.RunAsync(a.DataDir, "fight", "participants", fight, "--json");
        using var doc = JsonDocument.Parse(after.Out);
        var beta = Assert.Single(doc.RootElement.EnumerateArray().ToList());
        Assert.False(beta.GetProperty("standDownPending").GetBoolean());
        Assert.NotNull(beta.GetProperty("standDownAcknowledgedAt").GetString());
    }
}
