using Federation.Core.Storage;
using Grpc.Core;

namespace Federation.Node.Security;

/// <summary>
/// The one place that decides whether a caller may perform a delegate operation, and
/// that writes it to the audit log. The gRPC delegate service and the dashboard both go
/// through here, so neither path can skip a role check or the audit.
/// </summary>
public sealed class DelegateGate(IFederationStore store)
{
    public static void RequireRole(Caller caller, string method)
    {
        var needed = DelegateRoles.For(method);
        if (caller.Role < needed)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"{method} needs the {DelegateRoles.Name(needed)} role; the token '{caller.Name}' has the {DelegateRoles.Name(caller.Role)} role."));
        }
    }

    /// <summary>Records a refused attempt (wrong role) to change state or read confidential details.</summary>
    public Task RefusedAsync(Caller? caller, string method, string? objectId, StatusCode status) =>
        store.WriteAsync(tx => tx.InsertAudit(caller?.Name ?? "unauthenticated", caller is null ? "none" : DelegateRoles.Name(caller.Role),
            method, objectId, status.ToString()));

    /// <summary>An entry for something that is not a delegate-service call: a sign-in, a sign-out, an admin command.</summary>
    public Task AuditAsync(string who, string role, string action, string? objectId, string outcome) =>
        store.WriteAsync(tx => tx.InsertAudit(who, role, action, objectId, outcome));

    /// <summary>
    /// Checks the role, then runs a state-changing operation, or a read of confidential
    /// details (<see cref="DelegateRoles.Audited"/>), with an audit entry written before it
    /// (outcome "attempted") and completed after it, so even a crash mid-way leaves a
    /// trace. Other reads are checked but not audited.
    /// </summary>
    public async Task<T> RunAsync<T>(Caller caller, string method, string? objectId, Func<Task<T>> operation, Func<T, string?>? createdObjectId = null)
    {
        try
        {
            RequireRole(caller, method);
        }
        catch (RpcException refused) when (DelegateRoles.Audited(method))
        {
            await RefusedAsync(caller, method, objectId, refused.StatusCode);
            throw;
        }
        if (!DelegateRoles.Audited(method))
        {
            return await operation();
        }
        var entry = await store.WriteAsync(tx => tx.InsertAudit(caller.Name, DelegateRoles.Name(caller.Role), method, objectId, "attempted"));
        var outcome = "error";
        string? created = null;
        try
        {
            var result = await operation();
            outcome = "ok";
            created = objectId is null ? createdObjectId?.Invoke(result) : null;
            return result;
        }
        catch (RpcException ex)
        {
            outcome = ex.StatusCode.ToString();
            throw;
        }
        catch (Domain.RuleViolation v)
        {
            outcome = v.Kind.ToString();
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
}
