using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Federation.Node.Security;

/// <summary>
/// Every delegate-service call is authenticated (the operator token from the data
/// folder, or a delegate token) and then goes through the <see cref="DelegateGate"/>:
/// role check and audit.
/// </summary>
public sealed class DelegateAuthInterceptor(OperatorToken operatorToken, DelegateTokens tokens, DelegateGate gate, RateLimits limits) : Interceptor
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
        Caller caller;
        try
        {
            caller = Authenticate(context);
        }
        catch (RpcException refused) when (DelegateRoles.ChangesState(method))
        {
            // Attempts with no valid token to change state are worth an operator's attention.
            await gate.RefusedAsync(null, method, ObjectIdOf(request), refused.StatusCode);
            throw;
        }
        return await gate.RunAsync(caller, method, ObjectIdOf(request), () => continuation(request, context), r => ObjectIdOf(r!));
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (context.Method.StartsWith(DelegatePrefix, StringComparison.Ordinal))
        {
            DelegateGate.RequireRole(Authenticate(context), context.Method[DelegatePrefix.Length..]);
        }
        return continuation(request, responseStream, context);
    }

    private Caller Authenticate(ServerCallContext context)
    {
        var header = context.RequestHeaders.GetValue("authorization");
        if (header is null || !header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                "Delegate calls need 'authorization: Bearer <token>'. Ask your node's operator for a token; the operator's own is in the node's data folder (operator.token)."));
        }
        var caller = Identify(header["Bearer ".Length..].Trim(), operatorToken, tokens)
            ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "That token is not valid for this node (unknown, mistyped or revoked)."));
        limits.ForToken(caller.TokenId);
        return caller;
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
