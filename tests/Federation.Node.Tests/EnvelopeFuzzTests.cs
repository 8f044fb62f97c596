using Federation.Contracts;
using CsCheck;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Domain;
using Federation.Node.Delivery;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Node.Tests;

/// <summary>Two peered nodes with a little history: alpha's fight (beta committed) and alpha's call-out to beta.</summary>
public sealed class FuzzFixture : IAsyncLifetime
{
    public TestNode Alpha { get; private set; } = null!;
    public TestNode Beta { get; private set; } = null!;
    public string FightId { get; private set; } = "";
    public string CallOutId { get; private set; } = "";

    /// <summary>Alpha's events as beta received them: envelopes that verify.</summary>
    public Envelope[] Valid { get; private set; } = [];

    public async Task InitializeAsync()
    {
        // No rate limit worth the name: the fuzzer calls fast, and a RESOURCE_EXHAUSTED would hide what it probes.
        static void Unlimited(Federation.Core.NodeOptions o)
        {
            o.PeerRequestsPerSecond = 1_000_000;
            o.DelegateRequestsPerSecond = 1_000_000;
        }
        var started = await Task.WhenAll(TestNode.StartAsync("alpha", Unlimited), TestNode.StartAsync("beta", Unlimited));
        (Alpha, Beta) = (started[0], started[1]);
        await TestNode.PeerAsync(Alpha, Beta);
        var draft = await Alpha.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Bistro wages", Target = new Target { Name = "Bistro Co" }, Terms = Samples.Terms() }, Alpha.Auth);
        FightId = draft.Id;
        await Alpha.Delegate.OpenFightAsync(new GetObjectRequest { Id = FightId }, Alpha.Auth);
        await Alpha.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = FightId, Networks = { Beta.NodeId } }, Alpha.Auth);
        await Eventually.TrueAsync(() => Beta.Store.GetObject(FightId) is not null, "the invitation to reach beta");
        var hash = Beta.Delegate.GetFight(new GetObjectRequest { Id = FightId }, Beta.Auth).TermsHash;
        await Beta.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = FightId, TermsHash = hash }, Beta.Auth);
        CallOutId = (await Alpha.PublishAsync(Beta)).Id;
        await Eventually.TrueAsync(() => Beta.Store.GetObject(CallOutId) is not null && Beta.Store.GetObject(FightId)!.LastSequence == Alpha.Store.GetObject(FightId)!.LastSequence,
            "beta to hold alpha's fight and call-out");
        Valid = [.. Beta.Store.LoadEvents(FightId, 0, 100).Concat(Beta.Store.LoadEvents(CallOutId, 0, 100)).Select(e => Envelopes.Build(e, Beta.Get<Federation.Core.Identity.NodeIdentity>().Algorithm))];
    }

    public async Task DisposeAsync()
    {
        await Alpha.DisposeAsync();
        await Beta.DisposeAsync();
    }
}

/// <summary>
/// Property-based tests (CsCheck) of envelope decoding and verification: random bytes and
/// mutations of valid envelopes and signed submissions, in process and over gRPC. Never a
/// crash, never an exception other than a refusal with a status a person can read
/// (not INTERNAL, not UNKNOWN); and a valid envelope always verifies.
/// </summary>
public sealed class EnvelopeFuzzTests(FuzzFixture f) : IClassFixture<FuzzFixture>
{
    private const int InProcess = 3_000;
    private const int OverGrpc = 300;
    private static readonly Marshaller<byte[]> Raw = new(b => b, b => b);

    private PeerKeys BetaKeys => f.Beta.Services.GetRequiredService<PeerKeys>();

    private static void AssertClear(RpcException ex)
    {
        Assert.False(ex.StatusCode is StatusCode.Internal or StatusCode.Unknown, $"A clear refusal was expected, got {ex.StatusCode}: {ex.Status.Detail}");
        Assert.False(string.IsNullOrWhiteSpace(ex.Status.Detail), $"{ex.StatusCode} came without a message.");
    }

    /// <summary>
    /// Verifies; any exception other than a rule's refusal that goes on the wire as a clear
    /// status fails the property. Returns the verified event or null.
    /// </summary>
    private VerifiedEvent? VerifyOrRefuse(Envelope envelope)
    {
        try
        {
            return Envelopes.Verify(envelope, BetaKeys, DateTimeOffset.UtcNow);
        }
        catch (RuleViolation v)
        {
            AssertClear(Federation.Node.Grpc.WireRefusals.ToRpc(v));
            return null;
        }
    }

