using Federation.Contracts;
using System.Threading.Channels;
using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Commands;
using Federation.Core.Identity;
using Federation.Core.Log;
using Federation.Core.Storage;
using Federation.Domain;
using Federation.Node.Delivery;
using Federation.Node.Peering;
using Federation.Node.Security;
using Google.Protobuf;
using Grpc.Core;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Federation.Node.Grpc;

/// <summary>Node ↔ node: deliver, submit, fetch, identify.</summary>
public sealed class PeerGrpcService(
    NodeIdentity identity,
    IOptions<NodeOptions> options,
    PeerAuthenticator auth,
    PeerProtocols protocols,
    PeerDirectory directory,
    IObjectReads store,
    ReplicaLog replica,
    SignedSubmissions signedSubmissions,
    CapabilityGate gate,
    NodeKeys nodeKeys,
    RateLimits limits,
    IBus bus,
    BusReadiness busReady,
    Federation.Core.Sealing.SealedLogs sealedLogs,
    Relay.RelayOffers relayOffers,
    Relay.RelayDesk relayDesk,
    ILogger<PeerGrpcService> log) : PeerService.PeerServiceBase
{
    public const int MaxBatch = 1000;
    public const int MaxFetch = 500;
    public const int MaxShared = 500;
    private static readonly TimeSpan BackfillPublishTimeout = TimeSpan.FromSeconds(2);

    public override Task<IdentifyResponse> Identify(IdentifyRequest request, ServerCallContext context) =>
        Task.FromResult(new IdentifyResponse
        {
            NodeId = identity.NodeId,
            Name = options.Value.Name,
            PublicKey = ByteString.CopyFrom(identity.PublicKey),
            Fingerprint = identity.Fingerprint,
            Region = options.Value.Region,
            Speaks = protocols.Advertisement,
            KeyAlgorithm = Signatures.AlgorithmOf(identity.PublicKey),
            Address = options.Value.AnnouncedAddress,
            Certificate = identity.Current.Certificate,
            Revocations = { nodeKeys.Ours },
        });

    public override async Task<HelloResponse> Hello(HelloRequest request, ServerCallContext context)
    {
        var caller = await auth.AuthenticateAsync(context);
        // Only nodes of protocol 1.1 and later say Hello, and they always say what they speak.
        // Taken as "a release before the exchange", an empty Hello would make this node sign
        // its calls to the caller the old way, which the caller then refuses.
        if (request.Speaks is null || request.Speaks.ProtocolVersion.Length == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "A Hello must say what the node speaks (speaks.protocol_version, e.g. 1.1)."));
        }
        // A bad address refuses the Hello before anything of it is recorded.
        await directory.AnnouncedAsync(caller, request.Address, context.CancellationToken);
        await protocols.HeardAsync(caller.NodeId, caller.Name, request.Speaks, context.CancellationToken);
        await nodeKeys.AcceptAsync(caller.NodeId, request.Revocations, context.CancellationToken);
        await relayOffers.HeardAsync(caller.NodeId, request.Relay, context.CancellationToken);
        return new HelloResponse { Speaks = protocols.Advertisement, Revocations = { nodeKeys.Ours }, Relay = relayOffers.Ours() };
    }

    public override async Task<DeliverResponse> Deliver(DeliverRequest request, ServerCallContext context)
    {
        var caller = await auth.AuthenticateAsync(context);
        if (request.Envelopes.Count > MaxBatch)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"A batch holds at most {MaxBatch} envelopes; this one has {request.Envelopes.Count}."));
        }
        // Each envelope costs a signature check: charged before any is done.
        limits.ForVerifications(caller.NodeId, request.Envelopes.Count);
        // Verify everything before touching the database: a bad envelope refuses the whole batch.
        var verified = replica.Verify(request.Envelopes);
        var result = await replica.ReceiveAsync(verified, context.CancellationToken);
        foreach (var objectId in result.Gaps)
        {
            try
            {
                // The events are stored; asking for the gap to be filled must not fail the delivery.
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
                timeout.CancelAfter(BackfillPublishTimeout);
                await busReady.WaitAsync(timeout.Token); // published earlier, it would be dropped
                await bus.Publish(new BackfillObject(objectId), timeout.Token);
            }
            catch (Exception ex) when (!context.CancellationToken.IsCancellationRequested)
            {
                log.LogInformation("Could not queue a backfill of {Object} ({Error}); the next catch-up pass fills the gap", objectId, ex.Message);
            }
        }
        return new DeliverResponse { Applied = (uint)result.Applied, Duplicates = (uint)result.Duplicates, Held = (uint)result.Held };
    }

    public override async Task<SubmitResponse> Submit(SubmitRequest request, ServerCallContext context)
    {
        var caller = await auth.AuthenticateAsync(context);
        return await RecordAsync(caller, request, context.CancellationToken);
    }

    /// <summary>
    /// How many submissions of one stream may be in the works at once: enough for them to
    /// share commits, few enough that a sender cannot pile up unbounded work here.
    /// </summary>
    public const int MaxInFlight = 256;

    public override async Task SubmitStream(IAsyncStreamReader<SubmitRequest> requests, IServerStreamWriter<SubmitStreamResponse> responses, ServerCallContext context)
    {
        var caller = await auth.AuthenticateAsync(context);
        var ct = context.CancellationToken;
        var answers = Channel.CreateBounded<Task<SubmitStreamResponse>>(new BoundedChannelOptions(MaxInFlight) { SingleReader = true, SingleWriter = true });
        var writing = WriteAnswersAsync(answers.Reader, responses, ct);
        Exception? failed = null;
        try
        {
            ulong index = 0;
            await foreach (var request in requests.ReadAllAsync(ct))
            {
                // The stream was authenticated once, when it opened; a revocation since then
                // (here or on another replica) ends it before this message is looked at.
                auth.RequireStillPeer(caller.NodeId);
                // Each submission is started before the next is read, and its write joins the
                // commit queue before it first waits: submissions are sequenced in the order
                // sent, while many of them share one commit.
                await answers.Writer.WriteAsync(AnswerAsync(caller, request, index++, context), ct);
            }
        }
        catch (Exception ex)
        {
            failed = ex;
        }
        answers.Writer.TryComplete();
        try
        {
            // Submissions already recorded are answered even if reading failed.
            await writing;
        }
        catch (Exception) when (failed is not null)
        {
            // The reading failure is the one to report.
        }
        if (failed is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed);
        }
    }

    private static async Task WriteAnswersAsync(ChannelReader<Task<SubmitStreamResponse>> answers, IServerStreamWriter<SubmitStreamResponse> responses, CancellationToken ct)
    {
        await foreach (var answer in answers.ReadAllAsync(ct))
        {
            await responses.WriteAsync(await answer, ct);
        }
    }

    /// <summary>One submission of a stream: accepted, or refused with what Submit would have said.</summary>
    private async Task<SubmitStreamResponse> AnswerAsync(PeerRecord caller, SubmitRequest request, ulong index, ServerCallContext context)
    {
        try
        {
            // Each submission counts against the caller's rate limit, as each Submit call does.
            limits.ForPeer(caller.NodeId);
            return new SubmitStreamResponse { Index = index, Accepted = await RecordAsync(caller, request, context.CancellationToken) };
        }
        catch (Exception ex)
        {
            var refused = WireRefusals.ToSubmitRefusal(ErrorInterceptor.ToRpc(ex, context, log));
            return new SubmitStreamResponse { Index = index, Refused = refused };
        }
    }

    /// <summary>Checks one submission from an authenticated caller and records it: the one path for Submit and SubmitStream.</summary>
    private async Task<SubmitResponse> RecordAsync(PeerRecord caller, SubmitRequest request, CancellationToken ct)
    {
        var signed = request.Submission ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "The request carries no submission."));
        limits.ForVerifications(caller.NodeId, 1);
        return await signedSubmissions.RecordAsync(caller, signed, ct);
    }

    public override async Task<FetchEventsResponse> FetchEvents(FetchEventsRequest request, ServerCallContext context)
    {
        var caller = await auth.AuthenticateAsync(context);
        if (!Identifiers.TryOriginOf(request.ObjectId, out var objectOrigin))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "That is not an object id."));
        }
        var stored = store.GetObject(request.ObjectId);
        // The caller's own object is given back from this node's copy: a network on a new
        // server without a backup recovers what it originated (issue 16 #4). It signed every
        // event of it, so nothing in it is news to it.
        var theirs = objectOrigin == caller.NodeId;
        // One answer for "no such object" and "not shared with you" (issue 15 #16): a
        // different one would tell a peer which of this node's objects exist.
        if (stored is null || stored.LastSequence == 0
            || (!theirs && (objectOrigin != identity.NodeId || !Audience.Of(StateCodec.Parse(stored.Kind, stored.State)).Contains(caller.NodeId))))
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"This node shares no object {request.ObjectId} with your node."));
        }
        var limit = request.Limit is 0 or > MaxFetch ? MaxFetch : (int)request.Limit;
        var response = new FetchEventsResponse { LastSequence = stored.LastSequence };
        // A participants-only log rests sealed (adr/0025): served as signed once opened. Locked,
        // the events up to the first that cannot be opened go, and the caller fetches the rest
        // after the unlock; if none can, it is told so, rather than that there is nothing.
        var rows = store.LoadEvents(request.ObjectId, request.AfterSequence, limit);
        // What carries no certificate was signed by its origin's network key: the caller's own, or this node's.
        var originKeyAlgorithm = theirs ? Signatures.AlgorithmOf(caller.PublicKey) : identity.Algorithm;
        var events = new List<Envelope>(rows.Count);
        foreach (var e in rows)
        {
            if (!sealedLogs.TryOpen(e, out var opened))
            {
                break;
            }
            events.Add(Envelopes.Build(opened, originKeyAlgorithm));
        }
        if (events.Count == 0 && rows.Count > 0)
        {
            throw Federation.Core.Sealing.StorageVault.Locked();
        }
        // Pulled as pushed: an event the caller cannot take yet is not sent to fail.
        response.Envelopes.AddRange(events.Take(gate.TakeableCount(caller.NodeId, events)));
        return response;
    }

    public override async Task<ListSharedResponse> ListShared(ListSharedRequest request, ServerCallContext context)
    {
        var caller = await auth.AuthenticateAsync(context);
        if (request.AfterCursor.Length > 0 && !Identifiers.TryOriginOf(request.AfterCursor, out _))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "after_cursor must be empty or the next_cursor of the previous page."));
        }
        var limit = request.Limit is 0 or > MaxShared ? MaxShared : (int)request.Limit;
        var page = store.OriginObjectsAfter(request.Yours ? caller.NodeId : identity.NodeId, request.AfterCursor, limit);
        var response = new ListSharedResponse { NextCursor = page.Count == limit ? page[^1].ObjectId : "" };
        // Only what the caller is in the audience of, or its own: the same rule as FetchEvents.
        response.Objects.AddRange(page
            .Where(o => request.Yours || Audience.Of(StateCodec.Parse(o.Kind, o.State)).Contains(caller.NodeId))
            .Select(o => new SharedObject { ObjectId = o.ObjectId, ObjectKind = o.Kind, LastSequence = o.LastSequence }));
        return response;
    }

    // Relay through a mutual peer (docs/adr/0027): translated here, done by RelayDesk.

    public override async Task<RelayPutResponse> RelayPut(RelayPutRequest request, ServerCallContext context)
    {
        var caller = await auth.AuthenticateAsync(context);
        limits.ForVerifications(caller.NodeId, 1);
        return await relayDesk.PutAsync(caller, request, context.CancellationToken);
    }

    public override async Task<RelayDeliverResponse> RelayDeliver(RelayDeliverRequest request, ServerCallContext context)
    {
        var caller = await auth.AuthenticateAsync(context);
        limits.ForVerifications(caller.NodeId, 1);
        return await relayDesk.DeliverAsync(caller, request, context.CancellationToken);
    }

    public override async Task<RelayCollectResponse> RelayCollect(RelayCollectRequest request, ServerCallContext context)
    {
        var caller = await auth.AuthenticateAsync(context);
        return await relayDesk.CollectAsync(caller, request, context.CancellationToken);
    }
}
