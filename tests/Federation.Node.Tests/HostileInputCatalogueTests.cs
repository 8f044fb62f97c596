using Federation.Contracts;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Federation.Contracts.V1;
using Federation.Core.Log;
using Federation.Core.Storage;
using Federation.Domain;
using Federation.Node.Delivery;
using Federation.Node.Security;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Node.Tests;

/// <summary>
/// Five real nodes with some history, shared by the whole catalogue:
/// alpha originates a fight (beta and gamma committed, delta invited), an ended fight
/// (beta committed), an open call-out and a closed one (to beta and gamma). Gamma has
/// revoked delta. Epsilon, peered with alpha only, takes one call a second from a peer
/// or a token, for the rate-limit cases; gamma has never heard of it.
/// </summary>
public sealed class HostileInputFixture : IAsyncLifetime
{
    public TestNode Alpha { get; private set; } = null!;
    public TestNode Beta { get; private set; } = null!;
    public TestNode Gamma { get; private set; } = null!;
    public TestNode Delta { get; private set; } = null!;
    public TestNode Epsilon { get; private set; } = null!;
    public TestNode[] All => [Alpha, Beta, Gamma, Delta, Epsilon];

    public string FightId { get; private set; } = "";
    public string EndedFightId { get; private set; } = "";
    public string OpenCallOutId { get; private set; } = "";
    public string ClosedCallOutId { get; private set; } = "";

    /// <summary>A token with the delegate role on beta, and one on epsilon.</summary>
    public Metadata BetaDelegate { get; private set; } = null!;
    public Metadata EpsilonDelegate { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var started = await Task.WhenAll(
            TestNode.StartAsync("alpha"), TestNode.StartAsync("beta"), TestNode.StartAsync("gamma"), TestNode.StartAsync("delta"),
            TestNode.StartAsync("epsilon", o =>
            {
                o.PeerRequestsPerSecond = 1;
                o.DelegateRequestsPerSecond = 1;
                o.PeerVerificationsPerSecond = 2;
            }));
        (Alpha, Beta, Gamma, Delta, Epsilon) = (started[0], started[1], started[2], started[3], started[4]);
        await TestNode.PeerAsync(Alpha, Beta, Gamma);
        await TestNode.PeerAsync(Alpha, Delta);
        await TestNode.PeerAsync(Gamma, Delta);
        await TestNode.PeerAsync(Alpha, Epsilon);
        await Gamma.Delegate.SetPeerStateAsync(new SetPeerStateRequest { Network = Delta.NodeId, State = "revoked" }, Gamma.Auth);

        FightId = await OpenFightAsync("Bistro wages", Beta, Gamma, Delta);
        foreach (var n in new[] { Beta, Gamma })
        {
            await AcceptAsync(n, FightId);
        }
        EndedFightId = await OpenFightAsync("Acme deposit", Beta);
        await AcceptAsync(Beta, EndedFightId);
        await Eventually.TrueAsync(() => Committed(EndedFightId, Beta), "beta's acceptance of the second fight to reach alpha");
        await Alpha.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = EndedFightId, Status = FightStatus.Won, Note = "paid" }, Alpha.Auth);

        OpenCallOutId = (await Alpha.PublishAsync(Beta, Gamma)).Id;
        ClosedCallOutId = (await Alpha.PublishAsync(Beta, Gamma)).Id;
        await Alpha.CloseAsync(ClosedCallOutId);

        BetaDelegate = await TokenAsync(Beta, Role.Delegate, "Sam");
        EpsilonDelegate = await TokenAsync(Epsilon, Role.Delegate, "Rae");

        // Quiet before the first snapshot: every replica has alpha's newest events, and
        // nothing is waiting to be sent or held anywhere.
        await Eventually.TrueAsync(() => Committed(FightId, Beta) && Committed(FightId, Gamma), "beta and gamma to be committed to the fight");
        await Eventually.TrueAsync(() => new[] { FightId, EndedFightId, OpenCallOutId, ClosedCallOutId }.All(InSync), "every replica to catch up with alpha");
        await Eventually.TrueAsync(() => All.All(n => n.Store.Count("outbox") == 0 && n.Store.Count("held_events") == 0), "every outbox to drain");
    }

    public async Task DisposeAsync()
    {
        foreach (var n in All)
        {
            await n.DisposeAsync();
        }
    }

    public FightState Fight(TestNode at, string id) => FightState.Parser.ParseFrom(at.Store.GetObject(id)!.State);

    public ulong LastSequence(TestNode at, string id) => at.Store.GetObject(id)!.LastSequence;

    /// <summary>Every node the object was shared with holds the origin's newest event.</summary>
    private bool InSync(string id)
    {
        var last = LastSequence(Alpha, id);
        var holders = id == FightId ? new[] { Beta, Gamma, Delta } : id == EndedFightId ? [Beta] : [Beta, Gamma];
        return holders.All(n => n.Store.GetObject(id)?.LastSequence == last);
    }

    private bool Committed(string fightId, TestNode network) =>
        Fight(Alpha, fightId).Participants.Any(p => p.Network == network.NodeId && p.State == ParticipantState.Committed);

    private async Task<string> OpenFightAsync(string title, params TestNode[] invitees)
    {
        var draft = await Alpha.Delegate.DraftFightAsync(new DraftFightRequest { Title = title, Target = new Target { Name = "Acme" }, Terms = Samples.Terms() }, Alpha.Auth);
        await Alpha.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, Alpha.Auth);
        var invite = new InviteToFightRequest { FightId = draft.Id };
        invite.Networks.AddRange(invitees.Select(n => n.NodeId));
        await Alpha.Delegate.InviteToFightAsync(invite, Alpha.Auth);
        return draft.Id;
    }

    private static async Task AcceptAsync(TestNode n, string fightId)
    {
        await Eventually.TrueAsync(() => n.Store.GetObject(fightId) is not null, $"the invitation to reach {n.Name}");
        var hash = n.Delegate.GetFight(new GetObjectRequest { Id = fightId }, n.Auth).TermsHash;
        await n.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = fightId, TermsHash = hash }, n.Auth);
    }

    private static async Task<Metadata> TokenAsync(TestNode node, Role role, string holder)
    {
        var (token, _) = await node.Services.GetRequiredService<DelegateTokens>().CreateAsync(holder, role);
        return new Metadata { { "authorization", "Bearer " + token } };
    }
}