    private static Envelope? TryParse(byte[] bytes)
    {
        try
        {
            return Envelope.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    // ---- generators -------------------------------------------------------------------

    /// <summary>Bit flips, truncations, overwritten bytes and inserted bytes.</summary>
    private static Gen<byte[]> Mutations(byte[] original) => original.Length == 0 ? Gen.Byte.Array[1, 8] : Gen.OneOf(
        Gen.Int[0, original.Length * 8 - 1].Select(bit =>
        {
            var b = (byte[])original.Clone();
            b[bit / 8] ^= (byte)(1 << (bit % 8));
            return b;
        }),
        Gen.Int[0, original.Length - 1].Select(n => original[..n]),
        Gen.Select(Gen.Int[0, original.Length - 1], Gen.Byte, (i, v) =>
        {
            var b = (byte[])original.Clone();
            b[i] = v;
            return b;
        }),
        Gen.Select(Gen.Int[0, original.Length], Gen.Byte.Array[1, 12], (i, extra) => (byte[])[.. original[..i], .. extra, .. original[i..]]));

    private Gen<Envelope> AValidEnvelope => Gen.Int[0, f.Valid.Length - 1].Select(i => f.Valid[i].Clone());

    /// <summary>Header fields exchanged, copied from another envelope, or pointed at another node.</summary>
    private Gen<Envelope> FieldSwaps => Gen.Select(AValidEnvelope, AValidEnvelope, Gen.Int[0, 9], (original, other, swap) =>
    {
        var e = original.Clone();
        switch (swap)
        {
            case 0: (e.EventId, e.ObjectId) = (e.ObjectId, e.EventId); break;
            case 1: (e.Payload, e.Signature) = (e.Signature, e.Payload); break;
            case 2: e.Payload = other.Payload; break;
            case 3: e.Signature = other.Signature; break;
            case 4: e.OriginNode = e.KeyId = f.Beta.NodeId; break;
            case 5: e.KeyId = f.Beta.NodeId; break;
            case 6: e.ObjectId = other.ObjectId; e.ObjectKind = other.ObjectKind; break;
            case 7: e.Sequence = other.Sequence == e.Sequence ? e.Sequence + 1 : other.Sequence; break;
            case 8: e.ObjectKind = e.ObjectKind == ObjectKind.Fight ? ObjectKind.CallOut : ObjectKind.Fight; break;
            default: e.EventId = other.EventId == e.EventId ? Guid.NewGuid().ToString() : other.EventId; break;
        }
        // A swap between two equal fields (an envelope with itself) changes nothing: try another.
        return e.Equals(original) ? null : e;
    }).Where(e => e is not null).Select(e => e!);

    /// <summary>What a pinned but hostile or buggy origin could send: garbled payloads it signs itself.</summary>
    private Gen<Envelope> ResignedGarbage => Gen.OneOf(
        AValidEnvelope.SelectMany(e => Mutations(e.Payload.ToByteArray()).Select(p => Resign(e, p))),
        // Any date at all, including ones no calendar holds.
        Gen.Select(AValidEnvelope, Gen.Long, Gen.Int, (e, seconds, nanos) =>
        {
            var payload = EventPayload.Parser.ParseFrom(e.Payload);
            payload.OccurredAt = new Timestamp { Seconds = seconds, Nanos = nanos };
            return Resign(e, payload.ToByteArray());
        }));

    private Envelope Resign(Envelope e, byte[] payload)
    {
        var copy = e.Clone();
        copy.Payload = ByteString.CopyFrom(payload);
        copy.Signature = ByteString.CopyFrom(f.Alpha.Identity.Sign(SignedKind.Event, payload));
        return copy;
    }

    /// <summary>Any well-formed event alpha might sign for an object of its own, dated up to now.</summary>
    private Gen<EventPayload> ValidEvents => Gen.Select(Gen.ULong[1, ulong.MaxValue], Gen.Bool, Gen.String, Gen.Long[0, 10L * 365 * 86400], (seq, fight, title, ago) =>
    {
        var kind = fight ? ObjectKind.Fight : ObjectKind.CallOut;
        return new EventPayload
        {
            EventId = Guid.NewGuid().ToString(),
            ObjectId = Identifiers.NewObjectId(f.Alpha.NodeId),
            ObjectKind = kind,
            Sequence = seq,
            OriginNode = f.Alpha.NodeId,
            ActorNode = f.Alpha.NodeId,
            OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(-ago)),
            Body = fight
                ? new EventBody { FightOpened = new FightOpened { Title = title, Target = new Target { Name = title } } }
                : new EventBody { CallOutPublished = new CallOutPublished { Content = Samples.CallOut(title) } },
        };
    });

    // ---- in process: Envelopes.Verify ----------------------------------------------------

    [Fact]
    public void RandomBytesDecodedAsAnEnvelopeNeverCrashVerification()
    {
        Gen.Byte.Array[0, 600].Sample(bytes =>
        {
            if (TryParse(bytes) is { } envelope)
            {
                Assert.Null(VerifyOrRefuse(envelope)); // random bytes never carry alpha's signature
            }
        }, iter: InProcess, threads: 1);
    }

    [Fact]
    public void AMutatedValidEnvelopeIsRefusedClearlyAndNeverVerifiesWithOtherSignedBytes()
    {
        AValidEnvelope.SelectMany(e => Mutations(e.ToByteArray()).Select(m => (e, m))).Sample((original, mutated) =>
        {
            if (TryParse(mutated) is { } envelope && VerifyOrRefuse(envelope) is not null)
            {
                // Only a mutation that left the signed bytes alone (an unknown field, say) may verify.
                Assert.Equal(original.Payload, envelope.Payload);
            }
        }, iter: InProcess, threads: 1);
    }

    [Fact]
    public void AnEnvelopeWithSwappedFieldsIsRefusedClearly()
    {
        FieldSwaps.Sample(envelope =>
        {
            if (VerifyOrRefuse(envelope) is { } verified)
            {
                Assert.Fail($"A tampered envelope verified: {verified.Payload.EventId}");
            }
        }, iter: InProcess, threads: 1);
    }

    [Fact]
    public void GarbageSignedByAPinnedOriginIsRefusedClearlyOrReadAsAnEvent()
    {
        ResignedGarbage.Sample(envelope =>
        {
            if (VerifyOrRefuse(envelope) is { } verified)
            {
                Assert.Equal(envelope.Sequence, verified.Payload.Sequence);
            }
        }, iter: InProcess, threads: 1);
    }

    [Fact]
    public void AValidEnvelopeAlwaysVerifies()
    {
        ValidEvents.Sample(payload =>
        {
            var envelope = Forge.SignBytes(f.Alpha.Identity, payload.ToByteString(), payload);

            var verified = Envelopes.Verify(envelope, BetaKeys, DateTimeOffset.UtcNow);

            Assert.Equal(payload, verified.Payload);
        }, iter: 500, threads: 1);
    }

    // ---- over gRPC: the real peer service -----------------------------------------------

    private async Task CallClearly(Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (RpcException ex)
        {
            AssertClear(ex);
        }
    }

    private Task DeliverAsync(params Envelope[] envelopes) => CallClearly(async () =>
    {
        var request = new DeliverRequest();
        request.Envelopes.AddRange(envelopes);
        await f.Beta.Peer.DeliverAsync(request, f.Alpha.AsPeerOf(f.Beta, Methods.Deliver, request));
    });

    private Task RawAsync(TestNode to, string service, string method, Metadata headers, byte[] body) => CallClearly(async () =>
    {
        using var channel = GrpcChannel.ForAddress(to.Address);
        await channel.CreateCallInvoker().AsyncUnaryCall(new Method<byte[], byte[]>(MethodType.Unary, service, method, Raw, Raw), null, new CallOptions(headers), body);
    });

    private async Task AssertStillServingAsync()
    {
        var hello = new HelloRequest { Speaks = Federation.Node.Peering.LocalProtocol.ThisBuild.ToWire() };
        await f.Beta.Peer.HelloAsync(hello, f.Alpha.AsPeerOf(f.Beta, Methods.Hello, hello));
        await f.Alpha.Peer.HelloAsync(hello, f.Beta.AsPeerOf(f.Alpha, Methods.Hello, hello));
        Assert.DoesNotContain(f.Alpha.Logs.Lines.Concat(f.Beta.Logs.Lines), l => l.Contains("Unexpected failure", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ThePeerServiceAnswersMutatedDeliveriesWithAClearStatus()
    {
        var mutatedRequests = AValidEnvelope.SelectMany(e => Mutations(new DeliverRequest { Envelopes = { e } }.ToByteArray()));
        await Gen.OneOf(
                mutatedRequests.Select(bytes => (Func<Task>)(() => RawAsync(f.Beta, "federation.v1.PeerService", "Deliver", f.Alpha.AsPeerOf(f.Beta, Methods.Deliver, bytes).Headers!, bytes))),
                FieldSwaps.Select(e => (Func<Task>)(() => DeliverAsync(e))),
                ResignedGarbage.Select(e => (Func<Task>)(() => DeliverAsync(e))))
            .SampleAsync(call => call(), iter: OverGrpc, threads: 1);

        await AssertStillServingAsync();
    }

    [Fact]
    public async Task ThePeerServiceAnswersMutatedSubmissionsWithAClearStatus()
    {
        SignedSubmission Signed(SubmissionPayload p)
        {
            var bytes = p.ToByteString();
            return new SignedSubmission { Payload = bytes, KeyId = f.Beta.NodeId, Signature = ByteString.CopyFrom(f.Beta.Identity.Sign(SignedKind.Submission, bytes.Span)) };
        }
        SubmissionPayload Valid(bool fight) => new()
        {
            SubmissionId = Guid.NewGuid().ToString(),
            ObjectId = fight ? f.FightId : f.CallOutId,
            SubmitterNode = f.Beta.NodeId,
            SubmittedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            RequestRelease = fight ? new RequestRelease { Reason = "moving city" } : null,
            CallOutResponse = fight ? null : new CallOutResponse { Kind = ResponseKind.Decline, Reason = "busy" },
        };
        Task Submit(SignedSubmission s) => CallClearly(async () =>
            await f.Alpha.Peer.SubmitAsync(new SubmitRequest { Submission = s }, f.Beta.AsPeerOf(f.Alpha, Methods.Submit, new SubmitRequest { Submission = s })));

        await Gen.OneOf(
                // The whole request garbled, signature and all.
                Gen.Bool.SelectMany(fight => Mutations(new SubmitRequest { Submission = Signed(Valid(fight)) }.ToByteArray()))
                    .Select(bytes => (Func<Task>)(() => RawAsync(f.Alpha, "federation.v1.PeerService", "Submit", f.Beta.AsPeerOf(f.Alpha, Methods.Submit, bytes).Headers!, bytes))),
                // The payload garbled and signed again by beta: a pinned peer sending nonsense.
                Gen.Bool.SelectMany(fight => Mutations(Valid(fight).ToByteArray()))
                    .Select(bytes => (Func<Task>)(() => Submit(new SignedSubmission
                    {
                        Payload = ByteString.CopyFrom(bytes),
                        KeyId = f.Beta.NodeId,
                        Signature = ByteString.CopyFrom(f.Beta.Identity.Sign(SignedKind.Submission, bytes)),
                    }))))
            .SampleAsync(call => call(), iter: OverGrpc, threads: 1);

        await AssertStillServingAsync();
    }

    [Fact]
    public async Task RandomBytesToEveryKindOfCallGetAClearStatus()
    {
        string[] peerMethods = ["Deliver", "Submit", "FetchEvents", "ListShared", "Hello", "Identify"];
        string[] delegateMethods = ["PublishCallOut", "RespondToCallOut", "ChangeFightStatus", "AcceptInvitation", "QueryInbox", "AddPeer"];
        var peerCalls = Gen.Select(Gen.Int[0, peerMethods.Length - 1], Gen.Byte.Array[0, 300], (m, body) => (Func<Task>)(() =>
            RawAsync(f.Beta, "federation.v1.PeerService", peerMethods[m], f.Alpha.AsPeerOf(f.Beta, $"/federation.v1.PeerService/{peerMethods[m]}", body).Headers!, body)));
        var delegateCalls = Gen.Select(Gen.Int[0, delegateMethods.Length - 1], Gen.Byte.Array[0, 300], (m, body) => (Func<Task>)(() =>
            RawAsync(f.Beta, "federation.v1.DelegateService", delegateMethods[m], f.Beta.Auth, body)));

        await Gen.OneOf(peerCalls, delegateCalls).SampleAsync(call => call(), iter: OverGrpc, threads: 1);

        await AssertStillServingAsync();
    }
}
