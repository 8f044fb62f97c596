using Federation.Node.Grpc;
using Federation.Node.Storage;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Federation.Node.Security;

/// <summary>
/// Every delegate-service call is authenticated (the operator token from the data
/// folder, or a delegate token) and authorised by role. Every state-changing call is
/// written to the audit log — who, what, when, which object — before it runs, and its
/// outcome after; never a message body.
/// </summary>
public sealed class DelegateAuthInterceptor(OperatorToken operatorToken, DelegateTokens tokens, IFederationStore store, RateLimits limits) : Interceptor
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
            caller = Authorise(context, method);
        }
        catch (RpcException refused) when (DelegateRoles.ChangesState(method))
        {
            // Refused attempts to change state are worth an operator's attention too.
            var who = context.UserState.TryGetValue("caller", out var c) ? (Caller)c : new Caller("", "unauthenticated", 0);
            await store.WriteAsync(tx => tx.InsertAudit(who.Name, who.Role == 0 ? "none" : DelegateRoles.Name(who.Role), method, ObjectIdOf(request), refused.StatusCode.ToString()));
            throw;
        }
        if (!DelegateRoles.ChangesState(method))
        {
            return await continuation(request, context);
        }
        var entry = await store.WriteAsync(tx => tx.InsertAudit(caller.Name, DelegateRoles.Name(caller.Role), method, ObjectIdOf(request), "attempted"));
        var outcome = "error";
        string? created = null;
        try
        {
            var response = await continuation(request, context);
            outcome = "ok";
            created = ObjectIdOf(request) is null ? ObjectIdOf(response) : null;
            return response;
        }
        catch (RpcException ex)
        {
            outcome = ex.StatusCode.ToString();
            throw;
        }
        finally
        {
            await store.WriteAsync(tx =>
            {
                tx.SetAuditOutcome(entry, outcome, created);
                return true;
            });
        }
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (context.Method.StartsWith(DelegatePrefix, StringComparison.Ordinal))
        {
            Authorise(context, context.Method[DelegatePrefix.Length..]);
        }
        return continuation(request, responseStream, context);
    }

    private Caller Authorise(ServerCallContext context, string method)
    {
        var header = context.RequestHeaders.GetValue("authorization");
        if (header is null || !header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                "Delegate calls need 'authorization: Bearer <token>'. Ask your node's operator for a token; the operator's own is in the node's data folder (operator.token)."));
        }
        var presented = header["Bearer ".Length..].Trim();
        var caller = operatorToken.Matches(presented)
            ? new Caller("operator", "operator", Role.Operator)
            : tokens.Authenticate(presented)
              ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "That token is not valid for this node (unknown, mistyped or revoked)."));
        context.UserState["caller"] = caller;
        limits.ForToken(caller.TokenId);
        var needed = DelegateRoles.For(method);
        if (caller.Role < needed)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"{method} needs the {DelegateRoles.Name(needed)} role; the token '{caller.Name}' has the {DelegateRoles.Name(caller.Role)} role."));
        }
        return caller;
    }

    /// <summary>The object a request is about, if it names one: its fight_id, call_out_id or id field.</summary>
    private static string? ObjectIdOf(object request)
    {
        if (request is not IMessage m)
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
