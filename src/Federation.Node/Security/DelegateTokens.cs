using System.Security.Cryptography;
using System.Text;
using Federation.Contracts.V1;
using Federation.Core.Storage;
using Federation.Domain;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Node.Security;

/// <summary>Who is calling the delegate service, and with what role.</summary>
public sealed record Caller(string TokenId, string Name, Role Role)
{
    /// <summary>Whoever holds the operator token in the data folder.</summary>
    public static readonly Caller Operator = new("operator", "operator", Role.Operator);

    /// <summary>The caller <see cref="DelegateAuthInterceptor"/> authenticated for this call.</summary>
    public static Caller Of(global::Grpc.Core.ServerCallContext context) =>
        context.UserState.TryGetValue(typeof(Caller), out var caller) ? (Caller)caller
            : throw new InvalidOperationException("The call was not authenticated by DelegateAuthInterceptor.");
}

/// <summary>
/// Delegate tokens: "sn_&lt;id&gt;_&lt;secret&gt;". The node keeps only a hash of the
/// secret, so a copy of its database does not hand out working tokens.
/// </summary>
public sealed class DelegateTokens(IFederationStore store)
{
    public const string Prefix = "sn_";

    public async Task<(string Token, TokenRecord Record)> CreateAsync(string name, Role role, CancellationToken ct = default)
    {
        Text.Check("token name", name, Text.ShortMax, required: true);
        if (!System.Enum.IsDefined(role))
        {
            throw RuleViolation.Invalid("A role is delegate, organiser or operator.");
        }
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var record = new TokenRecord(id, name, role, DateTimeOffset.UtcNow, null);
        await store.WriteAsync(tx =>
        {
            tx.InsertToken(record, Hash(secret));
            return true;
        }, ct);
        return ($"{Prefix}{id}_{secret}", record);
    }

    public async Task<bool> RevokeAsync(string id, CancellationToken ct = default)
    {
        var revoked = await store.WriteAsync(tx => tx.RevokeToken(id), ct);
        Changed();
        return revoked;
    }

    /// <summary>"Sign out everywhere": every dashboard session of the token ends; the token itself keeps working.</summary>
    public async Task<bool> EndSessionsAsync(string id, CancellationToken ct = default)
    {
        var ended = await store.WriteAsync(tx => tx.EndTokenSessions(id), ct);
        Changed();
        return ended;
    }

    /// <summary>
    /// Whether a dashboard session of <paramref name="tokenId"/> that began at
    /// <paramref name="signedInAt"/> still stands: the token exists, is not revoked, and
    /// nobody signed it out everywhere since.
    /// </summary>
    public bool SessionStands(string tokenId, DateTimeOffset signedInAt) =>
        store.FindToken(tokenId) is { Token: { RevokedAt: null } t } && (t.SessionsAfter is not { } after || signedInAt > after);

    private TaskCompletionSource _change = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes at the next revocation, rotation or sign-out made through this process, so
    /// open streams recheck their token at once (those made elsewhere are found by polling).
    /// </summary>
    public Task NextChange => Volatile.Read(ref _change).Task;

    public void Changed() =>
        Interlocked.Exchange(ref _change, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>The caller a presented token stands for, or null if it is unknown, malformed or revoked.</summary>
    public Caller? Authenticate(string presented)
    {
        var parts = presented.Split('_');
        if (parts.Length != 3 || parts[0] + "_" != Prefix)
        {
            return null;
        }
        var found = store.FindToken(parts[1]);
        if (found is not { } f || f.Token.RevokedAt is not null || !CryptographicOperations.FixedTimeEquals(f.Hash, Hash(parts[2])))
        {
            return null;
        }
        return new Caller(f.Token.Id, f.Token.Name, f.Token.Role);
    }

    /// <summary>Still valid: the operator, or a delegate token that exists and is not revoked.</summary>
    public bool IsValid(string tokenId) =>
        tokenId == Caller.Operator.TokenId || store.FindToken(tokenId) is { Token.RevokedAt: null };

    public static Role ParseRole(string role) => role.Trim().ToLowerInvariant() switch
    {
        "delegate" => Role.Delegate,
        "organiser" or "organizer" => Role.Organiser,
        "operator" => Role.Operator,
        _ => throw RuleViolation.Invalid($"'{role}' is not a role: delegate, organiser or operator."),
    };

    public static TokenInfo Info(TokenRecord t) => new()
    {
        Id = t.Id,
        Holder = t.Name,
        Role = DelegateRoles.Name(t.Role),
        CreatedAt = Timestamp.FromDateTimeOffset(t.CreatedAt),
        RevokedAt = t.RevokedAt is { } r ? Timestamp.FromDateTimeOffset(r) : null,
    };

    public IReadOnlyList<TokenRecord> List() => store.ListTokens();

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
