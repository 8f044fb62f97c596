using System.Text;
using Federation.Contracts.V1;
using Grpc.Core;

namespace Federation.Node.Tests;

/// <summary>
/// Issue 24: a seized disk yields no identities. What the initiator keeps in confidence
/// rests sealed under a key whose private half is never on the disk in clear; a locked
/// node keeps federating; and reads say plainly that it is locked.
/// </summary>
public sealed class SealedAtRestTests
{
    private const string Passphrase = "correct horse battery staple";
    private const string Worker = "Marisol Quintero-Vance";
    private const string Phone = "07700 900461";
    private const string Referral = "Their solicitor Hendry rang our treasurer";
    private const string Incident = "A manager shoved Daniela at the door";
    private const string Briefing = "The shop steward's flat above the launderette is the safe house";
    private const string Plan = "Unlock the loading-bay side door at 05:40";
    private const string PlanPlace = "Corrigan Street depot, gate 3";

    /// <summary>Every file under the data folder, as bytes: the database, its WAL, the keys.</summary>
    private static byte[] Disk(TestNode n) =>
        Directory.GetFiles(n.DataDir, "*", SearchOption.AllDirectories).SelectMany(File.ReadAllBytes).ToArray();

    /// <summary>The text as UTF-8 or UTF-16, as a forensic scan would look for it.</summary>
    private static bool Holds(byte[] disk, string text) =>
        disk.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0 || disk.AsSpan().IndexOf(Encoding.Unicode.GetBytes(text)) >= 0;

    private static LocalDetails Details(TestNode a, string fightId) => a.Delegate.GetLocalDetails(new GetObjectRequest { Id = fightId }, a.Auth);

    private static Task<StorageStatus> UnlockAsync(TestNode n, string passphrase = Passphrase, bool create = false) =>
        n.Delegate.UnlockStorageAsync(new UnlockStorageRequest { Passphrase = passphrase, Create = create }, n.Auth).ResponseAsync;

