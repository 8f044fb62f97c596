using Federation.Node.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Dashboard.Pages;

/// <summary>
/// Exchanges the delegate's token for an HttpOnly, SameSite=Strict session cookie, so
/// the token itself is typed once and never kept by the browser.
/// </summary>
public sealed class SignInModel(DashboardContext context, OperatorToken operatorToken, RefusalAudit refusals) : DashboardPage(context)
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    protected override void Load()
    {
    }

    public async Task<IActionResult> OnPostAsync(string? token)
    {
        var caller = string.IsNullOrWhiteSpace(token) ? null : DelegateAuthInterceptor.Identify(token.Trim(), operatorToken, Node.Tokens);
        if (caller is null)
        {
            await refusals.RecordAsync(HttpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown", "SignIn", "Unauthenticated");
            Refuse("That token is not valid for this node (unknown, mistyped or revoked). Ask your node's operator for a token; the operator's own is in the node's data folder (operator.token).");
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, DashboardSessions.For(caller, operatorToken, DateTimeOffset.UtcNow));
        await Node.Gate.AuditAsync(caller.Name, DelegateRoles.Name(caller.Role), "SignIn", null, "ok");
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/");
    }

    public async Task<IActionResult> OnPostSignOutAsync()
    {
        if (User.Identity?.IsAuthenticated == true)
        {
            await Node.Gate.AuditAsync(Caller.Name, DelegateRoles.Name(Caller.Role), "SignOut", null, "ok");
        }
        await HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        TempData["Flash"] = "You are signed out.";
        return RedirectToPage();
    }

    /// <summary>
    /// Ends every session of the signed-in token, on every device. For the operator that
    /// means a new operator token (every operator session began with the old one); the new
    /// one is in the data folder.
    /// </summary>
    public async Task<IActionResult> OnPostSignOutEverywhereAsync(CancellationToken ct)
    {
        if (User.Identity?.IsAuthenticated != true)
        {
            return RedirectToPage();
        }
        var caller = Caller;
        string done;
        if (caller.TokenId == Security.Caller.Operator.TokenId)
        {
            operatorToken.Rotate();
            done = $"Every operator session is signed out, and the operator token is replaced: the new one is in {operatorToken.Path}.";
        }
        else
        {
            await Node.Tokens.EndSessionsAsync(caller.TokenId, ct);
            done = "Every session of your token is signed out, on every device. Your token still works: sign in again with it.";
        }
        Node.Tokens.Changed();
        await Node.Gate.AuditAsync(caller.Name, DelegateRoles.Name(caller.Role), "SignOutEverywhere", caller.TokenId, "ok");
        await HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        TempData["Flash"] = done;
        return RedirectToPage();
    }
}
