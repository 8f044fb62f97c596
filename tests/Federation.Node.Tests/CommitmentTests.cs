using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Domain;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Federation.Node.Tests;

/// <summary>
/// Issue 16 #6: a network's commitment reaches third nodes with its own signature, so any
/// node can prove who committed to which terms, and not even the initiator can invent one.
/// </summary>
public sealed class CommitmentTests
{
    private static FightState Fight(TestNode n, string id) => n.Delegate.GetFight(new GetObjectRequest { Id = id }, n.Auth);

    private static IReadOnlyList<Commitment> Commitments(TestNode n, string id) =>
        n.Delegate.ListCommitments(new GetObjectRequest { Id = id }, n.Auth).Commitments;

    /// <summary>A fight at <paramref name="a"/> that <paramref name="b"/> and <paramref name="c"/> joined, with gamma's copy up to date.</summary>
    private static async Task<string> FightOfThreeAsync(TestNode a, TestNode b, TestNode c)
    {
        await TestNode.PeerAsync(a, b, c);
        var fightId = await JointFightTests.OpenWithAsync(a, b, c);
        await Eventually.TrueAsync(() => c.Store.GetObject(fightId)!.LastSequence == Fight(a, fightId).LastSequence, "gamma to be up to date");
        return fightId;
    }

    [Fact]
    public async Task AnAcceptanceAndAPledgeAreProvenAtAThirdNodeByTheCommittingNetworksOwnSignature()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        var fightId = await FightOfThreeAsync(a, b, c);

        // At gamma, which never received beta's submission, beta's acceptance carries beta's signature.
        var terms = Fight(a, fightId).TermsHash;
        var beta = Commitments(c, fightId).Single(x => x.Network == b.NodeId);
        Assert.Equal(("accepted the terms", terms, true, ""), (beta.What, beta.TermsHash, beta.Proven, beta.WhyUnproven));
        var signed = SignedSubmission.Parser.ParseFrom(beta.Submission);
        Assert.Equal(b.NodeId, signed.KeyId);
        Assert.True(PeerKeys.VerifyWith(b.Identity.PublicKey, SignedKind.Submission, signed.Payload.Span, signed.Signature.Span), "beta's signature checks against beta's own key");
        Assert.Equal(terms, SubmissionPayload.Parser.ParseFrom(signed.Payload).AcceptInvitation.TermsHash);

        // A pledge the same way; an unshared report-back is listed, its signed words kept at the issuer.
        var callOut = await CallOutSteps.PublishAsync(a, null, b, c);
        await CallOutSteps.ReachedAsync(b, callOut.Id, 1);
        await CallOutSteps.RespondAsync(b, callOut.Id, CallOutSteps.Pledge());
        await CallOutSteps.RespondAsync(b, callOut.Id, CallOutSteps.ReportBack());
        await CallOutSteps.ReachedAsync(c, callOut.Id, 3);
        var atGamma = Commitments(c, callOut.Id);
        Assert.Equal(["pledged", "reported back"], atGamma.Select(x => x.What));
        Assert.True(atGamma[0].Proven);
        Assert.False(atGamma[1].Proven);
        Assert.Contains("stay with the issuer", atGamma[1].WhyUnproven);
        Assert.True(atGamma[1].Submission.IsEmpty);
    }

    [Fact]
    public async Task AnInitiatorThatPutsWordsInANetworksMouthIsRefusedByEveryOtherNode()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        var fightId = await FightOfThreeAsync(a, b, c);
        var seq = Fight(c, fightId).LastSequence;
        var betaSigned = Commitments(a, fightId).Single(x => x.Network == b.NodeId).Submission;

        // alpha reuses beta's real, signed acceptance to claim beta reaffirmed other terms…
        var reworded = Forged(a, fightId, seq + 1, b.NodeId,
            new EventBody { TermsReaffirmed = new TermsReaffirmed { Network = b.NodeId, TermsHash = "a-hash-beta-never-saw" } }, betaSigned);
        var ex = await DeliverAsync(a, c, reworded);
        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Equal(Rules.SignedCommitment, ex.Trailers.GetValue("x-fed-rule"));
        Assert.Contains("does not record what the submission says", ex.Status.Detail);

        // …or alters the signed bytes themselves.
        var tampered = SignedSubmission.Parser.ParseFrom(betaSigned);
        var payload = SubmissionPayload.Parser.ParseFrom(tampered.Payload);
        payload.AcceptInvitation.TermsHash = "a-hash-beta-never-saw";
        tampered.Payload = payload.ToByteString();
        var altered = Forged(a, fightId, seq + 1, b.NodeId,
            new EventBody { InvitationAccepted = new InvitationAccepted { Network = b.NodeId, TermsHash = "a-hash-beta-never-saw" } }, tampered.ToByteString());
        ex = await DeliverAsync(a, c, altered);
        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Contains($"does not verify against the key of {b.Identity.Fingerprint}", ex.Status.Detail);

        // Nothing was taken.
        Assert.Equal(seq, Fight(c, fightId).LastSequence);
        Assert.All(Commitments(c, fightId), x => Assert.True(x.Proven));
    }

    private static Envelope Forged(TestNode origin, string objectId, ulong sequence, string actor, EventBody body, ByteString submission)
    {
        var payload = new EventPayload
        {
            EventId = Guid.NewGuid().ToString(),
            ObjectId = objectId,
            ObjectKind = ObjectKind.Fight,
            Sequence = sequence,
            OriginNode = origin.NodeId,
            ActorNode = actor,
            OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            Body = body,
            Submission = submission,
        };
        return Forge.SignBytes(origin.Identity, payload.ToByteString(), payload);
    }

    private static async Task<RpcException> DeliverAsync(TestNode from, TestNode to, Envelope envelope)
    {
        var request = new DeliverRequest { Envelopes = { envelope } };
        return await Assert.ThrowsAsync<RpcException>(() =>
            to.Peer.DeliverAsync(request, from.AsPeerOf(to, Federation.Node.Delivery.Methods.Deliver, request)).ResponseAsync);
    }
}
