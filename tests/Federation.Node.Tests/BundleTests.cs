using System.Text;
using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Identity;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Federation.Node.Tests;

/// <summary>
/// When the network is cut (issue 18): a signed bundle carried from alpha to gamma, which
/// share no path, brings gamma up to date through the checks a delivery gets, and the
/// acknowledgement carried back moves alpha's cursor. Changed, cut short, expired or
/// misaddressed bundles are refused with their reason.
/// </summary>
public sealed class BundleTests
{
    /// <summary>Alpha and gamma peered, then cut both ways, with two call-outs (three events) queued at alpha for gamma.</summary>
    private static async Task<(TestNode A, TestNode C)> CutApartAsync()
    {
        // No periodic catch-up: only the bundle can bring alpha's events to gamma.
        var a = await TestNode.StartAsync("alpha", o => o.CatchUpInterval = TimeSpan.Zero);
        var c = await TestNode.StartAsync("gamma", o => o.CatchUpInterval = TimeSpan.Zero);
        await TestNode.PeerAsync(a, c);
        await CutApartAsync(a, c);
        var first = await a.PublishAsync(c);
        await a.PublishAsync(c);
        await a.CloseAsync(first.Id);
        Assert.Equal(3, Ledger.Pending(a.Store.Path, c.NodeId));
        return (a, c);
    }

    private static async Task<byte[]> ExportAsync(TestNode from, TestNode to) =>
        (await from.Delegate.ExportBundleAsync(new ExportBundleRequest { Peer = to.Identity.Fingerprint }, from.Auth)).Bundle.ToByteArray();

    private static Task<ImportedBundle> ImportAsync(TestNode at, byte[] bundle) =>
        at.Delegate.ImportBundleAsync(new ImportBundleRequest { Bundle = ByteString.CopyFrom(bundle) }, at.Auth).ResponseAsync;

    [Fact]
    public async Task ABundleCarriedAcrossACutBringsThePeerUpToDateAndItsAcknowledgementMovesTheSendersCursor()
    {
        var (a, c) = await CutApartAsync();
        await using var _a = a;
        await using var _c = c;

        var exported = await a.Delegate.ExportBundleAsync(new ExportBundleRequest { Peer = c.Identity.Fingerprint }, a.Auth);
        Assert.Equal((3u, 2u, false), (exported.Items, exported.Objects, exported.Incomplete));

        var imported = await ImportAsync(c, exported.Bundle.ToByteArray());
        Assert.Equal((3u, 0u, 0u, 0), (imported.Applied, imported.Duplicates, imported.Held, imported.Refused.Count));
        Assert.Equal(a.NodeId, imported.CarrierNode);
        var audit = Ledger.Compare(a, c);
        Assert.True(audit is { Clean: true, Expected: 3 }, audit.ToString());

        // The same file again changes nothing.
        var again = await ImportAsync(c, exported.Bundle.ToByteArray());
        Assert.Equal((0u, 3u, 0), (again.Applied, again.Duplicates, again.Refused.Count));
        Assert.True(Ledger.Compare(a, c) is { Clean: true, Expected: 3 });

        // Alpha's queue to gamma still holds the three until the acknowledgement comes back.
        Assert.Equal(3, Ledger.Pending(a.Store.Path, c.NodeId));
        var acknowledged = await ImportAsync(a, imported.Acknowledgement.ToByteArray());
        Assert.Equal((3u, 0u), (acknowledged.CursorMovedPast, acknowledged.Applied));
        Assert.True(acknowledged.Acknowledgement.IsEmpty, "an acknowledgement is not acknowledged");
        Assert.Equal(0, Ledger.Pending(a.Store.Path, c.NodeId));

        // An acknowledgement carried twice moves nothing; nor does it move gamma's own queues.
        Assert.Equal(0u, (await ImportAsync(a, again.Acknowledgement.ToByteArray())).CursorMovedPast);
        var notForGamma = await Assert.ThrowsAsync<RpcException>(() => ImportAsync(c, imported.Acknowledgement.ToByteArray()));
        Status.Is(StatusCode.FailedPrecondition, notForGamma);

        // Nothing more is owed: the next bundle is empty.
        Assert.Equal(0u, (await a.Delegate.ExportBundleAsync(new ExportBundleRequest { Peer = c.Identity.Fingerprint }, a.Auth)).Items);

        // The operator sees who made a bundle and who imported one.
        var actions = (await a.Delegate.ListAuditAsync(new ListAuditRequest(), a.Auth)).Entries.Select(e => e.Action).ToList();
        Assert.Contains("ExportBundle", actions);
        Assert.Contains("ImportBundle", actions);
    }