/// <summary>
/// What a node holds, table by table: a row count and a hash of every row. Left out: the
/// audit log (a refused attempt to change state is itself audited) and bookkeeping that
/// moves on its own while a node is idle (delivery and catch-up timing, feed cursors,
/// notification attempts, the background jobs' leases, renewed every 10 seconds: on a
/// slow machine a refused call can span a renewal, and what peers said they speak, which
/// the protocol exchange refreshes in the background after an earlier, accepted call, with
/// the roster's change counter that moves with it).
/// </summary>
public static class DbSnapshot
{
    private static readonly HashSet<string> Moving = ["audit_log", "peer_delivery", "peer_catchup", "feed_cursors", "notification_deliveries", "job_leases", "peer_protocols", "peer_roster_version"];

    public static IReadOnlyDictionary<string, string> Take(TestNode node)
    {
        using var c = node.Store.Open();
        var tables = new List<string>();
        using (var list = c.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
            using var r = list.ExecuteReader();
            while (r.Read())
            {
                tables.Add(r.GetString(0));
            }
        }
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var table in tables.Where(t => !Moving.Contains(t)))
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT * FROM {table} ORDER BY rowid";
            using var r = cmd.ExecuteReader();
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var rows = 0;
            while (r.Read())
            {
                rows++;
                for (var i = 0; i < r.FieldCount; i++)
                {
                    var v = r.GetValue(i);
                    hash.AppendData(v switch
                    {
                        byte[] b => b,
                        DBNull => [0xff, 0x00],
                        _ => Encoding.UTF8.GetBytes(Convert.ToString(v, CultureInfo.InvariantCulture) + "\u001f"),
                    });
                }
                hash.AppendData([0x1e]);
            }
            result[table] = $"{rows} rows, {Convert.ToHexStringLower(hash.GetHashAndReset())[..16]}";
        }
        return result;
    }
}

/// <summary>
/// The hostile-input catalogue (issue 6): each class of bad input gets a clear status
/// (a code and a message a person can act on), and leaves every node's database as it was.
/// </summary>
public sealed class HostileInputCatalogueTests(HostileInputFixture f) : IClassFixture<HostileInputFixture>
{
    private static readonly Marshaller<byte[]> Raw = new(b => b, b => b);

    // ---- helpers ------------------------------------------------------------------

    private Dictionary<string, IReadOnlyDictionary<string, string>> Snapshot() => f.All.ToDictionary(n => n.Name, DbSnapshot.Take);

    private void AssertNothingChanged(Dictionary<string, IReadOnlyDictionary<string, string>> before)
    {
        var after = Snapshot();
        var changes = before.SelectMany(node => node.Value
                .Where(t => after[node.Key].GetValueOrDefault(t.Key) != t.Value)
                .Select(t => $"{node.Key}.{t.Key}: {t.Value} -> {after[node.Key].GetValueOrDefault(t.Key)}"))
            .ToList();
        Assert.True(changes.Count == 0, "State changed on refusal: " + string.Join("; ", changes));
    }

    /// <summary>Runs a call that must be refused: the status code, a message that says what to do, and no state change anywhere.</summary>
    private async Task<RpcException> RefusedAsync(StatusCode code, Func<Task> call, params string[] messageSays)
    {
        var before = Snapshot();
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Status.Is(code, ex);
        Assert.DoesNotContain("Exception was thrown", ex.Status.Detail);
        foreach (var words in messageSays)
        {
            Assert.Contains(words, ex.Status.Detail, StringComparison.OrdinalIgnoreCase);
        }
        AssertNothingChanged(before);
        return ex;
    }

    private static async Task Deliver(TestNode from, TestNode to, params Envelope[] envelopes)
    {
        var request = new DeliverRequest();
        request.Envelopes.AddRange(envelopes);
        await to.Peer.DeliverAsync(request, from.AsPeerOf(to, Methods.Deliver, request));
    }

    private static async Task DeliverWith(Func<DeliverRequest, CallOptions> sign, TestNode to, params Envelope[] envelopes)
    {
        var request = new DeliverRequest();
        request.Envelopes.AddRange(envelopes);
        await to.Peer.DeliverAsync(request, sign(request));
    }

