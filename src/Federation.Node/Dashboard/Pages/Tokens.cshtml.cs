using Federation.Contracts.V1;
using Federation.Domain;
using Federation.Node.Security;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Dashboard.Pages;

/// <summary>Delegate tokens (operator only): who holds which role, a new token shown once, and revoking one.</summary>
public sealed class TokensModel(DashboardContext context) : DashboardPage(context)
{
    public IReadOnlyList<TokenInfo> All { get; private set; } = [];

    /// <summary>The secret of a token just created; shown on this response only, never stored in the browser.</summary>
    public CreatedToken? Created { get; private set; }

    public bool Allowed => Can("ListTokens");

    protected override void Load()
    {
        if (Allowed)
        {
            All = Read("ListTokens", () => Node.Tokens.List().Select(DelegateTokens.Info).ToList());
        }
    }

    public async Task<IActionResult> OnPostCreateAsync(string? holder, string? role, CancellationToken ct)
    {
        CreatedToken? created = null;
        var result = await RunAsync("CreateToken", async () =>
        {
            var (token, record) = await Node.Tokens.CreateAsync(holder?.Trim() ?? "", DelegateTokens.ParseRole(role ?? ""), ct);
            created = new CreatedToken { Info = DelegateTokens.Info(record), Token = token };
        }, "");
        if (created is null)
        {
            return result;
        }
        // Not a redirect: the secret is shown once, in this response, and not carried in a cookie.
        TempData.Remove("Flash");
        Created = created;
        return Show();
    }

    public Task<IActionResult> OnPostEndSessionsAsync(string? token, CancellationToken ct) =>
        RunAsync("EndTokenSessions", async () =>
        {
            if (!await Node.Tokens.EndSessionsAsync(token ?? "", ct))
            {
                throw RuleViolation.NotFound($"No active token {Identifiers.Truncate(token ?? "")}; it may have been revoked.");
            }
        }, "Every dashboard session of that token is signed out. The token still works: its holder can sign in again.");

    public Task<IActionResult> OnPostRevokeAsync(string? token, CancellationToken ct) =>
        RunAsync("RevokeToken", async () =>
        {
            if (!await Node.Tokens.RevokeAsync(token ?? "", ct))
            {
                throw RuleViolation.NotFound($"No active token {Identifiers.Truncate(token ?? "")}; it may have been revoked already.");
            }
        }, "The token is revoked. Anyone signed in with it is signed out at their next request.");
}
