using System.Text;
using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Identity;
using Federation.Core.Relay;
using Federation.Node.Delivery;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Data.Sqlite;

namespace Federation.Node.Tests;

/// <summary>
/// Relay through a mutual peer (issue 18 #2, docs/adr/0027): alpha and gamma are cut from
/// each other while both reach beta, which both named as an allowed relay. What each owes the
/// other goes through beta sealed, and beta can neither read nor change it; a relay refuses
/// what it may not carry.
/// </summary>
public sealed class RelayTests
{
    private const string Secret = "SECRET-TENANT-REPORT-7f3a";

    /// <summary>Alpha, beta and gamma all peered, relaying quickly; beta named as relay by <paramref name="allowing"/>.</summary>
    private static async Task<(TestNode A, TestNode B, TestNode C)> StartAsync(Action<NodeOptions>? relay = null, params Func<(TestNode A, TestNode B, TestNode C), TestNode>[] allowing)
    {
        void Options(NodeOptions o)
        {
            // No periodic catch-up: only delivery, direct or by relay, moves anything.
            o.CatchUpInterval = TimeSpan.Zero;
            o.Relay.After = TimeSpan.FromSeconds(1);
            o.Relay.Interval = TimeSpan.FromMilliseconds(300);
            relay?.Invoke(o);
        }
        var a = await TestNode.StartAsync("alpha", Options);
        var b = await TestNode.StartAsync("beta", Options);
        var c = await TestNode.StartAsync("gamma", Options);
        await TestNode.PeerAsync(a, b, c);
        foreach (var node in allowing.Select(f => f((a, b, c))))
        {
            await AllowAsync(node, b, a, b, c);
        }
        return (a, b, c);
    }

    /// <summary><paramref name="node"/> names <paramref name="relay"/> an allowed relay, and waits until every other node has heard so.</summary>
    private static async Task AllowAsync(TestNode node, TestNode relay, params TestNode[] all)
    {
        var info = await node.Delegate.SetPeerRelayAsync(new SetPeerRelayRequest { Network = relay.Identity.Fingerprint, Allowed = true }, node.Auth);
        Assert.True(info.RelayAllowed);
        foreach (var other in all.Where(n => n != node))
        {
            await Eventually.TrueAsync(() => other.Store.PeerRelayOfferOf(node.NodeId) is { SealingKey: not null } offer && offer.AllowedRelays.Contains(relay.NodeId),
                $"{other.Name} to hear that {node.Name} allows {relay.Name} to relay");
        }
    }