    private static async Task<SubmitResponse> Submit(TestNode from, TestNode to, SubmissionPayload payload, TestNode? signer = null)
    {
        payload.SubmissionId = payload.SubmissionId.Length > 0 ? payload.SubmissionId : Guid.NewGuid().ToString();
        payload.SubmitterNode = payload.SubmitterNode.Length > 0 ? payload.SubmitterNode : from.NodeId;
        payload.SubmittedAt ??= Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);
        var bytes = payload.ToByteString();
        var key = signer ?? from;
        var signed = new SignedSubmission { Payload = bytes, KeyId = key.NodeId, Signature = ByteString.CopyFrom(key.Identity.Sign(SignedKind.Submission, bytes.Span)) };
        return await to.Peer.SubmitAsync(new SubmitRequest { Submission = signed }, from.AsPeerOf(to, Methods.Submit, new SubmitRequest { Submission = signed }));
    }

    /// <summary>A correctly signed event by <paramref name="signer"/> with whatever header and date the test wants.</summary>
    private static Envelope SignedEvent(TestNode signer, string objectId, ObjectKind kind, ulong sequence, EventBody body, DateTimeOffset? at = null)
    {
        var payload = new EventPayload
        {
            EventId = Guid.NewGuid().ToString(),
            ObjectId = objectId,
            ObjectKind = kind,
            Sequence = sequence,
            OriginNode = signer.NodeId,
            ActorNode = signer.NodeId,
            OccurredAt = Timestamp.FromDateTimeOffset(at ?? DateTimeOffset.UtcNow),
            Body = body,
        };
        return Forge.SignBytes(signer.Identity, payload.ToByteString(), payload);
    }

    private static EventBody Escalate => new() { FightStatusChanged = new FightStatusChanged { From = FightStatus.Open, To = FightStatus.Escalating } };

    /// <summary>
    /// The next event of alpha's fight, correctly signed: what gamma would apply at once.
    /// Each case spoils one thing about it, so a missing check shows up as a stored event.
    /// </summary>
    private Envelope NextFightEvent(DateTimeOffset? at = null) =>
        SignedEvent(f.Alpha, f.FightId, ObjectKind.Fight, f.LastSequence(f.Gamma, f.FightId) + 1, Escalate, at);

    /// <summary>A call-out of <paramref name="origin"/>'s own, addressed to gamma.</summary>
    private static Envelope NewCallOut(TestNode origin, TestNode to) =>
        SignedEvent(origin, Identifiers.NewObjectId(origin.NodeId), ObjectKind.CallOut, 1,
            new EventBody { CallOutPublished = new CallOutPublished { Content = Samples.CallOut(), Recipients = { to.NodeId } } });

    private static Func<DeliverRequest, CallOptions> CallSignedAt(TestNode from, TestNode to, string method, DateTimeOffset at) =>
        CallSignedAs(from, from.NodeId, to, method, at);

    /// <summary>Call headers naming <paramref name="named"/> but signed with <paramref name="signer"/>'s key.</summary>
    private static Func<DeliverRequest, CallOptions> CallSignedAs(TestNode signer, string named, TestNode to, string method, DateTimeOffset at) => request =>
    {
        var ts = at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var callId = Guid.NewGuid().ToString();
        var bodyHash = PeerClients.BodyHash(request.ToByteArray());
        var signature = signer.Identity.Sign(SignedKind.Call, Encoding.UTF8.GetBytes(PeerClients.CallSigningString(method, ts, named, to.NodeId, callId, bodyHash)));
        return new CallOptions(new Metadata
        {
            { PeerClients.NodeHeader, named },
            { PeerClients.TimeHeader, ts },
            { PeerClients.CallIdHeader, callId },
            { PeerClients.BodyHashHeader, bodyHash },
            { PeerClients.SignatureHeader, Convert.ToBase64String(signature) },
            { Federation.Node.Peering.PeerProtocols.Header, "1.1" },
        });
    };

    private static ActionPlan Plan => new()
    {
        What = "Picket the letting office",
        Place = "5 Station Rd",
        StartsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(3)),
        EndsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(3).AddHours(2)),
    };

    // ---- 1. forged signature ----------------------------------------------------------

    [Fact]
    public async Task AnEnvelopeWithAFlippedSignatureBitIsUnauthenticated()
    {
        var envelope = NextFightEvent();
        var sig = envelope.Signature.ToByteArray();
        sig[^5] ^= 0x01;
        envelope.Signature = ByteString.CopyFrom(sig);

        await RefusedAsync(StatusCode.Unauthenticated, () => Deliver(f.Alpha, f.Gamma, envelope), "signature does not verify", "pinned key");
    }

    [Fact]
    public async Task AParticipantSigningInTheOriginsNameIsUnauthenticated()
    {
        // beta claims to be alpha, but can only sign with its own key.
        var forged = Forge.Sign(f.Beta.Identity, f.FightId, ObjectKind.Fight, f.LastSequence(f.Gamma, f.FightId) + 1, Forge.Won(FightStatus.Open), claimedOrigin: f.Alpha.NodeId);

        await RefusedAsync(StatusCode.Unauthenticated, () => Deliver(f.Beta, f.Gamma, forged), "signature does not verify");
    }

    [Fact]
    public async Task APeerCallSignedForAnotherMethodIsUnauthenticated()
    {
        // A captured Hello signature replayed on Deliver: the method is part of what is signed.
        var hello = f.Alpha.AsPeerOf(f.Gamma, Methods.Hello);

        await RefusedAsync(StatusCode.Unauthenticated, () => DeliverWith(_ => hello, f.Gamma, NextFightEvent()), "could not authenticate the call");
    }

    // ---- 2. unknown peer ----------------------------------------------------------------

    [Fact]
    public async Task ANodeGammaNeverAddedIsRefusedAsNotAPeer()
    {
        var ex = await RefusedAsync(StatusCode.Unauthenticated, () => Deliver(f.Epsilon, f.Gamma, NewCallOut(f.Epsilon, f.Gamma)),
            "could not authenticate the call", "both operators added each other");
        Assert.DoesNotContain("not a peer", ex.Status.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ACallerWhoseSignatureFailsLearnsNothingAboutPeeringState()
    {
        // Epsilon names, in turn, a revoked peer (delta), an active one (alpha) and itself
        // (unknown to gamma), signing with its own key: none of its signatures verifies, so
        // every answer must be the same, or the answers tell it whom gamma knows and how.
        var answers = new List<RpcException>();
        foreach (var named in new[] { f.Delta, f.Alpha, f.Epsilon })
        {
            var options = CallSignedAs(f.Epsilon, named.NodeId, f.Gamma, Methods.Deliver, DateTimeOffset.UtcNow);
            answers.Add(await RefusedAsync(StatusCode.Unauthenticated, () => DeliverWith(options, f.Gamma, NewCallOut(f.Epsilon, f.Gamma)), "could not authenticate"));
        }

        Assert.Single(answers.Select(a => (a.StatusCode, a.Status.Detail)).Distinct());
        Assert.DoesNotContain("revoked", answers[0].Status.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task AnEventFromAnUnknownOriginPassedOnByAPeerIsRefused()
    {
        // beta is gamma's peer, but the call-out it forwards was signed by epsilon, which gamma never added.
        await RefusedAsync(StatusCode.PermissionDenied, () => Deliver(f.Beta, f.Gamma, NewCallOut(f.Epsilon, f.Gamma)),
            "is not a peer of this node", "must add that node first");
    }

    [Fact]
    public async Task APeerCallWithoutCredentialsIsUnauthenticated()
    {
        await RefusedAsync(StatusCode.Unauthenticated, () => f.Gamma.Peer.DeliverAsync(new DeliverRequest { Envelopes = { NextFightEvent() } }).ResponseAsync,
            "must name the calling node and sign the call");
    }

    // ---- 3. revoked peer ----------------------------------------------------------------

    [Fact]
    public async Task ARevokedPeerIsRefusedAtItsNextCall()
    {
        await RefusedAsync(StatusCode.PermissionDenied, () => Deliver(f.Delta, f.Gamma, NewCallOut(f.Delta, f.Gamma)), "has been revoked");
    }

    // ---- 4. replayed envelope -----------------------------------------------------------

    [Fact]
    public async Task ReplayingAnEnvelopeAlreadyAppliedChangesNothing()
    {
        var recorded = f.Alpha.Store.LoadEvents(f.FightId, 0, 500).Select(e => Envelopes.Build(e, f.Alpha.Get<Federation.Core.Identity.NodeIdentity>().Algorithm)).ToArray();
        var before = Snapshot();

        var response = await f.Gamma.Peer.DeliverAsync(new DeliverRequest { Envelopes = { recorded } }, f.Alpha.AsPeerOf(f.Gamma, Methods.Deliver, new DeliverRequest { Envelopes = { recorded } }));

        Assert.Equal((0u, (uint)recorded.Length, 0u), (response.Applied, response.Duplicates, response.Held));
        AssertNothingChanged(before);
    }

    [Fact]
    public async Task ADifferentEventReplayedAtAnOldPositionIsRefusedAsAConflict()
    {
        var rewritten = SignedEvent(f.Alpha, f.FightId, ObjectKind.Fight, 2, Forge.Won(FightStatus.Open));

        await RefusedAsync(StatusCode.FailedPrecondition, () => Deliver(f.Alpha, f.Gamma, rewritten), "conflicts with the event already recorded");
    }

    [Fact]
    public async Task ReplayingARecordedSubmissionChangesNothing()
    {
        // beta's acceptance is recorded at alpha under its submission id; the same id again is a duplicate.
        var acceptedAt = f.Alpha.Store.LoadEvents(f.FightId, 0, 500)
            .First(e => EventPayload.Parser.ParseFrom(e.Payload) is { Body.KindCase: EventBody.KindOneofCase.InvitationAccepted } p && p.ActorNode == f.Beta.NodeId).Sequence;
        var submissionId = SubmissionIdAt(f.Alpha, f.FightId, acceptedAt);
        var hash = f.Fight(f.Alpha, f.FightId).TermsHash;
        var before = Snapshot();

        var response = await Submit(f.Beta, f.Alpha, new SubmissionPayload { SubmissionId = submissionId, ObjectId = f.FightId, AcceptInvitation = new AcceptInvitation { TermsHash = hash } });

        Assert.True(response.Duplicate);
        Assert.Equal(acceptedAt, response.Sequence);
        AssertNothingChanged(before);
    }

    private static string SubmissionIdAt(TestNode node, string objectId, ulong seq)
    {
        using var c = node.Store.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT submission_id FROM submissions WHERE object_id = $o AND seq = $s";
        cmd.Parameters.AddWithValue("$o", objectId);
        cmd.Parameters.AddWithValue("$s", (long)seq);
        return (string)cmd.ExecuteScalar()!;
    }

    // ---- 5. outside the clock window ----------------------------------------------------

    [Theory]
    [InlineData(-60)]
    [InlineData(+60)]
    public async Task APeerCallSignedFarFromTheReceiversClockIsUnauthenticated(int minutes)
    {
        var options = CallSignedAt(f.Alpha, f.Gamma, Methods.Deliver, DateTimeOffset.UtcNow.AddMinutes(minutes));

        await RefusedAsync(StatusCode.Unauthenticated, () => DeliverWith(options, f.Gamma, NextFightEvent()), "minutes from this node's clock", "check both clocks");
    }

    [Fact]
    public async Task AnEventDatedADayAheadIsRefusedAsInvalid()
    {
        await RefusedAsync(StatusCode.InvalidArgument, () => Deliver(f.Alpha, f.Gamma, NextFightEvent(DateTimeOffset.UtcNow.AddDays(1))),
            "ahead of this node's clock", "check the origin's clock");
    }

    // ---- 6. stale terms hash ------------------------------------------------------------

    [Fact]
    public async Task AcceptingAStaleTermsHashIsRefusedAndNamesTheCurrentOne()
    {
        var current = f.Fight(f.Delta, f.FightId).TermsHash;

        await RefusedAsync(StatusCode.FailedPrecondition, () => f.Delta.Delegate.AcceptInvitationAsync(
            new AcceptInvitationRequest { FightId = f.FightId, TermsHash = new string('0', 64) }, f.Delta.Auth).ResponseAsync, current);
    }

    [Fact]
    public async Task TheOriginRefusesAStaleTermsHashSubmittedStraightToIt()
    {
        var current = f.Fight(f.Alpha, f.FightId).TermsHash;

        await RefusedAsync(StatusCode.FailedPrecondition, () => Submit(f.Delta, f.Alpha,
            new SubmissionPayload { ObjectId = f.FightId, AcceptInvitation = new AcceptInvitation { TermsHash = new string('0', 64) } }), current);
    }

    // ---- 7. non-origin state change -----------------------------------------------------

    [Fact]
    public async Task AParticipantsSignedWonIsRefusedByAThirdNode()
    {
        var forged = Forge.Sign(f.Beta.Identity, f.FightId, ObjectKind.Fight, f.LastSequence(f.Gamma, f.FightId) + 1, Forge.Won(FightStatus.Open));

        await RefusedAsync(StatusCode.PermissionDenied, () => Deliver(f.Beta, f.Gamma, forged), "origin authority", "only the origin");
    }

    [Fact]
    public async Task AParticipantsDelegateCannotChangeTheFightsStatus()
    {
        await RefusedAsync(StatusCode.PermissionDenied, () => f.Beta.Delegate.ChangeFightStatusAsync(
            new ChangeFightStatusRequest { FightId = f.FightId, Status = FightStatus.Won }, f.Beta.Auth).ResponseAsync, "only the initiating network");
    }

    [Fact]
    public async Task ASubmissionSentToANodeThatIsNotTheOriginIsRefused()
    {
        await RefusedAsync(StatusCode.FailedPrecondition, () => Submit(f.Beta, f.Gamma,
            new SubmissionPayload { ObjectId = f.FightId, RequestRelease = new RequestRelease { Reason = "x" } }), "not the origin", "submit to its origin");
    }

    [Fact]
    public async Task TheOriginAcceptsNoCopiesOfItsOwnLog()
    {
        // beta hands alpha's own (genuinely signed) next event back to alpha.
        var own = SignedEvent(f.Alpha, f.FightId, ObjectKind.Fight, f.LastSequence(f.Alpha, f.FightId) + 1, Escalate);

        await RefusedAsync(StatusCode.PermissionDenied, () => Deliver(f.Beta, f.Alpha, own), "accepts no copies of its own log");
    }

    // ---- 8. oversize message ------------------------------------------------------------

    [Fact]
    public async Task APeerMessageOverFourMegabytesIsResourceExhausted()
    {
        var envelope = NextFightEvent();
        envelope.Signature = ByteString.CopyFrom(new byte[4 * 1024 * 1024 + 1]);

        await RefusedAsync(StatusCode.ResourceExhausted, () => Deliver(f.Alpha, f.Gamma, envelope), "exceeds the maximum");
    }

    [Fact]
    public async Task ADelegateMessageOverFourMegabytesIsResourceExhausted()
    {
        var content = Samples.CallOut(new string('a', 5 * 1024 * 1024));

        await RefusedAsync(StatusCode.ResourceExhausted, () => f.Alpha.Delegate.PublishCallOutAsync(new PublishCallOutRequest { Content = content }, f.Alpha.Auth).ResponseAsync,
            "exceeds the maximum");
    }

    [Fact]
    public async Task ABatchOfMoreThanAThousandEnvelopesIsRefused()
    {
        var batch = Enumerable.Range(0, 1001).Select(_ => NextFightEvent()).ToArray();

        await RefusedAsync(StatusCode.InvalidArgument, () => Deliver(f.Alpha, f.Gamma, batch), "at most 1000 envelopes");
    }

    // ---- 9. malformed protobuf ----------------------------------------------------------

    [Theory]
    [InlineData("federation.v1.PeerService", "Deliver")]
    [InlineData("federation.v1.PeerService", "Submit")]
    [InlineData("federation.v1.DelegateService", "PublishCallOut")]
    [InlineData("federation.v1.DelegateService", "ChangeFightStatus")]
    public async Task GarbageBytesAsARequestAreRefusedAsUnreadableProtobuf(string service, string method)
    {
        using var channel = GrpcChannel.ForAddress(f.Gamma.Address);
        var call = new Method<byte[], byte[]>(MethodType.Unary, service, method, Raw, Raw);
        // Credentials that would pass, so only the body is wrong.
        // A field 1 that claims 80 bytes and has 2; then a tag with wire type 7.
        byte[][] bodies = [[0x0a, 0x50, 0x01, 0x02], [0xff, 0xff, 0xff, 0x01]];

        foreach (var body in bodies)
        {
            var headers = service.EndsWith("PeerService", StringComparison.Ordinal) ? f.Alpha.AsPeerOf(f.Gamma, $"/{service}/{method}", body).Headers! : f.Gamma.Auth;
            await RefusedAsync(StatusCode.InvalidArgument, () => channel.CreateCallInvoker().AsyncUnaryCall(call, null, new CallOptions(headers), body).ResponseAsync,
                $"not a readable", "not valid protobuf");
        }
    }

    [Fact]
    public async Task ACorrectlySignedPayloadThatIsNotAnEventIsRefusedAsInvalid()
    {
        var header = new EventPayload { EventId = Guid.NewGuid().ToString(), ObjectId = f.FightId, ObjectKind = ObjectKind.Fight, Sequence = f.LastSequence(f.Gamma, f.FightId) + 1, OriginNode = f.Alpha.NodeId };
        var garbage = Forge.SignBytes(f.Alpha.Identity, ByteString.CopyFrom(0xff, 0xff, 0xff, 0x01, 0x02), header);

        await RefusedAsync(StatusCode.InvalidArgument, () => Deliver(f.Alpha, f.Gamma, garbage), "not a readable event");
    }

    [Fact]
    public async Task AnEnvelopeWhoseHeaderDisagreesWithItsSignedPayloadIsRefused()
    {
        var envelope = NextFightEvent();
        envelope.Sequence += 5;

        await RefusedAsync(StatusCode.InvalidArgument, () => Deliver(f.Alpha, f.Gamma, envelope), "header does not match its signed payload");
    }

    // ---- 10. missing required fields ----------------------------------------------------

    [Fact]
    public async Task AnEnvelopeWithoutASignatureIsRefusedAsInvalid()
    {
        var envelope = NextFightEvent();
        envelope.Signature = ByteString.Empty;

        await RefusedAsync(StatusCode.InvalidArgument, () => Deliver(f.Alpha, f.Gamma, envelope), "no payload or no signature");
    }

    [Fact]
    public async Task ASubmitCallWithoutASubmissionIsRefusedAsInvalid()
    {
        await RefusedAsync(StatusCode.InvalidArgument, () => f.Alpha.Peer.SubmitAsync(new SubmitRequest(), f.Beta.AsPeerOf(f.Alpha, Methods.Submit, new SubmitRequest())).ResponseAsync,
            "carries no submission");
    }

    [Fact]
    public async Task ACallOutWithoutATitleIsRefusedAsInvalid()
    {
        var content = Samples.CallOut();
        content.Title = "";

        await RefusedAsync(StatusCode.InvalidArgument, () => f.Alpha.Delegate.PublishCallOutAsync(new PublishCallOutRequest { Content = content }, f.Alpha.Auth).ResponseAsync,
            "title", "required");
    }

    [Fact]
    public async Task AFightStatusChangeWithoutAFightIdIsRefusedAsInvalid()
    {
        await RefusedAsync(StatusCode.InvalidArgument, () => f.Alpha.Delegate.ChangeFightStatusAsync(
            new ChangeFightStatusRequest { Status = FightStatus.Won }, f.Alpha.Auth).ResponseAsync, "is not an object id", "expected <origin node id>");
    }

    // ---- 11. unauthenticated delegate ---------------------------------------------------

    [Fact]
    public async Task ADelegateCallWithoutATokenIsUnauthenticated()
    {
        await RefusedAsync(StatusCode.Unauthenticated, () => f.Alpha.Delegate.PublishCallOutAsync(new PublishCallOutRequest { Content = Samples.CallOut() }).ResponseAsync,
            "authorization: Bearer", "Ask your node's operator for a token");
    }

    [Fact]
    public async Task ADelegateCallWithAMadeUpTokenIsUnauthenticated()
    {
        var forged = new Metadata { { "authorization", "Bearer fed_0000_not-a-real-token" } };

        await RefusedAsync(StatusCode.Unauthenticated, () => f.Alpha.Delegate.PublishCallOutAsync(new PublishCallOutRequest { Content = Samples.CallOut() }, forged).ResponseAsync,
            "not valid for this node");
    }

    // ---- 12. wrong role -----------------------------------------------------------------

    [Fact]
    public async Task ADelegateTokenCannotPublishACallOut()
    {
        await RefusedAsync(StatusCode.PermissionDenied, () => f.Beta.Delegate.PublishCallOutAsync(new PublishCallOutRequest { Content = Samples.CallOut() }, f.BetaDelegate).ResponseAsync,
            "needs the organiser role", "'Sam' has the delegate role");
    }

    [Fact]
    public async Task ADelegateTokenCannotRevokeAPeer()
    {
        await RefusedAsync(StatusCode.PermissionDenied, () => f.Beta.Delegate.SetPeerStateAsync(
            new SetPeerStateRequest { Network = f.Alpha.NodeId, State = "revoked" }, f.BetaDelegate).ResponseAsync, "needs the operator role");
    }

    // ---- 13. action after stand-down ----------------------------------------------------

    [Fact]
    public async Task PlanningAnActionAfterTheFightEndedIsRefused()
    {
        await RefusedAsync(StatusCode.FailedPrecondition, () => f.Beta.Delegate.PlanActionAsync(
            new PlanActionRequest { FightId = f.EndedFightId, Plan = Plan }, f.Beta.Auth).ResponseAsync, "actions planned after the end are refused");
    }

    [Fact]
    public async Task TheOriginRefusesAnActionPlannedAfterTheEndSubmittedStraightToIt()
    {
        await RefusedAsync(StatusCode.FailedPrecondition, () => Submit(f.Beta, f.Alpha, new SubmissionPayload
        {
            ObjectId = f.EndedFightId,
            PlanAction = new PlanAction { ActionId = Guid.NewGuid().ToString(), Plan = Plan },
        }), "actions planned after the end are refused");
    }

    // ---- 14. response to a closed call-out ----------------------------------------------

    [Fact]
    public async Task PledgingToAClosedCallOutIsRefused()
    {
        await RefusedAsync(StatusCode.FailedPrecondition, () => f.Beta.Delegate.RespondToCallOutAsync(new RespondToCallOutRequest
        {
            CallOutId = f.ClosedCallOutId,
            Response = new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "2026-12-05", Place = "Leeds" },
        }, f.BetaDelegate).ResponseAsync, "closed; only report-backs are taken now");
    }

    [Fact]
    public async Task TheOriginRefusesAPledgeToAClosedCallOutSubmittedStraightToIt()
    {
        await RefusedAsync(StatusCode.FailedPrecondition, () => Submit(f.Gamma, f.Alpha, new SubmissionPayload
        {
            ObjectId = f.ClosedCallOutId,
            CallOutResponse = new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "2026-12-05", Place = "Leeds" },
        }), "closed; only report-backs are taken now");
    }

    // ---- 15. hostile text ---------------------------------------------------------------

    [Theory]
    [InlineData("Picket\u001b[2Jnow", "control character (U+001B)")]
    [InlineData("Picket\u0000now", "control character (U+0000)")]
    [InlineData("Picket \u202Ewon", "invisible text-direction character (U+202E)")]
    [InlineData("<script>alert(1)</script>", "looks like web script")]
    [InlineData("<a href=\"javascript:alert(1)\">wages</a>", "looks like web script")]
    public async Task ACallOutTitleWithHostileTextIsRefused(string title, string why)
    {
        await RefusedAsync(StatusCode.InvalidArgument, () => f.Alpha.Delegate.PublishCallOutAsync(
            new PublishCallOutRequest { Content = Samples.CallOut(title) }, f.Alpha.Auth).ResponseAsync, "title", why);
    }

    [Fact]
    public async Task AVeryLongDemandIsRefusedWithTheLimit()
    {
        var content = Samples.CallOut();
        content.DemandSummary = new string('£', 50_000);

        await RefusedAsync(StatusCode.InvalidArgument, () => f.Alpha.Delegate.PublishCallOutAsync(new PublishCallOutRequest { Content = content }, f.Alpha.Auth).ResponseAsync,
            "50000 characters long", "the limit is");
    }

    [Fact]
    public async Task TheOriginRefusesHostileTextInASubmission()
    {
        await RefusedAsync(StatusCode.InvalidArgument, () => Submit(f.Beta, f.Alpha, new SubmissionPayload
        {
            ObjectId = f.OpenCallOutId,
            CallOutResponse = new CallOutResponse { Kind = ResponseKind.Decline, Reason = "busy<script>steal()</script>" },
        }), "looks like web script");
    }

    [Fact]
    public async Task AReplicaRefusesHostileTextEvenWhenTheOriginSignedIt()
    {
        var content = Samples.CallOut("Picket\u0007now");
        var envelope = SignedEvent(f.Alpha, Identifiers.NewObjectId(f.Alpha.NodeId), ObjectKind.CallOut, 1,
            new EventBody { CallOutPublished = new CallOutPublished { Content = content, Recipients = { f.Gamma.NodeId } } });

        await RefusedAsync(StatusCode.InvalidArgument, () => Deliver(f.Alpha, f.Gamma, envelope), "control character (U+0007)");
    }

    // ---- 16. impossible dates -----------------------------------------------------------

    [Fact]
    public async Task ACallOutWindowWithAnImpossibleDateIsRefusedAsInvalid()
    {
        var content = Samples.CallOut();
        content.WindowStart = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(2));
        content.WindowEnd = new Timestamp { Seconds = content.WindowStart.Seconds, Nanos = -1 };

        await RefusedAsync(StatusCode.InvalidArgument, () => f.Alpha.Delegate.PublishCallOutAsync(new PublishCallOutRequest { Content = content }, f.Alpha.Auth).ResponseAsync,
            "window end", "not a valid date");
    }

    [Fact]
    public async Task AnActionPlanWithAnImpossibleDateIsRefusedAsInvalid()
    {
        var plan = Plan;
        plan.StartsAt = new Timestamp { Seconds = long.MaxValue };

        await RefusedAsync(StatusCode.InvalidArgument, () => f.Beta.Delegate.PlanActionAsync(new PlanActionRequest { FightId = f.FightId, Plan = plan }, f.Beta.Auth).ResponseAsync,
            "start", "not a valid date");
    }

    [Fact]
    public async Task AnInboxQueryWithAnImpossibleDateIsRefusedAsInvalid()
    {
        await RefusedAsync(StatusCode.InvalidArgument, () => f.Beta.Delegate.QueryInboxAsync(
            new InboxQuery { WindowFrom = new Timestamp { Seconds = 1, Nanos = 1_000_000_000 } }, f.Beta.Auth).ResponseAsync, "from", "not a valid date");
    }

    [Fact]
    public async Task AReplicaRefusesAnImpossibleExpiryEvenWhenTheOriginSignedIt()
    {
        var content = Samples.CallOut();
        content.ExpiresAt = new Timestamp { Seconds = -70_000_000_000 };
        var envelope = SignedEvent(f.Alpha, Identifiers.NewObjectId(f.Alpha.NodeId), ObjectKind.CallOut, 1,
            new EventBody { CallOutPublished = new CallOutPublished { Content = content, Recipients = { f.Gamma.NodeId } } });

        await RefusedAsync(StatusCode.InvalidArgument, () => Deliver(f.Alpha, f.Gamma, envelope), "expiry", "not a valid date");
    }

    // ---- 17. rate limits ----------------------------------------------------------------

    [Fact]
    public async Task EventsNumberedFarAheadAreHeldOnlyUpToTheQuotaForTheirOrigin()
    {
        await using var zeta = await TestNode.StartAsync("zeta", o => o.MaxHeldEventsPerPeer = 2);
        await TestNode.PeerAsync(f.Alpha, zeta);
        var callOut = Identifiers.NewObjectId(f.Alpha.NodeId);
        var ahead = new DeliverRequest();
        // Events 3 to 6 with 1 and 2 missing: all four would wait for the gap.
        ahead.Envelopes.AddRange(Enumerable.Range(3, 4).Select(seq => SignedEvent(f.Alpha, callOut, ObjectKind.CallOut, (ulong)seq,
            new EventBody { CallOutPublished = new CallOutPublished { Content = Samples.CallOut(), Recipients = { zeta.NodeId } } })));

        var response = await zeta.Peer.DeliverAsync(ahead, f.Alpha.AsPeerOf(zeta, Methods.Deliver, ahead));

        Assert.Equal(2u, response.Held);
        Assert.Equal(2, zeta.Store.Count("held_events"));
    }

    [Fact]
    public async Task APeerAskingForMoreSignatureChecksThanItsBudgetIsToldWhenToRetry()
    {
        // Epsilon allows alpha two checks a second (a burst of four); a delivery of ten
        // envelopes empties the bucket, and the next one, within alpha's budget of calls,
        // asks for ten more. Calls may also be over their own limit from another test:
        // those answers are not the one looked for.
        var batch = Enumerable.Range(0, 10).Select(_ => NewCallOut(f.Alpha, f.Epsilon)).ToArray();
        RpcException? refused = null;
        for (var i = 0; i < 20 && refused is null; i++)
        {
            try
            {
                await Deliver(f.Alpha, f.Epsilon, batch);
            }
            catch (RpcException ex) when (ex.Status.Detail.Contains("signature checks", StringComparison.Ordinal))
            {
                refused = ex;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted)
            {
                await Task.Delay(Federation.Node.Grpc.WireRefusals.RetryAfter(ex) ?? TimeSpan.FromSeconds(1));
            }
        }

        Assert.NotNull(refused);
        Status.Is(StatusCode.ResourceExhausted, refused);
        Assert.Contains("retry after", refused.Status.Detail, StringComparison.Ordinal);
        Assert.NotNull(Federation.Node.Grpc.WireRefusals.RetryAfter(refused));
    }

    [Fact]
    public async Task APeerOverItsRateLimitIsToldWhenToRetry()
    {
        var ex = await RefusedAsync(StatusCode.ResourceExhausted, () => RepeatUntilRefused(() =>
            f.Epsilon.Peer.ListSharedAsync(new ListSharedRequest { Limit = 1 }, f.Alpha.AsPeerOf(f.Epsilon, Methods.ListShared, new ListSharedRequest { Limit = 1 })).ResponseAsync),
            "too many requests from this peer", "retry after");

        AssertRetryAfter(ex);
    }

    [Fact]
    public async Task ADelegateTokenOverItsRateLimitIsToldWhenToRetry()
    {
        var ex = await RefusedAsync(StatusCode.ResourceExhausted, () => RepeatUntilRefused(() =>
            f.Epsilon.Delegate.GetNodeInfoAsync(new GetNodeInfoRequest(), f.EpsilonDelegate).ResponseAsync), "too many requests from this token", "retry after");

        AssertRetryAfter(ex);
    }

    /// <summary>Calls quickly until one is refused; a limit of one a second (bursts of two) is reached within a few calls.</summary>
    private static async Task RepeatUntilRefused(Func<Task> call)
    {
        for (var i = 0; i < 20; i++)
        {
            await call();
        }
        Assert.Fail("20 calls in a row were all accepted; the rate limit did not apply.");
    }

    private static void AssertRetryAfter(RpcException ex)
    {
        var hint = ex.Trailers.GetValue("retry-after-ms");
        Assert.True(long.TryParse(hint, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms is > 0 and <= 2000,
            $"Expected a retry-after-ms trailer between 1 and 2000, got '{hint}'.");
        Assert.Contains($"{ms} ms", ex.Status.Detail);
    }

    // ---- issue 15 #19: impossible dates ---------------------------------------------------

    [Theory]
    [InlineData(1_700_000_000L, 2_000_000_000)]
    [InlineData(253_402_300_800L, 0)]
    public async Task ADelegatesImpossibleDeadlineIsRefusedAtTheOrigin(long seconds, int nanos)
    {
        var deadline = new Timestamp { Seconds = seconds, Nanos = nanos };

        await RefusedAsync(StatusCode.InvalidArgument, () => f.Alpha.Delegate.DeliverDemandAsync(
            new DeliverDemandRequest { FightId = f.FightId, Deadline = deadline, Note = "Handed over" }, f.Alpha.Auth).ResponseAsync,
            "deadline", "not a valid date");
    }

    [Fact]
    public async Task ASignedEventWithAnImpossibleDeadlineIsRefusedByAReplica()
    {
        var body = new EventBody { DemandDelivered = new DemandDelivered { Deadline = new Timestamp { Seconds = 1_700_000_000, Nanos = 2_000_000_000 } } };
        var envelope = SignedEvent(f.Alpha, f.FightId, ObjectKind.Fight, f.LastSequence(f.Gamma, f.FightId) + 1, body);

        await RefusedAsync(StatusCode.InvalidArgument, () => Deliver(f.Alpha, f.Gamma, envelope), "deadline", "not a valid date");
    }
}