    [Fact]
    public async Task ALaterBundleImportedFirstIsHeldAndTheEarlierOneFillsTheGapWithNothingAppliedTwice()
    {
        await using var a = await TestNode.StartAsync("alpha", o => o.CatchUpInterval = TimeSpan.Zero);
        await using var c = await TestNode.StartAsync("gamma", o => o.CatchUpInterval = TimeSpan.Zero);
        await TestNode.PeerAsync(a, c);
        await CutApartAsync(a, c);
        var callOut = await a.PublishAsync(c);
        var between = DateTimeOffset.UtcNow;
        await Task.Delay(50); // the close is dated after `between`, the publication before it
        await a.CloseAsync(callOut.Id);

        var later = await a.Delegate.ExportBundleAsync(new ExportBundleRequest
        {
            Peer = c.Identity.Fingerprint,
            Since = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(between),
        }, a.Auth);
        Assert.Equal(1u, later.Items);
        var earlier = await ExportAsync(a, c);

        var first = await ImportAsync(c, later.Bundle.ToByteArray());
        Assert.Equal((0u, 1u, 0), (first.Applied, first.Held, first.Refused.Count));
        Assert.Null(c.Store.GetObject(callOut.Id));

        var second = await ImportAsync(c, earlier);
        Assert.Equal((2u, 1u, 0), (second.Applied, second.Duplicates, second.Refused.Count));
        var audit = Ledger.Compare(a, c);
        Assert.True(audit is { Clean: true, Expected: 2 }, audit.ToString());

        // The first acknowledgement holds nothing in order; the second settles both items.
        Assert.Equal(0u, (await ImportAsync(a, first.Acknowledgement.ToByteArray())).CursorMovedPast);
        Assert.Equal(2, Ledger.Pending(a.Store.Path, c.NodeId));
        Assert.Equal(2u, (await ImportAsync(a, second.Acknowledgement.ToByteArray())).CursorMovedPast);
        Assert.Equal(0, Ledger.Pending(a.Store.Path, c.NodeId));
    }

