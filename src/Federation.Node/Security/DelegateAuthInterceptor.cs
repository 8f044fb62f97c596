using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Federation.Core;
using Microsoft.Extensions.Options;

namespace Federation.Node.Security;

/// <summary>
/// Every delegate-service call, of every kind (unary and streaming), is authenticated (the
/// operator token from the data folder, or a delegate token) and then goes through the
/// <see cref="DelegateGate"/>: role check and audit. A stream is watched for as long as it
/// is open, and ends with UNAUTHENTICATED when its token is revoked or rotated.
/// </summary>
public sealed class DelegateAuthInterceptor(
    OperatorToken operatorToken, DelegateTokens tokens, DelegateGate gate, RateLimits limits, RefusalAudit refusals, IOptions<NodeOptions> options) : Interceptor
{
    private const string DelegatePrefix = "/federation.v1.DelegateService/";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (!context.Method.StartsWith(DelegatePrefix, StringComparison.Ordinal))
        {
            return await continuation(request, context);
        }
        var method = context.Method[DelegatePrefix.Length..];
        var (caller, _) = await AuthenticateAsync(context, method);
        // Calls that are about the caller's own token ("what's new" since it last looked) read it here.
        context.UserState[typeof(Caller)] = caller;
        return await gate.RunAsync(caller, method, ObjectIdOf(request), () => continuation(request, context), r => ObjectIdOf(r!));
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (!context.Method.StartsWith(DelegatePrefix, StringComparison.Ordinal))
        {
            await continuation(request, responseStream, context);
            return;
        }
        var objectId = ObjectIdOf(request);
        var (caller, presented) = await AllowStreamAsync(context, objectId);
        var method = context.Method[DelegatePrefix.Length..];
        if (!DelegateRoles.Audited(method))
        {
            await WatchedAsync(presented, context, c => continuation(request, responseStream, c));
            return;
        }
        // A stream that hands out confidential data (TakeBackup: the key and every local
        // detail) is audited as a unary call is: attempted before, its outcome after.
        await gate.RunAsync(caller, method, objectId, async () =>
        {
            await WatchedAsync(presented, context, c => continuation(request, responseStream, c));
            return true;
        });
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (!context.Method.StartsWith(DelegatePrefix, StringComparison.Ordinal))
        {
            return await continuation(requestStream, context);
        }
        var (_, presented) = await AllowStreamAsync(context, null);
        TResponse response = default!;
        await WatchedAsync(presented, context, async c => response = await continuation(requestStream, c));
        return response;
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (!context.Method.StartsWith(DelegatePrefix, StringComparison.Ordinal))
        {
            await continuation(requestStream, responseStream, context);
            return;
        }
        var (_, presented) = await AllowStreamAsync(context, null);
        await WatchedAsync(presented, context, c => continuation(requestStream, responseStream, c));
    }

    /// <summary>A stream's token and role, checked as a unary call's are (refusals audited alike); returns the caller and the token presented.</summary>
    private async Task<(Caller Caller, string Presented)> AllowStreamAsync(ServerCallContext context, string? objectId)
    {
        var method = context.Method[DelegatePrefix.Length..];
        var (caller, presented) = await AuthenticateAsync(context, method);
        try
        {
            DelegateGate.RequireRole(caller, method);
        }
        catch (RpcException refused) when (DelegateRoles.Audited(method))
        {
            await gate.RefusedAsync(caller, method, objectId, refused.StatusCode);
            throw;
        }
        return (caller, presented);
    }

    /// <summary>
    /// Runs a stream until it ends or its token stops being valid, whichever is first. The
    /// token is checked again at every change made in this process and every
    /// <see cref="NodeOptions.TokenRecheckInterval"/> (changes made elsewhere).
    /// </summary>
    private async Task WatchedAsync(string presented, ServerCallContext context, Func<ServerCallContext, Task> run)
    {
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var call = run(new WatchedCallContext(context, ended.Token));
        var watch = UntilInvalidAsync(presented, ended.Token);
        var first = await Task.WhenAny(call, watch);
        await ended.CancelAsync();
        if (first == watch && watch.IsCompletedSuccessfully)
        {
            try
            {
                await call;
            }
            catch (OperationCanceledException)
            {
                // The handler stopped at the cancellation; the status below says why.
            }
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                "The token this call was made with has been revoked (or the operator token replaced), so the call is ended. Ask your node's operator for a valid token."));
        }
        await call;
    }

    private async Task UntilInvalidAsync(string presented, CancellationToken ct)
    {
        var interval = options.Value.TokenRecheckInterval;
        while (true)
        {
            var change = tokens.NextChange;
            if (Identify(presented, operatorToken, tokens) is null)
            {
                return;
            }
            await Task.WhenAny(change, Task.Delay(interval, ct));
            ct.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// The caller and the token they presented. A caller with no valid token is refused with
    /// UNAUTHENTICATED, audited through <see cref="RefusalAudit"/> (summarised per address,
    /// so such callers cannot flood the log).
    /// </summary>
    private async Task<(Caller Caller, string Presented)> AuthenticateAsync(ServerCallContext context, string method)
    {
        var header = context.RequestHeaders.GetValue("authorization");
        string? refusal = null;
        Caller? caller = null;
        var presented = "";
        if (header is null || !header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            refusal = "Delegate calls need 'authorization: Bearer <token>'. Ask your node's operator for a token; the operator's own is in the node's data folder (operator.token).";
        }
        else
        {
            presented = header["Bearer ".Length..].Trim();
            caller = Identify(presented, operatorToken, tokens);
            refusal = caller is null ? "That token is not valid for this node (unknown, mistyped or revoked)." : null;
        }
        if (caller is null)
        {
            await refusals.RecordAsync(Source(context.Peer), method, nameof(StatusCode.Unauthenticated));
            throw new RpcException(new Status(StatusCode.Unauthenticated, refusal!));
        }
        limits.ForToken(caller.TokenId);
        return (caller, presented);
    }

    /// <summary>The caller's address without its port ("ipv4:127.0.0.1:5123" is "127.0.0.1").</summary>
    private static string Source(string peer)
    {
        var start = peer.IndexOf(':', StringComparison.Ordinal) + 1;
        var end = peer.LastIndexOf(':');
        return end > start ? peer[start..end] : peer;
    }

    /// <summary>The caller a presented token stands for: the operator's, a delegate token, or nobody.</summary>
    public static Caller? Identify(string presented, OperatorToken operatorToken, DelegateTokens tokens) =>
        operatorToken.Matches(presented) ? Caller.Operator : tokens.Authenticate(presented);

    /// <summary>The object a request or response is about, if it names one: its fight_id, call_out_id or id field.</summary>
    public static string? ObjectIdOf(object? message)
    {
        if (message is not IMessage m)
        {
            return null;
        }
        foreach (var name in new[] { "fight_id", "call_out_id", "id" })
        {
            if (m.Descriptor.FindFieldByName(name) is { FieldType: Google.Protobuf.Reflection.FieldType.String } f
                && f.Accessor.GetValue(m) is string { Length: > 0 and <= 100 } value)
            {
                return value;
            }
        }
        return null;
    }
}
