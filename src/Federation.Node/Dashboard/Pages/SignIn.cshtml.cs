using System.Security.Claims;
using Federation.Node.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Dashboard.Pages;

/// <summary>
/// Exchanges the delegate's token for an HttpOnly, SameSite=Strict session cookie, so
/// the token itself is typed once and never kept by the browser.
/// </summary>
public sealed class SignInModel(DashboardContext context, OperatorToken operatorToken) : DashboardPage(context)
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
            Refuse("That token is not valid for this node (unknown, mistyped or revoked). Ask your node's operator for a token; the operator's own is in the node's data folder (operator.token).");
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.Name, caller.Name),
                new Claim(ClaimTypes.Role, DelegateRoles.Name(caller.Role)),
                new Claim(TokenIdClaim, caller.TokenId),
            ],
            CookieAuthenticationDefaults.AuthenticationScheme);
        await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/");
    }

    public async Task<IActionResult> OnPostSignOutAsync()
    {
        await HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        TempData["Flash"] = "You are signed out.";
        return RedirectToPage();
    }
}