    /// <remarks>
    /// With gamma sealing at rest, the report-back for the issuer only waits sealed in its queue
    /// (issue 24): the bundle leaves it out just the same, and the acknowledgement stops at it.
    /// </remarks>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task APledgeCarriedBackIsRecordedOnceByTheOriginAndAReportBackForTheIssuerOnlyStaysBehind(bool sealing)
    {
        var secrets = Directory.CreateTempSubdirectory("bundle-sealing-");
        var passphraseFile = Path.Combine(secrets.FullName, "storage-passphrase");
        await File.WriteAllTextAsync(passphraseFile, "a storage passphrase for the bundle test\n");
        await using var a = await TestNode.StartAsync("alpha", o => o.CatchUpInterval = TimeSpan.Zero);
        await using var c = await TestNode.StartAsync("gamma", o =>
        {
            o.CatchUpInterval = TimeSpan.Zero;
            o.StoragePassphraseFile = sealing ? passphraseFile : o.StoragePassphraseFile;
        });
        await TestNode.PeerAsync(a, c);
        await CutApartAsync(a, c);
        var callOut = await a.PublishAsync(c);
        Assert.Equal(1u, (await ImportAsync(c, await ExportAsync(a, c))).Applied);
        await CallOutSteps.RespondAsync(c, callOut.Id, CallOutSteps.Pledge());
        await CallOutSteps.RespondAsync(c, callOut.Id, CallOutSteps.ReportBack());
        Assert.Equal(2, Ledger.Pending(c.Store.Path, a.NodeId));

        var exported = await c.Delegate.ExportBundleAsync(new ExportBundleRequest { Peer = a.Identity.Fingerprint }, c.Auth);
        Assert.Equal((1u, 1u, 1u, true), (exported.Items, exported.Submissions, exported.LeftOutSubmissions, exported.Incomplete));

        var imported = await ImportAsync(a, exported.Bundle.ToByteArray());
        Assert.Equal((1u, 0), (imported.SubmissionsRecorded, imported.Refused.Count));
        Assert.Equal(2ul, a.Store.GetObject(callOut.Id)!.LastSequence);
        // Carried twice, recorded once.
        var again = await ImportAsync(a, exported.Bundle.ToByteArray());
        Assert.Equal((1u, 0), (again.SubmissionsRecorded, again.Refused.Count));
        Assert.Equal(2ul, a.Store.GetObject(callOut.Id)!.LastSequence);

        // Gamma's acknowledgement settles the pledge; the report-back waits for the road.
        Assert.Equal(1u, (await ImportAsync(c, imported.Acknowledgement.ToByteArray())).CursorMovedPast);
        Assert.Equal(1, Ledger.Pending(c.Store.Path, a.NodeId));

        // Alpha's next bundle brings gamma the pledge as alpha recorded it.
        Assert.Equal(1u, (await ImportAsync(c, await ExportAsync(a, c))).Applied);
        Assert.Equal(2ul, c.Store.GetObject(callOut.Id)!.LastSequence);
    }

