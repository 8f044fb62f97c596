using Federation.Domain;
using Federation.Storage;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Federation.Node.Grpc;

/// <summary>
/// Maps domain refusals and unreadable input to gRPC statuses with the rule's own
/// message, so every "no" a person sees says why. Unexpected failures are logged
/// (without message bodies) and returned as INTERNAL without details.
/// </summary>
public sealed class ErrorInterceptor(ILogger<ErrorInterceptor> log) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw ToRpc(ex, context, log);
        }
    }

    /// <summary>
    /// The status a person sees for a failure: a rule's refusal with its message and rule,
    /// unreadable input as INVALID_ARGUMENT, a database outage as UNAVAILABLE, anything
    /// unexpected as INTERNAL (logged here).
    /// SubmitStream uses it for each submission it refuses, so they read as Submit's do.
    /// </summary>
    public static readonly Status DatabaseOutage = new(StatusCode.Unavailable,
        "This node cannot reach its database right now; try again shortly. If it persists, its operator can find the cause in the node's log.");

    public static RpcException ToRpc(Exception ex, ServerCallContext context, ILogger log)
    {
        switch (ex)
        {
            case RpcException rpc:
                return rpc;
            case RuleViolation v:
                return WireRefusals.ToRpc(v);
            case InvalidProtocolBufferException:
                return new RpcException(new Status(StatusCode.InvalidArgument, "Part of the request is not readable protobuf."));
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return new RpcException(new Status(StatusCode.Cancelled, "The call was cancelled."));
            case var db when Stores.IsOutage(db):
                // PostgreSQL restarting or unreachable: a temporary condition, so UNAVAILABLE
                // (peers retry it, and a person knows to try again) rather than INTERNAL.
                log.LogWarning("{Method} failed: the database is unreachable ({Error})", context.Method, db.Message);
                return new RpcException(DatabaseOutage);
            default:
                log.LogError(ex, "Unexpected failure in {Method}", context.Method);
                return new RpcException(new Status(StatusCode.Internal, "The node failed unexpectedly; its operator can find the cause in the node's log."));
        }
    }

    // Server streaming (the inbox subscription) gets the same mapping as unary calls.
    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        // Reuses the unary handler around the stream; the string result is a placeholder.
        UnaryServerHandler<TRequest, string>(request, context, async (r, c) =>
        {
            await continuation(r, responseStream, c);
            return "";
        });

    // So does bidirectional streaming (SubmitStream), for failures of the call as a whole.
    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw ToRpc(ex, context, log);
        }
    }
}
