using System.Security.Claims;
using Federation.Core;
using Federation.Node.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace Federation.Node.Dashboard;

/// <summary>
/// A dashboard session stands only while its token does (issue 15, item 1): every request,
/// a page view as much as a form, checks that the token is not revoked, that nobody signed
/// it out everywhere since the session began, that the operator token it was opened with
/// has not been replaced, and that the session is younger than
/// <see cref="NodeOptions.DashboardSessionLifetime"/> however busy it has been.
/// </summary>
public static class DashboardSessions
{
    public const string TokenIdClaim = "token_id";
    public const string SignedInAtClaim = "signed_in_at";
    public const string GenerationClaim = "operator_generation";

    /// <summary>The claims a session carries from its sign-in.</summary>
    public static ClaimsPrincipal For(Caller caller, OperatorToken operatorToken, DateTimeOffset now)
    {
        List<Claim> claims =
        [
            new(ClaimTypes.Name, caller.Name),
            new(ClaimTypes.Role, DelegateRoles.Name(caller.Role)),
            new(TokenIdClaim, caller.TokenId),
            new(SignedInAtClaim, now.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ];
        if (caller.TokenId == Caller.Operator.TokenId)
        {
            claims.Add(new Claim(GenerationClaim, operatorToken.Generation));
        }
        return new ClaimsPrincipal(new ClaimsIdentity(claims, CookieAuthenticationDefaults.AuthenticationScheme));
    }

    /// <summary>The cookie handler's check of every request that carries a session.</summary>
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        if (!Stands(context.Principal, context.HttpContext.RequestServices, DateTimeOffset.UtcNow))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        }
    }

    private static bool Stands(ClaimsPrincipal? session, IServiceProvider services, DateTimeOffset now)
    {
        var tokenId = session?.FindFirstValue(TokenIdClaim);
        if (tokenId is null || !long.TryParse(session!.FindFirstValue(SignedInAtClaim), out var ms))
        {
            return false; // a cookie from before sessions carried these: sign in again
        }
        var signedInAt = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        var lifetime = services.GetRequiredService<IOptions<NodeOptions>>().Value.DashboardSessionLifetime;
        if (now - signedInAt >= lifetime || signedInAt > now.AddMinutes(5))
        {
            return false;
        }
        return tokenId == Caller.Operator.TokenId
            ? session!.FindFirstValue(GenerationClaim) == services.GetRequiredService<OperatorToken>().Generation
            : services.GetRequiredService<DelegateTokens>().SessionStands(tokenId, signedInAt);
    }
}