    [Fact]
    public async Task ABundleSignedByANodeKeyRevokedBeforeItWasMadeIsRefusedWholeAndTheRotatedKeysBundleCarriesTheRevocation()
    {
        var folder = Directory.CreateTempSubdirectory("bundle-network-key-").FullName;
        try
        {
            var keyFile = Path.Combine(folder, "network.key");
            var passFile = Path.Combine(folder, "passphrase");
            File.WriteAllText(passFile, "solidarity forever, the network key\n");
            await using var a = await TestNode.StartAsync("alpha", o => o.CatchUpInterval = TimeSpan.Zero);
            await using var c = await TestNode.StartAsync("gamma", o => o.CatchUpInterval = TimeSpan.Zero);
            await TestNode.PeerAsync(a, c);
            await a.StopAsync();
            var init = await Solnet.RunAsync(a.DataDir, "network", "init", "--out", keyFile, "--passphrase-file", passFile);
            Assert.True(init.ExitCode == 0, init.Out + init.Error);
            await a.StartAgainAsync();
            await a.CutAsync(c);
            await c.CutAsync(a);
            var first = a.Identity.Current.KeyId;
            var compromisedSince = DateTimeOffset.UtcNow;
            await Task.Delay(50);
            var callOut = await a.PublishAsync(c);
            var stolen = await ExportAsync(a, c);

            // The key in use was taken: the operator rotates and revokes it from before the bundle was made.
            var rotate = await Solnet.RunAsync(a.DataDir, "key", "rotate", "--network-key", keyFile, "--passphrase-file", passFile);
            Assert.True(rotate.ExitCode == 0, rotate.Out + rotate.Error);
            var revoke = await Solnet.RunAsync(a.DataDir, "key", "revoke", first, "--compromised-since", compromisedSince.ToString("O"),
                "--network-key", keyFile, "--passphrase-file", passFile);
            Assert.True(revoke.ExitCode == 0, revoke.Out + revoke.Error);
            // The road is cut, so no Hello tells gamma: alpha's next bundle does. Alpha signed its
            // own event again with the new key, and the bundle carries that and the revocation.
            Assert.Null(c.Get<PeerKeys>().RevokedSince(a.NodeId, first));
            var imported = await ImportAsync(c, await ExportAsync(a, c));
            Assert.Equal((1u, 0), (imported.Applied, imported.Refused.Count));
            Assert.Equal(compromisedSince, c.Get<PeerKeys>().RevokedSince(a.NodeId, first));
            Assert.True(Ledger.Compare(a, c) is { Clean: true, Expected: 1 });

            // The bundle the taken key signed is refused whole from then on.
            var ex = await Assert.ThrowsAsync<RpcException>(() => ImportAsync(c, stolen));
            Status.Is(StatusCode.InvalidArgument, ex);
            Assert.Contains("revoked as compromised", ex.Status.Detail);
            Assert.True(Ledger.Compare(a, c) is { Clean: true, Expected: 1 });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task ABundleReplayedAfterItsCallOutWasPurgedBringsNothingBack()
    {
        var (a, c) = await CutApartAsync();
        await using var _a = a;
        await using var _c = c;
        var bundle = await ExportAsync(a, c);
        Assert.Equal(3u, (await ImportAsync(c, bundle)).Applied);
        var closed = SignedBundle.Parser.ParseFrom(bundle).Items
            .Select(i => BundleItem.Parser.ParseFrom(i).Envelope).Single(e => e.Sequence == 2).ObjectId;

        // Gamma deletes the closed call-out's content, as its purge clock would.
        Assert.True(await c.Get<Federation.Core.Commands.Confidential>().PurgeCallOutAsync(closed, CancellationToken.None));
        Assert.Empty(c.Store.LoadEvents(closed, 0, 10));

        var replayed = await ImportAsync(c, bundle);
        Assert.Equal((0u, 3u, 0), (replayed.Applied, replayed.Duplicates, replayed.Refused.Count));
        Assert.Empty(c.Store.LoadEvents(closed, 0, 10));
        Assert.True(CallOutState.Parser.ParseFrom(c.Store.GetObject(closed)!.State).Purged);
    }

    [Fact]
    public async Task AnItemChangedOnTheWayIsRefusedByNameAndTheRestIsApplied()
    {
        var (a, c) = await CutApartAsync();
        await using var _a = a;
        await using var _c = c;
        var bundle = SignedBundle.Parser.ParseFrom(await ExportAsync(a, c));
        var header = BundleHeader.Parser.ParseFrom(bundle.Header);
        // The second call-out's only event: nothing else depends on it.
        var second = header.Ranges.Single(r => r.LastSequence == 1).ObjectId;
        var index = bundle.Items.Select((item, i) => (BundleItem.Parser.ParseFrom(item).Envelope.ObjectId, i)).Single(x => x.ObjectId == second).i;
        var changed = bundle.Items[index].ToByteArray();
        changed[^5] ^= 0x01;
        bundle.Items[index] = ByteString.CopyFrom(changed);

        var imported = await ImportAsync(c, bundle.ToByteArray());

        var refused = Assert.Single(imported.Refused);
        Assert.Equal((uint)index, refused.Index);
        Assert.Contains("changed on the way", refused.Reason);
        Assert.Equal(2u, imported.Applied);
        Assert.Null(c.Store.GetObject(second));
        Assert.Equal(1, Ledger.Compare(a, c).Lost);
    }

    [Fact]
    public async Task ABundleChangedInItsHeaderCutShortExpiredOrMadeForAnotherNodeIsRefusedWholeWithItsReason()
    {
        var (a, c) = await CutApartAsync();
        await using var _a = a;
        await using var _c = c;
        await using var b = await TestNode.StartAsync("beta", o => o.CatchUpInterval = TimeSpan.Zero);
        await TestNode.PeerAsync(a, b);
        var good = await ExportAsync(a, c);

        async Task Refused(byte[] bundle, StatusCode code, string reason)
        {
            var ex = await Assert.ThrowsAsync<RpcException>(() => ImportAsync(c, bundle));
            Status.Is(code, ex);
            Assert.Contains(reason, ex.Status.Detail);
            Assert.Equal(0, Ledger.EventCount(c.Store.Path));
        }

        // One character of the bundle id changed: the header still reads, and its signature fails.
        var signed = SignedBundle.Parser.ParseFrom(good);
        var header = signed.Header.ToByteArray();
        var id = Encoding.ASCII.GetBytes(BundleHeader.Parser.ParseFrom(header).BundleId);
        var at = header.AsSpan().IndexOf(id);
        header[at] = (byte)(header[at] == (byte)'a' ? 'b' : 'a');
        signed.Header = ByteString.CopyFrom(header);
        await Refused(signed.ToByteArray(), StatusCode.InvalidArgument, "its header does not verify");

        // Cut short: in the middle of an item, and exactly after one (an item missing).
        await Refused(good[..^7], StatusCode.InvalidArgument, "truncated");
        var shorter = SignedBundle.Parser.ParseFrom(good);
        shorter.Items.RemoveAt(shorter.Items.Count - 1);
        await Refused(shorter.ToByteArray(), StatusCode.InvalidArgument, "it is truncated");
        var longer = SignedBundle.Parser.ParseFrom(good);
        longer.Items.Add(longer.Items[0]);
        await Refused(longer.ToByteArray(), StatusCode.InvalidArgument, "items were added on the way");

        // Made for beta, carried to gamma.
        await Refused(await ExportAsync(a, b), StatusCode.FailedPrecondition, $"it is for network {b.Identity.Fingerprint}");

        // Not a bundle at all.
        await Refused(Encoding.UTF8.GetBytes("hello"), StatusCode.InvalidArgument, "not a bundle");

        // From a peer gamma has suspended: not taken, whatever it holds.
        await c.Delegate.SetPeerStateAsync(new SetPeerStateRequest { Network = a.Identity.Fingerprint, State = "suspended" }, c.Auth);
        await Refused(good, StatusCode.FailedPrecondition, "which is not a peer of this node (or is suspended or revoked)");
        await c.Delegate.SetPeerStateAsync(new SetPeerStateRequest { Network = a.Identity.Fingerprint, State = "active" }, c.Auth);

        // Expired: gamma's clock moves past the bundle's 14 days.
        c.Services.GetRequiredService<IOptions<NodeOptions>>().Value.ClockOffset = TimeSpan.FromDays(15);
        await Refused(good, StatusCode.FailedPrecondition, "it expired at");
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // the file's Unix mode
    public async Task SolnetCarriesABundleAndItsAcknowledgementAsFilesReadableOnlyByTheirOwner()
    {
        var (a, c) = await CutApartAsync();
        await using var _a = a;
        await using var _c = c;
        var folder = Directory.CreateTempSubdirectory("solnet-bundle-");
        try
        {
            var usage = await Solnet.RunAsync(a.DataDir, "bundle", "export", "--out", Path.Combine(folder.FullName, "x"));
            Assert.Equal(2, usage.ExitCode);
            Assert.Contains("Give --for PEER for one peer, or --all for every peer.", usage.Error);

            // --all: one file per peer that is owed something.
            var everyPeer = Path.Combine(folder.FullName, "all");
            var all = await Solnet.RunAsync(a.DataDir, "bundle", "export", "--all", "--out", everyPeer);
            Assert.True(all.ExitCode == 0, all.Error);
            Assert.Single(Directory.GetFiles(everyPeer, "gamma-*.bundle"));

            var file = Path.Combine(folder.FullName, "for-gamma.bundle");
            var export = await Solnet.RunAsync(a.DataDir, "bundle", "export", "--for", c.Identity.Fingerprint, "--out", file);
            Assert.True(export.ExitCode == 0, export.Error);
            Assert.Contains("3 events of 2 objects", export.Out);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));

            var ack = Path.Combine(folder.FullName, "back-to-alpha.ack");
            var import = await Solnet.RunAsync(c.DataDir, "bundle", "import", file, "--ack-out", ack);
            Assert.True(import.ExitCode == 0, import.Error);
            Assert.Contains("3 applied, 0 already held", import.Out);
            Assert.True(Ledger.Compare(a, c) is { Clean: true, Expected: 3 });

            var settled = await Solnet.RunAsync(a.DataDir, "--json", "bundle", "import", ack);
            Assert.True(settled.ExitCode == 0, settled.Error);
            Assert.Contains("\"cursorMovedPast\": 3", settled.Out);
            Assert.Equal(0, Ledger.Pending(a.Store.Path, c.NodeId));

            // A refusal exits with 3 and says why.
            var wrongNode = await Solnet.RunAsync(a.DataDir, "bundle", "import", file);
            Assert.Equal(3, wrongNode.ExitCode);
            Assert.Contains("not a peer of this node", wrongNode.Error);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Alpha and gamma cut apart with <paramref name="count"/> events of one call-out queued at
    /// alpha for gamma (published, then updated): more than one small part holds them, so a
    /// part imported early lies ahead of a gap in that call-out's log.
    /// </summary>
    /// <summary>
    /// Sealed to the recipient's sealing key (issue 18 #1), a bundle carries what a plain one
    /// leaves out: participants-only items. Whoever carries the file cannot read them, no other
    /// node can open it, and the recipient applies them through a delivery's checks.
    /// </summary>
    [Fact]
    public async Task ASealedBundleCarriesParticipantsOnlyItemsThatOnlyItsRecipientCanOpen()
    {
        const string briefing = "The tenants meet in the back room of the Crown on Friday";
        await using var a = await TestNode.StartAsync("alpha", o => o.CatchUpInterval = TimeSpan.Zero);
        await using var c = await TestNode.StartAsync("gamma", o => o.CatchUpInterval = TimeSpan.Zero);
        await using var b = await TestNode.StartAsync("beta", o => o.CatchUpInterval = TimeSpan.Zero);
        await TestNode.PeerAsync(a, b, c);
        var fightId = await JointFightTests.OpenWithAsync(a, c);
        await a.CutAsync(c);
        await c.CutAsync(a);
        await a.Delegate.PostBriefingAsync(new PostBriefingRequest { FightId = fightId, Text = briefing }, a.Auth);

        // A plain bundle leaves the briefing for the direct road; a sealed one carries it, unreadable.
        var plain = await a.Delegate.ExportBundleAsync(new ExportBundleRequest { Peer = c.Identity.Fingerprint }, a.Auth);
        Assert.True(plain.LeftOutParticipantsOnly > 0);
        var exported = await a.Delegate.ExportBundleAsync(new ExportBundleRequest { Peer = c.Identity.Fingerprint, SealedToRecipient = true }, a.Auth);
        Assert.True(exported.SealedToRecipient);
        Assert.Equal(0u, exported.LeftOutParticipantsOnly);
        var file = exported.Bundle.ToByteArray();
        Assert.Equal(-1, file.AsSpan().IndexOf(Encoding.UTF8.GetBytes(briefing)));
        Assert.Equal(-1, file.AsSpan().IndexOf(Encoding.UTF8.GetBytes(fightId)));

        // Beta, a peer of alpha's but not the recipient, cannot open it; a file cut short is refused.
        var notFor = await Assert.ThrowsAsync<RpcException>(() => ImportAsync(b, file));
        Assert.Equal(StatusCode.FailedPrecondition, notFor.StatusCode);
        Assert.Contains("not this one", notFor.Status.Detail);
        var cut = await Assert.ThrowsAsync<RpcException>(() => ImportAsync(c, file[..^40]));
        Assert.Equal(StatusCode.InvalidArgument, cut.StatusCode);
        Assert.Empty(c.Delegate.GetBriefings(new GetObjectRequest { Id = fightId }, c.Auth).Briefings);

        // Gamma opens it and takes the briefing; a second import changes nothing; the
        // acknowledgement carried back settles alpha's queue for gamma.
        var imported = await ImportAsync(c, file);
        Assert.Empty(imported.Refused);
        Assert.True(imported.Applied > 0);
        Assert.Contains(c.Delegate.GetBriefings(new GetObjectRequest { Id = fightId }, c.Auth).Briefings, x => x.Text == briefing);
        Assert.Equal(0u, (await ImportAsync(c, file)).Applied);
        var settled = await ImportAsync(a, imported.Acknowledgement.ToByteArray());
        Assert.True(settled.CursorMovedPast > 0);
        Assert.Equal(0, Ledger.Pending(a.Store.Path, c.NodeId));
    }

    private static async Task<(TestNode A, TestNode C)> CutApartWithManyAsync(int count)
    {
        var a = await TestNode.StartAsync("alpha", o => o.CatchUpInterval = TimeSpan.Zero);
        var c = await TestNode.StartAsync("gamma", o => o.CatchUpInterval = TimeSpan.Zero);
        await TestNode.PeerAsync(a, c);
        await CutApartAsync(a, c);
        var published = await a.PublishAsync(c);
        for (var i = 1; i < count; i++)
        {
            var content = published.Content.Clone();
            content.TalkingPoints = $"Ask customers to phone head office ({i}).";
            await a.Delegate.UpdateCallOutAsync(new UpdateCallOutRequest { CallOutId = published.Id, Content = content }, a.Auth);
        }
        Assert.Equal(count, Ledger.Pending(a.Store.Path, c.NodeId));
        return (a, c);
    }

    /// <summary>
    /// Issue 18 #1 and #3: a large bundle is written as parts that each fit an attachment,
    /// each a whole signed bundle naming its place in the set; imported last part first,
    /// what comes ahead of a gap is held and applied once the gap is filled; a part imported
    /// again changes nothing; progress is shown part by part; the acknowledgements carried
    /// back settle alpha's whole queue.
    /// </summary>
    [Fact]
    public async Task ALargeBundleSplitIntoPartsIsImportedInAnyOrderAndAPartImportedTwiceChangesNothing()
    {
        const int events = 24;
        var (a, c) = await CutApartWithManyAsync(events);
        await using var _a = a;
        await using var _c = c;
        var folder = Directory.CreateTempSubdirectory("solnet-bundle-parts-");
        try
        {
            var tooSmall = await Solnet.RunAsync(a.DataDir, "bundle", "export", "--for", "gamma", "--out", Path.Combine(folder.FullName, "x.bundle"), "--part-size", "1K");
            Assert.Equal(3, tooSmall.ExitCode);
            Assert.Contains("A part may hold from 4,096 to 3,145,728 bytes of items", tooSmall.Error);

            var export = await Solnet.RunAsync(a.DataDir, "bundle", "export", "--for", "gamma", "--out", Path.Combine(folder.FullName, "gamma.bundle"), "--part-size", "4K");
            Assert.True(export.ExitCode == 0, export.Error);
            var parts = Directory.GetFiles(folder.FullName, "gamma.part-*.bundle").OrderBy(f => f, StringComparer.Ordinal).ToList();
            Assert.True(parts.Count >= 3, $"{events} events in parts of 4 KiB: {parts.Count} parts\n{export.Out}");
            var headers = parts.Select(f => BundleHeader.Parser.ParseFrom(SignedBundle.Parser.ParseFrom(File.ReadAllBytes(f)).Header)).ToList();
            Assert.Single(headers.Select(h => h.SetId).Distinct());
            Assert.Equal(Enumerable.Range(1, parts.Count).Select(k => (uint)k), headers.Select(h => h.Part).Order());
            Assert.All(headers, h => Assert.Equal((uint)parts.Count, h.Parts));
            Assert.Equal(events, headers.Sum(h => h.ItemSha256.Count));
            Assert.All(parts, f => Assert.True(SignedBundle.Parser.ParseFrom(File.ReadAllBytes(f)).Items.Sum(i => i.Length) <= 4096, $"{f} holds more than 4 KiB of items"));
            Assert.Equal(parts.Count, export.Error.Split('\n').Count(l => l.StartsWith("part ", StringComparison.Ordinal) && l.Contains($" of {parts.Count}: ")));
            Assert.Contains($"(part 1 of {parts.Count})", export.Out);

            // The last part alone: its events wait behind the gap, and solnet says what is missing.
            var byPart = parts.OrderBy(f => BundleHeader.Parser.ParseFrom(SignedBundle.Parser.ParseFrom(File.ReadAllBytes(f)).Header).Part).ToList();
            var last = await Solnet.RunAsync(c.DataDir, "--json", "bundle", "import", byPart[^1]);
            Assert.True(last.ExitCode == 0, last.Error);
            Assert.Contains("\"held\"", last.Out);
            Assert.Equal(0, Ledger.EventCount(c.Store.Path));

            // Then the rest, last first, and one of them twice: everything applied once.
            string[] rest = [.. byPart.Take(byPart.Count - 1).Reverse(), byPart[0]];
            var import = await Solnet.RunAsync(c.DataDir, ["bundle", "import", .. rest]);
            Assert.True(import.ExitCode == 0, import.Error);
            Assert.Contains($"part 1 of {parts.Count}: 0 items applied", import.Error);
            var audit = Ledger.Compare(a, c);
            Assert.True(audit is { Clean: true, Expected: events }, audit.ToString());

            // A part imported once more changes nothing.
            var again = await c.Delegate.ImportBundleAsync(new ImportBundleRequest { Bundle = ByteString.CopyFrom(File.ReadAllBytes(byPart[1])) }, c.Auth);
            Assert.Equal((0u, 0), (again.Applied, again.Refused.Count));
            Assert.True(again.Duplicates > 0);
            Assert.True(Ledger.Compare(a, c) is { Clean: true, Expected: events });

            // Every part's acknowledgement, carried back, settles alpha's queue.
            var acks = Directory.GetFiles(folder.FullName, "*.ack");
            Assert.Equal(parts.Count, acks.Length);
            var settled = await Solnet.RunAsync(a.DataDir, ["bundle", "import", .. acks]);
            Assert.True(settled.ExitCode == 0, settled.Error);
            Assert.Equal(0, Ledger.Pending(a.Store.Path, c.NodeId));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ATruncatedPartIsRefusedWithNothingAppliedFromItAndTheOtherPartsStillApply()
    {
        var (a, c) = await CutApartWithManyAsync(12);
        await using var _a = a;
        await using var _c = c;
        var parts = (await a.Delegate.ExportBundleParts(new ExportBundleRequest { Peer = "gamma", PartSize = 4096 }, a.Auth).ResponseStream
            .ReadAllAsync().ToListAsync()).OrderBy(p => p.Part).ToList();
        Assert.True(parts.Count >= 2, $"12 events in parts of 4 KiB: {parts.Count} parts");
        Assert.All(parts, p => Assert.Equal((uint)parts.Count, p.Parts));

        // The first part cut short on the way: refused whole, nothing of it applied.
        var whole = parts[0].Bundle.ToByteArray();
        var ex = await Assert.ThrowsAsync<RpcException>(() => ImportAsync(c, whole[..^40]));
        Status.Is(StatusCode.InvalidArgument, ex);
        Assert.Contains("truncated", ex.Status.Detail);
        Assert.Equal(0, Ledger.EventCount(c.Store.Path));

        // The others, then the first part whole: all of it, once.
        foreach (var part in parts.Skip(1))
        {
            var imported = await ImportAsync(c, part.Bundle.ToByteArray());
            Assert.Equal((part.Part, part.Parts, part.SetId), (imported.Part, imported.Parts, imported.SetId));
            Assert.Empty(imported.Refused);
        }
        Assert.Equal(0, Ledger.EventCount(c.Store.Path));
        await ImportAsync(c, whole);
        var audit = Ledger.Compare(a, c);
        Assert.True(audit is { Clean: true, Expected: 12 }, audit.ToString());
    }

    /// <summary>
    /// Cuts the two nodes apart once each has finished the catch-up from the other that
    /// mutual peering starts. Cut sooner, a catch-up already calling the old address could
    /// still fetch what the test then publishes to carry by hand, and the bundle's item
    /// would arrive as a duplicate.
    /// </summary>
    private static async Task CutApartAsync(TestNode a, TestNode c)
    {
        await Eventually.TrueAsync(() => a.PeerInfo(c.NodeId).CaughtUpAt is not null && c.PeerInfo(a.NodeId).CaughtUpAt is not null,
            "each node's first catch-up from the other");
        await a.CutAsync(c);
        await c.CutAsync(a);
    }
}
