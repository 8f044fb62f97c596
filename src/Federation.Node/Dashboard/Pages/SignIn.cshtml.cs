using System.Security.Claims;
using Federation.Node.Grpc;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Dashboard.Pages;

/// <summary>
/// Exchanges the delegate's token for an HttpOnly, SameSite=Strict session cookie, so
/// the token itself is typed once and never kept by the browser.
/// </summary>
public sealed class SignInModel(DashboardContext context, OperatorToken token) : DashboardPage(context)
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    protected override void Load()
    {
    }

    public async Task<IActionResult> OnPostAsync(string? token)
    {
        if (string.IsNullOrWhiteSpace(token) || !TokenMatches(token.Trim()))
        {
            Refuse("That token is not valid for this node. The operator token is in the node's data folder (operator.token).");
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, "operator"), new Claim(ClaimTypes.Role, "operator")],
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

    // Today every dashboard user holds the operator token; per-delegate tokens with
    // roles are planned (README "Security"), and would be checked here.
    private bool TokenMatches(string presented) => token.Matches(presented);
}