    [Fact]
    public async Task EventsAndSubmissionsCrossACutThroughAMutualRelayThatCannotReadThemAndNothingIsLostOrAppliedTwice()
    {
        var (a, b, c) = await StartAsync(null, n => n.A, n => n.C);
        await using var _a = a;
        await using var _b = b;
        await using var _c = c;
        await a.CutAsync(c);
        await c.CutAsync(a);

        // Alpha's events reach gamma through beta.
        var callOut = await CallOutSteps.PublishAsync(a, null, c);
        await CallOutSteps.ReachedAsync(c, callOut.Id, 1);
        Assert.Equal(b.NodeId, a.PeerInfo(c.NodeId).RelayedVia);

        // Gamma's report-back, for the issuer only, reaches alpha through beta; alpha's event
        // recording it comes back the same way.
        await CallOutSteps.RespondAsync(c, callOut.Id, CallOutSteps.ReportBack(Secret));
        await CallOutSteps.ReachedAsync(a, callOut.Id, 2);
        await CallOutSteps.ReachedAsync(c, callOut.Id, 2);
        Assert.Equal(b.NodeId, c.PeerInfo(a.NodeId).RelayedVia);

        // The receipts come back through beta and settle both queues, with the direct path still cut.
        await Eventually.TrueAsync(() => Ledger.Pending(a.Store.Path, c.NodeId) == 0 && Ledger.Pending(c.Store.Path, a.NodeId) == 0,
            "the receipts to settle both queues", seconds: 60);
        Assert.True(Ledger.Compare(a, c) is { Clean: true, Expected: 2 }, Ledger.Compare(a, c).ToString());

        // Beta carried it all and can read none of it: neither the report nor the call-out's
        // title is anywhere in its database, its log or what it logged.
        Assert.Null(b.Store.GetObject(callOut.Id));
        var title = Samples.CallOut().Title;
        foreach (var file in Directory.GetFiles(b.DataDir).Where(f => f.Contains(".db")))
        {
            var bytes = ReadShared(file);
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Secret)));
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(title)));
        }
        Assert.DoesNotContain(b.Logs.Lines, l => l.Contains(Secret) || l.Contains(title));

        // Healed: the direct road takes over, and still nothing is lost or applied twice. The
        // close may still go by relay while alpha's direct retry waits out its backoff; once its
        // receipt has settled the queue, the next item is tried directly first, and goes.
        await a.CutAsync(c, cut: false);
        await c.CutAsync(a, cut: false);
        await a.CloseAsync(callOut.Id);
        await CallOutSteps.ReachedAsync(c, callOut.Id, 3);
        await Eventually.TrueAsync(() => Ledger.Pending(a.Store.Path, c.NodeId) == 0, "the close to be acknowledged", seconds: 60);
        var next = await CallOutSteps.PublishAsync(a, null, c);
        await CallOutSteps.ReachedAsync(c, next.Id, 1);
        await Eventually.TrueAsync(() => a.PeerInfo(c.NodeId).RelayedVia.Length == 0, "alpha to show gamma reached directly again", seconds: 60);
        var audit = Ledger.Compare(a, c);
        Assert.True(audit is { Clean: true, Expected: 4 }, audit.ToString());
    }

    [Fact]
    public async Task AParticipantsOnlyBriefingAndAReferralCrossThroughTheRelayWhichHoldsNeither()
    {
        const string briefing = "The safe house is the flat above the launderette";
        const string referral = "The landlord's lawyer rang our treasurer at home";
        var (a, b, c) = await StartAsync(null, n => n.A, n => n.C);
        await using var _a = a;
        await using var _b = b;
        await using var _c = c;
        var fightId = await JointFightTests.OpenWithAsync(a, c);
        await a.CutAsync(c);
        await c.CutAsync(a);

        // Alpha's participants-only briefing reaches gamma, and gamma's referral (for the
        // initiator only) reaches alpha, both through beta, which is in neither's audience.
        await a.Delegate.PostBriefingAsync(new PostBriefingRequest { FightId = fightId, Text = briefing }, a.Auth);
        await Eventually.TrueAsync(() => c.Delegate.GetBriefings(new GetObjectRequest { Id = fightId }, c.Auth).Briefings.Any(x => x.Text == briefing),
            "the briefing to reach gamma through beta", seconds: 60);
        await c.Delegate.FileReportAsync(new FileReportRequest { FightId = fightId, Kind = ReportKind.Referral, Summary = referral }, c.Auth);
        await Eventually.TrueAsync(() => a.Store.ListReports(fightId).Count == 1, "the referral to reach alpha through beta", seconds: 60);
        Assert.Equal(b.NodeId, a.PeerInfo(c.NodeId).RelayedVia);

        Assert.Null(b.Store.GetObject(fightId));
        foreach (var file in Directory.GetFiles(b.DataDir).Where(f => f.Contains(".db")))
        {
            var bytes = ReadShared(file);
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(briefing)));
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(referral)));
        }
        Assert.DoesNotContain(b.Logs.Lines, l => l.Contains(briefing) || l.Contains(referral));
    }

    [Fact]
    public async Task ARelayRefusesARecipientThatDidNotNameItAnItemThatCameByRelayAndWhatPassesTheQuota()
    {
        // Beta keeps what it holds (it forwards nothing here), within room for one parcel.
        var (a, b, c) = await StartAsync(o =>
        {
            if (o.Name == "beta")
            {
                o.Relay.Interval = TimeSpan.Zero;
                o.Relay.QuotaPerSourceBytes = 6 * 1024;
            }
        }, n => n.A);
        await using var _a = a;
        await using var _b = b;
        await using var _c = c;

        RelayPutRequest Parcel(int size = 4 * 1024) => new()
        {
            Parcel = RelayFormat.Seal(a.NodeId, c.NodeId, b.NodeId, new byte[size], c.Get<SealingKey>().PublicKey, a.Identity.Current,
                DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1)),
        };
        Task<RelayPutResponse> PutAsync(TestNode from, RelayPutRequest request) =>
            b.Peer.RelayPutAsync(request, from.AsPeerOf(b, Methods.RelayPut, request)).ResponseAsync;

        // Gamma has not named beta: beta carries nothing for it.
        var first = Parcel();
        var notNamed = await Assert.ThrowsAsync<RpcException>(() => PutAsync(a, first));
        Status.Is(StatusCode.FailedPrecondition, notNamed);
        Assert.Contains("has not named this node an allowed relay", notNamed.Status.Detail);
        Assert.Equal(0, b.Store.Count("relay_parcels"));

        await AllowAsync(c, b, a, b, c);
        Assert.False((await PutAsync(a, first)).Duplicate);

        // Held durably: after a restart beta still holds it, and knows it when sent again.
        await b.StopAsync();
        await b.StartAgainAsync();
        Assert.Equal(1, b.Store.Count("relay_parcels"));
        Assert.True((await PutAsync(a, first)).Duplicate);

        // A parcel that came by relay is never relayed again: gamma cannot hand alpha's parcel on.
        var again = await Assert.ThrowsAsync<RpcException>(() => PutAsync(c, first));
        Status.Is(StatusCode.FailedPrecondition, again);
        Assert.Contains("never relayed again", again.Status.Detail);

        // Over the quota for alpha: refused with what to do, and nothing more is held.
        var over = await Assert.ThrowsAsync<RpcException>(() => PutAsync(a, Parcel()));
        Status.Is(StatusCode.ResourceExhausted, over);
        Assert.Contains("QuotaPerSourceBytes", over.Status.Detail);
        Assert.Equal(1, b.Store.Count("relay_parcels"));
    }

    [Fact]
    public async Task ARelayedParcelChangedOnTheWayIsRefusedByTheRecipientWithNothingApplied()
    {
        var (a, b, c) = await StartAsync(null, n => n.A, n => n.C);
        await using var _a = a;
        await using var _b = b;
        await using var _c = c;
        await a.CutAsync(c);
        var callOut = await CallOutSteps.PublishAsync(a, null, c);
        var bundle = a.Get<Bundles>().ForRelay(a.Store.GetPeer(c.NodeId)!, TimeSpan.FromDays(1))!.Value.Bundle.ToByteArray();
        var parcel = RelayFormat.Seal(a.NodeId, c.NodeId, b.NodeId, bundle, c.Get<SealingKey>().PublicKey, a.Identity.Current,
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));

        Task<RelayDeliverResponse> DeliverAsync(RelayParcel p)
        {
            var request = new RelayDeliverRequest { Parcel = p };
            return c.Peer.RelayDeliverAsync(request, b.AsPeerOf(c, Methods.RelayDeliver, request)).ResponseAsync;
        }

        // One byte of the sealed bundle changed: the hash the source signed no longer holds.
        var changed = parcel.Clone();
        var bytes = changed.Sealed.ToByteArray();
        bytes[bytes.Length / 2] ^= 1;
        changed.Sealed = ByteString.CopyFrom(bytes);
        Status.Is(StatusCode.InvalidArgument, await Assert.ThrowsAsync<RpcException>(() => DeliverAsync(changed)));

        // The header changed to name another relay: its signature no longer holds.
        var header = RelayParcelHeader.Parser.ParseFrom(parcel.Header);
        header.RelayNode = c.NodeId;
        var rerouted = parcel.Clone();
        rerouted.Header = header.ToByteString();
        Status.Is(StatusCode.FailedPrecondition, await Assert.ThrowsAsync<RpcException>(() => DeliverAsync(rerouted)));
        Assert.Null(c.Store.GetObject(callOut.Id));

        // The parcel as sealed applies, once; the same parcel again applies nothing more.
        var receipt = await DeliverAsync(parcel);
        Assert.False(receipt.Receipt.IsEmpty);
        Assert.Equal(1ul, c.Store.GetObject(callOut.Id)!.LastSequence);
        await DeliverAsync(parcel);
        Assert.True(Ledger.Compare(a, c) is { Clean: true, Expected: 1 });
    }

    /// <summary>A SQLite file as it is now, read while the node has it open.</summary>
    private static byte[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
