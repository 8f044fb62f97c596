using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Domain;
using Federation.Testing;
using Grpc.Core;

namespace Federation.Node.Tests;

/// <summary>
/// A federation of two releases: the latest release tag, built from a worktree, and this
/// build. They peer, run call-outs and joint fights each way, and the old node is then
/// upgraded in place (same data folder) and carries on with nothing lost or applied twice.
/// </summary>
public sealed class MixedVersionTests
{
    [Fact]
    public async Task TheLatestReleaseAndThisBuildFederateAndTheOldNodeUpgradesInPlace()
    {
        var previous = await PreviousRelease.BuildAsync();
        await using var old = new NodeProcess("alpha-old", []) { NodeDll = previous.NodeDll };
        await old.StartAgainAsync();
        // A network that peers with 0.1.0 is made with an ECDSA P-256 key, the one algorithm that release verifies (docs/adr/0029).
        await using var current = new NodeProcess("beta-new", new() { ["Node__NetworkKeyAlgorithm"] = "ecdsa-p256" });
        await current.StartAgainAsync();
        await NodeProcess.PeerAsync(old, current);

        // This build knows it talks to a release from before the exchange.
        await Eventually.TrueAsync(() => Peer(current, old).Protocol?.ProtocolVersion == Protocol.Unadvertised.ToString(),
            $"beta to record that {previous.Tag} speaks protocol 1.0");

        // A network this build makes unless told (Ed25519) cannot reach that release: adding
        // one says why, and what its operator must do (docs/adr/0029).
        await using (var ed = new NodeProcess("gamma-ed25519", []))
        {
            await ed.StartAgainAsync();
            var added = await Solnet.RunAsync(ed.DataDir, "peer", "add", old.Address, old.Fingerprint);
            Assert.True(added.ExitCode == 0, added.Out + added.Error);
            Assert.Contains("cannot verify Ed25519", added.Out);
            Assert.Contains("upgrades it to 0.2.0 or later", added.Out);
        }

        // Call-outs and pledges, each way.
        var fromOld = await Pledged(old, current, "2026-12-12");
        var fromCurrent = await Pledged(current, old, "2026-12-13");

        // A joint fight from each side, to a stand-down the participant acknowledges.
        var oldsFight = await FoughtAndWon(old, current);
        var currentsFight = await FoughtAndWon(current, old);

        // A report-back this build keeps from fellow recipients needs capability
        // responses.withheld, which the old release lacks (it would put the report in the
        // shared log): beta's report-back on alpha's call-out is not sent to fail; it waits,
        // counted on the peer and listed with the reason, until alpha has upgraded.
        const string Report = "We leafleted the depot at dawn.";
        var reportedOn = await old.PublishAsync(current);
        await Eventually.TrueAsync(() => Holds(current, reportedOn.Id), "the call-out to reach beta");
        await current.Delegate.RespondToCallOutAsync(new RespondToCallOutRequest
        {
            CallOutId = reportedOn.Id,
            Response = new CallOutResponse { Kind = ResponseKind.ReportBack, Report = Report, Turnout = 7 },
        }, current.Auth);
        await Eventually.TrueAsync(() => Peer(current, old).Waiting == 1, "beta's report-back to wait for alpha to upgrade");
        var waiting = current.Delegate.ListDeadLetters(new ListDeadLettersRequest { Peer = old.NodeId }, current.Auth).DeadLetters.Single();
        Assert.Equal(("WAITING_FOR " + Protocol.Capabilities.WithheldReportBacks, reportedOn.Id), (waiting.Status, waiting.ObjectId));
        Assert.Contains("upgrade", waiting.Error);
        Assert.Equal(0ul, Peer(current, old).DeadLetters);
        Assert.Empty(old.Delegate.GetCallOut(new GetObjectRequest { Id = reportedOn.Id }, old.Auth).Responses);

        // The old node is upgraded in place: stopped hard, started from this build on its data folder.
        old.Kill();
        old.NodeDll = Built.NodeDll;
        await old.StartAgainAsync();
        await Eventually.TrueAsync(() => Peer(current, old).Protocol?.SoftwareVersion == SoftwareVersion.Number,
            "beta to hear that alpha runs this release now");
        Assert.Equal(Protocol.Current.ToString(), Peer(current, old).Protocol.ProtocolVersion);
        Assert.Equal(SoftwareVersion.Number, Peer(old, current).Protocol?.SoftwareVersion);

        // What waited for it goes now: the issuer has the report, kept from the other recipients.
        await Eventually.TrueAsync(() => old.Delegate.GetCallOut(new GetObjectRequest { Id = reportedOn.Id }, old.Auth)
            .Responses.Any(r => r.Latest.Report == Report), "the waiting report-back to reach alpha once it has upgraded");
        Assert.Equal(0ul, Peer(current, old).Waiting);

        // It carries on: a new call-out reaches it, and everything from before is there, once.
        var afterUpgrade = await Pledged(current, old, "2026-12-14");
        foreach (var node in new[] { old, current })
        {
            // Each pledge comes back to the recipient's copy as the issuer's event, a moment later.
            await Eventually.TrueAsync(() => node.Delegate.ListCallOuts(new ListCallOutsRequest(), node.Auth).CallOuts.All(c => c.Responses.Count == 1),
                $"every pledge to be in {node.Name}'s copies");
            var callOuts = (await node.Delegate.ListCallOutsAsync(new ListCallOutsRequest(), node.Auth)).CallOuts;
            Assert.Equal(new[] { fromOld, fromCurrent, reportedOn.Id, afterUpgrade }.Order(), callOuts.Select(c => c.Id).Order());
            Assert.All(callOuts, c => Assert.Single(c.Responses));
            var fights = (await node.Delegate.ListFightsAsync(new ListFightsRequest(), node.Auth)).Fights;
            Assert.Equal(new[] { oldsFight, currentsFight }.Order(), fights.Select(f => f.Id).Order());
            Assert.All(fights, f => Assert.Equal(FightStatus.Won, f.Status));
        }
        Assert.All(new[] { old, current }, n => Assert.Equal((0ul, 0ul), (Peer(n, n == old ? current : old).DeadLetters, Peer(n, n == old ? current : old).Waiting)));
    }