    /// <summary>A fight at <paramref name="a"/> with the worker's details, <paramref name="b"/> in it and a referral from b.</summary>
    private static async Task<string> FightWithSecretsAsync(TestNode a, TestNode b)
    {
        var draft = await a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Bistro wages", Target = new Target { Name = "Bistro Co" }, Terms = Samples.Terms() }, a.Auth);
        await a.Delegate.SetLocalDetailsAsync(new SetLocalDetailsRequest
        {
            FightId = draft.Id,
            Details = new LocalDetails { AffectedPerson = Worker, Contact = Phone, Notes = "Night shift; do not call before noon." },
        }, a.Auth);
        await a.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, a.Auth);
        await a.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = draft.Id, Networks = { b.NodeId } }, a.Auth);
        await Eventually.TrueAsync(() => b.Store.GetObject(draft.Id) is not null, "the invitation to reach beta");
        var hash = b.Delegate.GetFight(new GetObjectRequest { Id = draft.Id }, b.Auth).TermsHash;
        await b.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = draft.Id, TermsHash = hash }, b.Auth);
        await b.Delegate.FileReportAsync(new FileReportRequest { FightId = draft.Id, Kind = ReportKind.Referral, Summary = Referral }, b.Auth);
        await Eventually.TrueAsync(() => a.Store.ListReports(draft.Id).Count == 1, "beta's referral to reach alpha");
        return draft.Id;
    }

    private static FightState Fight(TestNode n, string id) => n.Delegate.GetFight(new GetObjectRequest { Id = id }, n.Auth);

    private static BriefingsState BriefingsOf(TestNode n, string id) => n.Delegate.GetBriefings(new GetObjectRequest { Id = id }, n.Auth);

    private static ActionPlan SecretPlan(string what) => new()
    {
        What = what,
        Place = PlanPlace,
        StartsAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(2)),
        Visibility = ActionVisibility.ParticipantsUntilStart,
    };

    /// <summary>The participants-only tier of <paramref name="fightId"/>: a briefing from the initiator, and a partner's participants-only plan.</summary>
    private static async Task ParticipantsOnlyAsync(TestNode a, TestNode b, string fightId)
    {
        await a.Delegate.PostBriefingAsync(new PostBriefingRequest { FightId = fightId, Text = Briefing }, a.Auth);
        await b.Delegate.PlanActionAsync(new PlanActionRequest { FightId = fightId, Plan = SecretPlan(Plan) }, b.Auth);
        await Eventually.TrueAsync(() => Fight(a, fightId).Actions.Any(x => x.Plan.What == Plan), "beta's participants-only plan to reach alpha");
        await Eventually.TrueAsync(() => BriefingsOf(b, fightId).Briefings.Any(x => x.Text == Briefing), "the briefing to reach beta");
    }

    [Fact]
    public async Task AStoppedNodesDiskHoldsNoneOfWhatItKeptInConfidenceAndAfterARestartItIsLockedUntilUnlocked()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        Assert.Equal(StorageState.Unlocked, (await UnlockAsync(a, create: true)).State);
        Assert.Equal(StorageState.Unlocked, (await UnlockAsync(b, create: true)).State);
        var fightId = await FightWithSecretsAsync(a, b);
        await ParticipantsOnlyAsync(a, b, fightId);
        // An unshared report-back, kept only at the issuer.
        var callOut = await CallOutSteps.PublishAsync(a, null, b);
        await CallOutSteps.ReachedAsync(b, callOut.Id, 1);
        var reportBack = CallOutSteps.ReportBack();
        reportBack.Incidents = Incident;
        await CallOutSteps.RespondAsync(b, callOut.Id, reportBack);
        await CallOutSteps.ReachedAsync(a, callOut.Id, 2);
        Assert.Equal(Incident, CallOutSteps.Get(a, callOut.Id).Responses.Single().Latest.Incidents);
        Assert.Equal(Worker, Details(a, fightId).AffectedPerson);

        // A bundle of everything alpha shares with beta, and one of what beta owes alpha: signed,
        // not encrypted, so they carry none of it (issue 18's bundles, issue 24's "and bundles").
        var epoch = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch);
        var bundles = (await a.Delegate.ExportBundleAsync(new ExportBundleRequest { Peer = b.Identity.Fingerprint, Since = epoch }, a.Auth)).Bundle.ToByteArray()
            .Concat((await b.Delegate.ExportBundleAsync(new ExportBundleRequest { Peer = a.Identity.Fingerprint, Since = epoch }, b.Auth)).Bundle.ToByteArray())
            .ToArray();
        Assert.True(Holds(bundles, "Bistro wages"), "the bundles carry the public fields, so the scan does find text where it is");

        await a.StopAsync();
        var disk = Disk(a);
        Assert.True(disk.Length > 10_000, "alpha wrote almost nothing; the scan would prove little");
        Assert.True(Holds(disk, "Bistro wages"), "public fields stay in clear, so the scan does find text where it is");
        foreach (var secret in new[] { Worker, Phone, Referral, Incident, Briefing, Plan, PlanPlace })
        {
            Assert.False(Holds(disk, secret), $"alpha's disk holds \"{secret}\"");
            Assert.False(Holds(bundles, secret), $"a bundle holds \"{secret}\"");
        }
        // The receiving replica rests the briefing it was sent sealed as well.
        await b.StopAsync();
        Assert.False(Holds(Disk(b), Briefing), "beta's disk holds the briefing it received");
        await b.StartAgainAsync();
        await UnlockAsync(b);

        // Started again, it is locked: it says so, and still federates.
        await a.StartAgainAsync();
        Assert.Equal(StorageState.Locked, a.Delegate.GetNodeInfo(new GetNodeInfoRequest(), a.Auth).Storage);
        var locked = Assert.Throws<RpcException>(() => Details(a, fightId));
        Assert.Equal(StatusCode.FailedPrecondition, locked.StatusCode);
        Assert.Contains("The node is locked", locked.Status.Detail);
        Assert.True(CallOutSteps.Get(a, callOut.Id).Responses.Single().Latest.Withheld, "locked, the issuer sees the report-back as withheld");
        await b.Delegate.FileReportAsync(new FileReportRequest { FightId = fightId, Kind = ReportKind.Police, Summary = "Second visit, calmer" }, b.Auth);
        await Eventually.TrueAsync(() => a.Store.ListReports(fightId).Count == 2, "a report filed while alpha is locked to be taken");
        // Its people hear that it came, and from whom; its kind waits for the unlock and its text is never told.
        var told = a.Get<Federation.Node.Notifications.InboxFeed>().Read(0, 10_000).Items.Last(i => i.FightId == fightId);
        Assert.Contains("filed a referral or an incident report", told.Summary);
        Assert.DoesNotContain("calmer", told.ToString());

        // Locked, the participants-only tier says so; the plans' ids and statuses still serve the rules.
        Assert.Equal(StatusCode.FailedPrecondition, Assert.Throws<RpcException>(() => BriefingsOf(a, fightId)).StatusCode);
        Assert.Equal("", Fight(a, fightId).Actions.Single().Plan.What);
        // It keeps taking and writing participants-only content: a partner's plan, its own briefing.
        await b.Delegate.PlanActionAsync(new PlanActionRequest { FightId = fightId, Plan = SecretPlan("Second shift walkout") }, b.Auth);
        await Eventually.TrueAsync(() => Fight(a, fightId).Actions.Count == 2, "a plan submitted while alpha is locked to be recorded");
        await a.Delegate.PostBriefingAsync(new PostBriefingRequest { FightId = fightId, Text = "Posted while locked" }, a.Auth);
        // What it cannot open to send waits for the unlock, beside beta's dead letters; beta has not got it.
        await Eventually.TrueAsync(() => a.Store.ListDeadLetters(b.NodeId).Count(d => d.WaitsFor == Federation.Core.Commands.StorageLock.WaitsForUnlock) >= 2,
            "alpha's participants-only events to wait for the unlock");
        Assert.Equal([Briefing], BriefingsOf(b, fightId).Briefings.Select(x => x.Text));

        // A wrong passphrase changes nothing; the right one opens everything, old and new.
        var wrong = await Assert.ThrowsAsync<RpcException>(() => UnlockAsync(a, "not the passphrase"));
        Assert.Equal(StatusCode.PermissionDenied, wrong.StatusCode);
        Assert.Throws<RpcException>(() => Details(a, fightId));
        await UnlockAsync(a);
        Assert.Equal((Worker, Phone), (Details(a, fightId).AffectedPerson, Details(a, fightId).Contact));
        Assert.Equal([Referral, "Second visit, calmer"], a.Delegate.ListReports(new GetObjectRequest { Id = fightId }, a.Auth).Reports.Select(r => r.Summary));
        Assert.Equal([Briefing, "Posted while locked"], BriefingsOf(a, fightId).Briefings.Select(x => x.Text));
        Assert.Equal([Plan, "Second shift walkout"], Fight(a, fightId).Actions.Select(x => x.Plan.What));
        // What waited for the unlock reaches the partner: the briefing and its own second plan.
        await Eventually.TrueAsync(() => BriefingsOf(b, fightId).Briefings.Count == 2 && Fight(b, fightId).Actions.Count == 2,
            "what alpha wrote while locked to reach beta after the unlock");
        Assert.Empty(a.Store.ListDeadLetters(b.NodeId));

        // The panic lock takes effect at once.
        Assert.Equal(StorageState.Locked, (await a.Delegate.LockStorageAsync(new LockStorageRequest(), a.Auth)).State);
        Assert.Equal(StatusCode.FailedPrecondition, Assert.Throws<RpcException>(() => Details(a, fightId)).StatusCode);
    }

    [Fact]
    public async Task WhatWaitsForAnUnreachablePeerRestsSealedAndALockedNodeSendsItOnceUnlocked()
    {
        const string queuedBriefing = "Meet at the back of the chapel, not the front";
        const string queuedReferral = "Their agent Pruitt phoned our secretary at home";
        const string queuedPlan = "Chain the loading-bay gates at 06:15";
        const string queuedReportBack = "We spoke to the night porter, Desmond";
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        await UnlockAsync(a, create: true);
        await UnlockAsync(b, create: true);
        var fightId = await FightWithSecretsAsync(a, b);
        await ParticipantsOnlyAsync(a, b, fightId);
        var callOut = await CallOutSteps.PublishAsync(a, null, b);
        await CallOutSteps.ReachedAsync(b, callOut.Id, 1);

        // Beta is away: alpha's briefing for it waits in alpha's outbox.
        await b.StopAsync();
        await a.Delegate.PostBriefingAsync(new PostBriefingRequest { FightId = fightId, Text = queuedBriefing }, a.Auth);
        await Eventually.TrueAsync(() => a.Store.DeliveryStates().Single(d => d.PeerId == b.NodeId).Pending > 0, "the briefing to wait for beta");
        await a.StopAsync();
        Assert.False(Holds(Disk(a), queuedBriefing), "alpha's disk holds the briefing waiting for beta");

        // Alpha is away, and beta, restarted, is locked: its referral, its participants-only plan and
        // its unshared report-back wait for alpha, sealed with the public half alone.
        await b.StartAgainAsync();
        Assert.Equal(StorageState.Locked, b.Delegate.GetNodeInfo(new GetNodeInfoRequest(), b.Auth).Storage);
        await b.Delegate.FileReportAsync(new FileReportRequest { FightId = fightId, Kind = ReportKind.Referral, Summary = queuedReferral }, b.Auth);
        await b.Delegate.PlanActionAsync(new PlanActionRequest { FightId = fightId, Plan = SecretPlan(queuedPlan) }, b.Auth);
        await CallOutSteps.RespondAsync(b, callOut.Id, CallOutSteps.ReportBack(queuedReportBack));
        // A backup taken now, opened with its passphrase, yields none of it either: it is the folder as it rests.
        var restored = await BackedUpAndRestoredAsync(b);
        Assert.True(Holds(restored, callOut.Id), "the restored folder names the call-out, so the scan does find text where it is");
        foreach (var secret in new[] { queuedReferral, queuedPlan, queuedReportBack, Briefing, Plan, Referral })
        {
            Assert.False(Holds(restored, secret), $"beta's backup, opened, holds \"{secret}\"");
        }
        await b.StopAsync();
        var disk = Disk(b);
        Assert.True(Holds(disk, callOut.Id), "the outbox rows name their objects in clear, so the scan does find text where it is");
        foreach (var secret in new[] { queuedReferral, queuedPlan, queuedReportBack })
        {
            Assert.False(Holds(disk, secret), $"beta's disk holds \"{secret}\" while it waits for alpha");
        }

        // Both back, beta still locked: what it cannot open waits for the unlock, beside alpha's dead letters.
        await a.StartAgainAsync();
        await UnlockAsync(a);
        await b.StartAgainAsync();
        await Eventually.TrueAsync(() => b.Store.ListDeadLetters(a.NodeId).Count(d => d.WaitsFor == Federation.Core.Commands.StorageLock.WaitsForUnlock) == 3,
            "beta's three sealed submissions to wait for its unlock");
        Assert.Single(a.Store.ListReports(fightId));
        await b.StopAsync();
        Assert.False(Holds(Disk(b), queuedReferral), "beta's dead letters hold the referral in clear");
        await b.StartAgainAsync();

        // Unlocked, beta sends them; and alpha's briefing has reached beta.
        await UnlockAsync(b);
        await Eventually.TrueAsync(() => a.Store.ListReports(fightId).Count == 2, "beta's referral to reach alpha after beta's unlock");
        await Eventually.TrueAsync(() => Fight(a, fightId).Actions.Any(x => x.Plan.What == queuedPlan), "beta's plan to reach alpha after beta's unlock");
        await Eventually.TrueAsync(() => CallOutSteps.Get(a, callOut.Id).Responses.Single().Latest.Report == queuedReportBack, "beta's report-back to reach alpha");
        await Eventually.TrueAsync(() => BriefingsOf(b, fightId).Briefings.Any(x => x.Text == queuedBriefing), "alpha's briefing to reach beta");
        Assert.Empty(b.Store.ListDeadLetters(a.NodeId));
    }

    /// <summary>Every file of the node's folder as <c>solnet backup</c> and <c>solnet restore</c> give it back: the backup opened with its passphrase.</summary>
    private static async Task<byte[]> BackedUpAndRestoredAsync(TestNode n)
    {
        var work = Directory.CreateTempSubdirectory("sealed-backup-");
        try
        {
            var passphrase = Path.Combine(work.FullName, "backup-passphrase");
            await File.WriteAllTextAsync(passphrase, "tarpaulin lantern oboe meridian\n");
            var file = Path.Combine(work.FullName, "node.backup");
            var backup = await Solnet.RunAsync(n.DataDir, "backup", file, "--passphrase-file", passphrase);
            Assert.True(backup.ExitCode == 0, backup.Out + backup.Error);
            var folder = Path.Combine(work.FullName, "restored");
            var restore = await Solnet.RunAsync(folder, "restore", file, "--passphrase-file", passphrase);
            Assert.True(restore.ExitCode == 0, restore.Out + restore.Error);
            return Directory.GetFiles(folder, "*", SearchOption.AllDirectories).SelectMany(File.ReadAllBytes).ToArray();
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task WhatRestedInClearBeforeTheKeyWasSetIsSealedInPlaceAndTheDiskLetsGoOfIt()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        Assert.Equal(StorageState.NoKey, a.Delegate.GetNodeInfo(new GetNodeInfoRequest(), a.Auth).Storage);
        var fightId = await FightWithSecretsAsync(a, b);
        await ParticipantsOnlyAsync(a, b, fightId);
        // As a node from before the participants-only tier was sealed kept it: the log's full state in clear.
        var logId = Federation.Domain.Briefings.IdOf(fightId);
        var full = a.Get<Federation.Core.Sealing.SealedLogs>().Full(a.Store, logId)!;
        await a.Store.WriteAsync(tx =>
        {
            tx.PutObject(tx.GetObject(logId)! with { State = Google.Protobuf.MessageExtensions.ToByteArray(full) });
            return true;
        });
        await a.Store.CheckpointAsync();
        Assert.True(Holds(Disk(a), Worker), "without a key the details rest in clear (and the node says so)");
        Assert.True(Holds(Disk(a), Plan), "without a key the participants-only log rests in clear");

        var created = await UnlockAsync(a, create: true);
        // The details, the referral, the participants-only log's three events (opened, briefing,
        // plan) and its state.
        Assert.Equal((StorageState.Unlocked, 6u), (created.State, created.SealedNow));
        Assert.Equal(Worker, Details(a, fightId).AffectedPerson);
        Assert.Equal([Briefing], BriefingsOf(a, fightId).Briefings.Select(x => x.Text));
        Assert.Equal(Plan, Fight(a, fightId).Actions.Single().Plan.What);
        // Run again (as after a crash part-way), it finds nothing left in clear.
        Assert.Equal(0u, (await UnlockAsync(a)).SealedNow);
        // A second key is refused; the first stays.
        Assert.Equal(StatusCode.FailedPrecondition, (await Assert.ThrowsAsync<RpcException>(() => UnlockAsync(a, "another passphrase", create: true))).StatusCode);

        await a.StopAsync();
        var disk = Disk(a);
        Assert.False(Holds(disk, Worker), "the worker's name is still on alpha's disk after sealing in place");
        Assert.False(Holds(disk, Phone), "the phone number is still on alpha's disk after sealing in place");
        Assert.False(Holds(disk, Referral), "the referral is still on alpha's disk after sealing in place");
        Assert.False(Holds(disk, Briefing), "the briefing is still on alpha's disk after sealing in place");
        Assert.False(Holds(disk, Plan), "beta's plan is still on alpha's disk after sealing in place");
        Assert.False(Holds(disk, PlanPlace), "beta's plan's place is still on alpha's disk after sealing in place");

        // Beta, with no key yet, queues a referral for alpha, which is away: it waits in clear
        // until beta's key is set, which seals it in place; then it still reaches alpha.
        const string queued = "Their agent Pruitt phoned our secretary at home";
        await b.Delegate.FileReportAsync(new FileReportRequest { FightId = fightId, Kind = ReportKind.Referral, Summary = queued }, b.Auth);
        await b.Store.CheckpointAsync();
        Assert.True(Holds(Disk(b), queued), "without a key the queued referral rests in clear");
        Assert.True((await UnlockAsync(b, create: true)).SealedNow > 0);
        await b.StopAsync();
        Assert.False(Holds(Disk(b), queued), "the queued referral is still on beta's disk after sealing in place");
        await b.StartAgainAsync();
        await UnlockAsync(b);
        await a.StartAgainAsync();
        await Eventually.TrueAsync(() => a.Store.ListReports(fightId).Count == 2, "beta's queued referral to reach alpha");
    }

    [Fact]
    public async Task APassphraseFileUnlocksAtStartAndAChangedPassphraseOpensTheSameKey()
    {
        var secrets = Directory.CreateTempSubdirectory("solnet-creds-");
        var file = Path.Combine(secrets.FullName, "storage-passphrase");
        await File.WriteAllTextAsync(file, Passphrase + "\n");
        await using var a = await TestNode.StartAsync("alpha", o => o.StoragePassphraseFile = file);
        Assert.Equal(StorageState.Unlocked, a.Delegate.GetNodeInfo(new GetNodeInfoRequest(), a.Auth).Storage);
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var fightId = await FightWithSecretsAsync(a, b);

        var changed = await a.Delegate.UnlockStorageAsync(new UnlockStorageRequest { Passphrase = Passphrase, NewPassphrase = "a new and longer passphrase" }, a.Auth);
        Assert.Equal(StorageState.Unlocked, changed.State);
        await a.Delegate.LockStorageAsync(new LockStorageRequest(), a.Auth);
        Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() => UnlockAsync(a))).StatusCode);
        await UnlockAsync(a, "a new and longer passphrase");
        Assert.Equal(Worker, Details(a, fightId).AffectedPerson);
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<RpcException>(() =>
            a.Delegate.UnlockStorageAsync(new UnlockStorageRequest { Passphrase = "a new and longer passphrase", NewPassphrase = "short" }, a.Auth).ResponseAsync)).StatusCode);
    }

    [Fact]
    public async Task ACoreDumpOfTheNodeHoldsNoCopyOfTheStorageKeyUnlockedOrAfterThePanicLock()
    {
        Assert.True(File.Exists("/usr/bin/gcore"), "gcore (Debian package gdb) is needed to dump the node's memory");
        await using var node = new NodeProcess("alpha", new Dictionary<string, string>());
        await node.StartAgainAsync();
        await node.Delegate.UnlockStorageAsync(new UnlockStorageRequest { Passphrase = Passphrase, Create = true }, node.Auth);
        var (secret, publicKey) = Unwrap(node.DataDir, Passphrase);

        // Unlocked, the key is only in libsodium's guarded memory, which core dumps leave out: no copy elsewhere.
        await AssertDumpLacksAsync(node, secret, publicKey);
        await node.Delegate.LockStorageAsync(new LockStorageRequest(), node.Auth);
        await AssertDumpLacksAsync(node, secret, publicKey);
    }

    /// <summary>The recovery wrap (docs/adr/0026) is made and opened straight from and into guarded memory: no copy of the key is left behind either.</summary>
    [Fact]
    public async Task ACoreDumpHoldsNoCopyOfTheStorageKeyAfterItsRecoveryWrapIsMadeOrOpened()
    {
        Assert.True(File.Exists("/usr/bin/gcore"), "gcore (Debian package gdb) is needed to dump the node's memory");
        var folder = Directory.CreateTempSubdirectory("solnet-recovery-core-");
        try
        {
            var networkPassphrase = Path.Combine(folder.FullName, "network-passphrase");
            var newPassphrase = Path.Combine(folder.FullName, "new-passphrase");
            var networkKey = Path.Combine(folder.FullName, "network.key");
            await File.WriteAllTextAsync(networkPassphrase, "solidarity forever, the network key\n");
            await File.WriteAllTextAsync(newPassphrase, "a passphrase kept in two heads this time\n");
            await using var node = new NodeProcess("alpha", new Dictionary<string, string>());
            await node.StartAgainAsync();
            node.Kill();
            var init = await Solnet.RunAsync(node.DataDir, "network", "init", "--out", networkKey, "--passphrase-file", networkPassphrase);
            Assert.True(init.ExitCode == 0, init.Out + init.Error);
            await node.StartAgainAsync();
            Assert.True((await node.Delegate.UnlockStorageAsync(new UnlockStorageRequest { Passphrase = Passphrase, Create = true }, node.Auth)).Recoverable);
            var (secret, publicKey) = Unwrap(node.DataDir, Passphrase);
            await AssertDumpLacksAsync(node, secret, publicKey);

            await node.Delegate.LockStorageAsync(new LockStorageRequest(), node.Auth);
            var recovered = await Solnet.RunAsync(node.DataDir, "unlock", "--recover", "--network-key", networkKey,
                "--network-passphrase-file", networkPassphrase, "--new-passphrase-file", newPassphrase);
            Assert.True(recovered.ExitCode == 0, recovered.Out + recovered.Error);
            Assert.Equal(secret, Unwrap(node.DataDir, "a passphrase kept in two heads this time").Secret);
            await AssertDumpLacksAsync(node, secret, publicKey);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static async Task AssertDumpLacksAsync(NodeProcess node, byte[] secret, byte[] publicKey)
    {
        var dumps = Directory.CreateTempSubdirectory("solnet-core-");
        try
        {
            using (var gcore = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/usr/bin/gcore", ["-o", Path.Combine(dumps.FullName, "core"), node.ProcessId!.Value.ToString()])
                   { RedirectStandardOutput = true, RedirectStandardError = true })!)
            {
                await gcore.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromMinutes(3)).Token);
                Assert.True(gcore.ExitCode == 0, "gcore failed: " + await gcore.StandardError.ReadToEndAsync());
            }
            var core = await File.ReadAllBytesAsync(Directory.GetFiles(dumps.FullName).Single());
            // The scan finds what is there: the public half lives in the managed heap.
            Assert.True(core.AsSpan().IndexOf(publicKey) >= 0, "the dump should hold the public key; the scan would prove little");
            Assert.True(core.AsSpan().IndexOf(secret) < 0, "the node's memory holds a copy of the storage key's private half outside guarded memory");
        }
        finally
        {
            dumps.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The private half, unwrapped from storage.key with the passphrase as someone holding both
    /// would, by the format docs/adr/0021 gives: magic, version, Argon2id memory and passes, salt,
    /// nonce, then XChaCha20-Poly1305 over the key, with the header and the public key as associated data.
    /// </summary>
    private static (byte[] Secret, byte[] PublicKey) Unwrap(string dataDir, string passphrase)
    {
        var wrapped = File.ReadAllBytes(Path.Combine(dataDir, "storage.key"));
        var publicKey = Convert.FromBase64String(File.ReadAllText(Path.Combine(dataDir, "storage.pub")).Trim());
        var parameters = new NSec.Cryptography.Argon2Parameters
        {
            MemorySize = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(wrapped.AsSpan(10)),
            NumberOfPasses = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(wrapped.AsSpan(14)),
            DegreeOfParallelism = 1,
        };
        var cipher = NSec.Cryptography.AeadAlgorithm.XChaCha20Poly1305;
        using var key = NSec.Cryptography.PasswordBasedKeyDerivationAlgorithm.Argon2id(parameters).DeriveKey(passphrase, wrapped.AsSpan(18, 16), cipher);
        var secret = cipher.Decrypt(key, wrapped.AsSpan(34, 24), [.. wrapped.AsSpan(0, 34), .. publicKey], wrapped.AsSpan(58));
        Assert.NotNull(secret);
        return (secret, publicKey);
    }
}
