using Federation.Contracts.V1;
using Federation.Domain;
using Federation.Node.Application;
using Federation.Node.Delivery;
using Federation.Node.Hosting;
using Federation.Node.Identity;
using Federation.Node.Log;
using Federation.Node.Storage;
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
    PeerKeys keys,
    IFederationStore store,
    ReplicaLog replica,
    Submissions submissions,
    IBus bus,
    NodeClock clock,
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
        });

    public override async Task<HelloResponse> Hello(HelloRequest request, ServerCallContext context)
    {
        await auth.AuthenticateAsync(context);
        return new HelloResponse();
    }

    public override async Task<DeliverResponse> Deliver(DeliverRequest request, ServerCallContext context)
    {
        await auth.AuthenticateAsync(context);
        if (request.Envelopes.Count > MaxBatch)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"A batch holds at most {MaxBatch} envelopes; this one has {request.Envelopes.Count}."));
        }
        // Before verifying: this node's own key is not among its pinned peer keys, so Verify
        // would refuse a copy of this node's own log with "its origin is not a peer of this
        // node; its operator must add that node first", telling the operator to add itself.
        if (request.Envelopes.FirstOrDefault(e => Identifiers.TryOriginOf(e.ObjectId, out var o) && o == identity.NodeId) is { } own)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"Envelope for {Identifiers.Truncate(own.ObjectId)} refused: this node originates that object and accepts no copies of its own log."));
        }
        // Verify everything before touching the database: a bad envelope refuses the whole batch.
        var verified = request.Envelopes.Select(e => Envelopes.Verify(e, keys, clock.UtcNow)).ToList();
        var result = await replica.ReceiveAsync(verified, context.CancellationToken);
        foreach (var objectId in result.Gaps)
        {
            try
            {
                // The events are stored; asking for the gap to be filled must not fail the delivery.
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
                timeout.CancelAfter(BackfillPublishTimeout);
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
        var signed = request.Submission ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "The request carries no submission."));
        if (signed.KeyId != caller.NodeId || !keys.Verify(caller.NodeId, signed.Payload.Span, signed.Signature.Span))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "The submission is not signed by the calling node's pinned key."));
        }
        SubmissionPayload submission;
        try
        {
            submission = SubmissionPayload.Parser.ParseFrom(signed.Payload);
        }
        catch (InvalidProtocolBufferException)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The signed submission is not readable."));
        }
        if (submission.SubmitterNode != caller.NodeId || !Guid.TryParse(submission.SubmissionId, out _))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The submission must name the calling node as submitter and carry a UUID."));
        }
        var stored = Identifiers.TryOriginOf(submission.ObjectId, out var objectOrigin) ? store.GetObject(submission.ObjectId) : null;
        if (stored is null || stored.LastSequence == 0)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"No fight or call-out {Identifiers.Truncate(submission.ObjectId)} is known here."));
        }
        if (objectOrigin != identity.NodeId)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "This node is not the origin of that object; submit to its origin."));
        }
        return await submissions.RecordAsync(submission, stored, context.CancellationToken);
    }

    public override async Task<FetchEventsResponse> FetchEvents(FetchEventsRequest request, ServerCallContext context)
    {
        var caller = await auth.AuthenticateAsync(context);
        if (!Identifiers.TryOriginOf(request.ObjectId, out var objectOrigin))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "That is not an object id."));
        }
        var stored = store.GetObject(request.ObjectId);
        if (stored is null || stored.LastSequence == 0 || objectOrigin != identity.NodeId)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"This node is not the origin of {request.ObjectId}."));
        }
        if (!Audience.Of(StateCodec.Parse(stored.Kind, stored.State)).Contains(caller.NodeId))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "Your node is not among the networks this object is shared with."));
        }
        var limit = request.Limit is 0 or > MaxFetch ? MaxFetch : (int)request.Limit;
        var response = new FetchEventsResponse { LastSequence = stored.LastSequence };
        response.Envelopes.AddRange(store.LoadEvents(request.ObjectId, request.AfterSequence, limit).Select(Envelopes.Build));
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
        var page = store.OriginObjectsAfter(identity.NodeId, request.AfterCursor, limit);
        var response = new ListSharedResponse { NextCursor = page.Count == limit ? page[^1].ObjectId : "" };
        // Only what the caller is in the audience of: the same rule as FetchEvents.
        response.Objects.AddRange(page
            .Where(o => Audience.Of(StateCodec.Parse(o.Kind, o.State)).Contains(caller.NodeId))
            .Select(o => new SharedObject { ObjectId = o.ObjectId, ObjectKind = o.Kind, LastSequence = o.LastSequence }));
        return response;
    }
}
