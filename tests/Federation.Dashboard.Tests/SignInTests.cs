using Federation.Core.Storage;
using Federation.Node.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Federation.Dashboard.Tests;

/// <summary>Who gets in, and what a signed-in browser cannot be tricked into doing.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SignInTests(BrowserFixture browser)
{
    [Fact]
    public async Task AWrongTokenIsRefusedAndThePagesStayClosed()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        await using var beta = await DashboardNode.StartAsync("beta");
        var page = await browser.NewPageAsync();

        await page.SignInAsync(alpha, token: "not-the-token");
        Assert.Contains("That token is not valid for this node", await page.RefusalAsync());
        // Another node's token is a wrong token here too.
        await page.SignInAsync(alpha, token: beta.Token);
        Assert.Contains("That token is not valid for this node", await page.RefusalAsync());

        var response = await page.GotoAsync(alpha.Dashboard + "/fights");
        Assert.EndsWith("/signin?ReturnUrl=%2Ffights", page.Url);
        Assert.Equal(0, await page.GetByRole(AriaRole.Link, new() { Name = "Fights" }).CountAsync());
        Assert.Equal(200, response!.Status);
    }

    [Fact]
    public async Task SigningInSetsAnHttpOnlyStrictCookieAndSigningOutEndsTheSession()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        var page = await browser.NewPageAsync();

        await page.GotoAsync(alpha.Dashboard + "/fights");
        await page.GetByLabel("Token").FillAsync(alpha.Token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        Assert.EndsWith("/fights", page.Url);

        var cookie = (await page.Context.CookiesAsync()).Single(c => c.Name == $"solnet-{alpha.DashboardPort}");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true }).ClickAsync();
        Assert.Contains("You are signed out", await page.FlashAsync());
        await page.GotoAsync(alpha.Dashboard + "/");
        Assert.Contains("/signin", page.Url);
    }

    [Fact]
    public async Task AFormPostedWithoutTheAntiforgeryTokenIsRefusedAndChangesNothing()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        await using var beta = await DashboardNode.StartAsync("beta");
        await DashboardNode.PeerAsync(alpha, beta);
        var page = await browser.NewPageAsync();
        await page.SignInAsync(alpha);

        // What a forged cross-site form would send: the session cookie, but no antiforgery token.
        var response = await page.Context.APIRequest.PostAsync(alpha.Dashboard + "/callouts/new", new()
        {
            Form = page.Context.APIRequest.CreateFormData()
                .Set("Form.Title", "Forged").Set("Form.Target", "Nobody").Set("Form.Demand", "Nothing"),
        });

        Assert.Equal(400, response.Status);
        Assert.Empty(alpha.CallOuts.List());
    }

    [Fact]
    public async Task ADelegateSignsInWithItsOwnTokenAndTheDashboardEnforcesItsRole()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        await using var beta = await DashboardNode.StartAsync("beta");
        await DashboardNode.PeerAsync(alpha, beta);
        var tokens = alpha.Services.GetRequiredService<DelegateTokens>();
        var (token, record) = await tokens.CreateAsync("Sam", Role.Delegate);
        var page = await browser.NewPageAsync();
        await page.SignInAsync(alpha, token);

        // The form is not offered to a delegate (issue 17, item 4); the page says why.
        await page.GotoAsync(alpha.Dashboard + "/callouts/new");
        Assert.Contains("Organisers only", await page.Locator("#organisers-only").InnerTextAsync());
        Assert.Equal(0, await page.GetByLabel("Title").CountAsync());

        // A forged post (with a valid antiforgery token) still meets the gate: same rule as
        // the gRPC delegate service, same message, same audit trail.
        var csrf = await page.Locator("input[name=__csrf]").First.GetAttributeAsync("value") ?? "";
        var forged = await page.Context.APIRequest.PostAsync(alpha.Dashboard + "/callouts/new", new()
        {
            Form = page.Context.APIRequest.CreateFormData().Set("__csrf", csrf)
                .Set("Form.Title", "Picket Bistro Co, Leeds").Set("Form.Target", "Bistro Co").Set("Form.Demand", "Pay the wages"),
        });
        Assert.Equal(422, forged.Status);
        Assert.Contains("PublishCallOut needs the organiser role", await forged.TextAsync());
        Assert.Empty(alpha.CallOuts.List());
        var audit = alpha.Services.GetRequiredService<IFederationStore>().ListAudit(10);
        Assert.Contains(audit, e => e is { Who: "Sam", Action: "PublishCallOut", Outcome: "PermissionDenied" });

        // A revoked token's session ends at its next request, a page view as much as a form.
        await tokens.RevokeAsync(record.Id);
        await page.GotoAsync(alpha.Dashboard + "/callouts/new");
        Assert.Contains("/signin", page.Url);
        Assert.Equal(0, await page.GetByLabel("Title").CountAsync());
    }
}