    private static PeerInfo Peer(NodeProcess n, NodeProcess other) =>
        n.Delegate.ListPeers(new ListPeersRequest(), n.Auth).Peers.Single(p => p.NodeId == other.NodeId);

    /// <summary><paramref name="issuer"/> publishes a call-out to <paramref name="recipient"/>, which pledges; the issuer sees the pledge.</summary>
    private static async Task<string> Pledged(NodeProcess issuer, NodeProcess recipient, string date)
    {
        var published = await issuer.PublishAsync(recipient);
        await Eventually.TrueAsync(() => Holds(recipient, published.Id), $"the call-out to reach {recipient.Name}");
        await recipient.Delegate.RespondToCallOutAsync(new RespondToCallOutRequest
        {
            CallOutId = published.Id,
            Response = new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = date, Place = "outside the office" },
        }, recipient.Auth);
        await Eventually.TrueAsync(() => issuer.Delegate.GetCallOut(new GetObjectRequest { Id = published.Id }, issuer.Auth)
            .Responses.Any(r => r.Latest.PlannedDate == date), $"{recipient.Name}'s pledge to reach {issuer.Name}");
        return published.Id;
    }

    /// <summary>
    /// <paramref name="initiator"/> drafts, opens and invites; <paramref name="participant"/>
    /// accepts; the initiator declares it won; the participant acknowledges the stand-down.
    /// </summary>
    private static async Task<string> FoughtAndWon(NodeProcess initiator, NodeProcess participant)
    {
        var draft = await initiator.Delegate.DraftFightAsync(new DraftFightRequest
        {
            Title = $"{initiator.Name}'s deposits fight",
            Target = new Target { Name = "Acme Lettings" },
            Terms = Samples.Terms(),
        }, initiator.Auth);
        var id = draft.Id;
        await initiator.Delegate.OpenFightAsync(new GetObjectRequest { Id = id }, initiator.Auth);
        await initiator.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = id, Networks = { participant.NodeId } }, initiator.Auth);
        await Eventually.TrueAsync(() => Fight(participant, id) is not null, $"the invitation to reach {participant.Name}");
        await participant.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = id, TermsHash = Fight(participant, id)!.TermsHash }, participant.Auth);
        await Eventually.TrueAsync(() => Of(Fight(initiator, id)!, participant).State == ParticipantState.Committed,
            $"{participant.Name}'s acceptance to reach {initiator.Name}");
        await initiator.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = id, Status = FightStatus.Won, Note = "deposits returned" }, initiator.Auth);
        await Eventually.TrueAsync(() => Of(Fight(participant, id)!, participant).StandDownPending, $"the stand-down to reach {participant.Name}");
        await participant.Delegate.AcknowledgeStandDownAsync(new GetObjectRequest { Id = id }, participant.Auth);
        await Eventually.TrueAsync(() => !Of(Fight(initiator, id)!, participant).StandDownPending,
            $"{participant.Name}'s acknowledgement to reach {initiator.Name}");
        return id;
    }

    private static bool Holds(NodeProcess n, string callOutId)
    {
        try
        {
            n.Delegate.GetCallOut(new GetObjectRequest { Id = callOutId }, n.Auth);
            return true;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return false;
        }
    }

    private static FightState? Fight(NodeProcess n, string id)
    {
        try
        {
            return n.Delegate.GetFight(new GetObjectRequest { Id = id }, n.Auth);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    private static Participant Of(FightState f, NodeProcess n) => f.Participants.Single(p => p.Network == n.NodeId);
}
