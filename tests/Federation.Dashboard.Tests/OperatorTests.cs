using Federation.Contracts.V1;
using Federation.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Federation.Dashboard.Tests;

/// <summary>The operator's pages (dead letters, peers' state, notifications, tokens), and what other roles see of them.</summary>
[Collection(BrowserCollection.Name)]
public sealed class OperatorTests(BrowserFixture browser, TwoNodes nodes) : IClassFixture<TwoNodes>
{
    private DashboardNode Alpha => nodes.Alpha;
    private DashboardNode Beta => nodes.Beta;

    private static CallOutContent CallOut(string title) => new()
    {
        Title = title,
        Target = new Target { Name = "Bistro Co" },
        DemandSummary = "Pay the £2,400 in stolen wages",
        Places = { new Place { City = "Leeds", Address = "1 High St" } },
    };

    [Fact]
    public async Task AnOperatorSeesADeadLetterWithItsReasonAndReplaysItOnceTheCauseIsFixed()
    {
        var a = await browser.NewPageAsync();
        var b = await browser.NewPageAsync();
        await a.SignInAsync(Alpha);
        await b.SignInAsync(Beta);

        // Beta's operator suspends alpha: beta now refuses whatever alpha sends, for good.
        await b.GotoAsync(Beta.Dashboard + "/peers");
        await b.GetByRole(AriaRole.Button, new() { Name = "Suspend alpha" }).ClickAsync();
        Assert.Contains("The peer is suspended", await b.FlashAsync());
        Assert.Contains("suspended nothing is taken from it", await b.Locator("#peers").InnerTextAsync()); // the badge, then what it means

        var callOut = await Alpha.CallOuts.PublishAsync(CallOut("Picket while suspended"), [Beta.NodeId], audience: null, CancellationToken.None);

        // Alpha parks the refused event where its operator sees it, with beta's reason.
        await a.ReloadUntilAsync(Alpha.Dashboard + "/deadletters", "main", "PermissionDenied");
        // The row names the call-out by its title; its id is only in the title's tooltip.
        var row = a.Locator("#deadletters tbody tr", new() { HasText = "Picket while suspended" });
        Assert.Equal(callOut.Id, await row.Locator(".object-title").GetAttributeAsync("title"));
        await Assertions.Expect(row).ToContainTextAsync("beta");
        await Assertions.Expect(row).ToContainTextAsync("has been suspended by this node's operator");
        // On a phone, the long object id wraps rather than widening the page.
        await a.SetViewportSizeAsync(360, 740);
        var widths = await a.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, window.innerWidth]");
        Assert.True(widths[0] <= widths[1], $"/deadletters is {widths[0]}px wide on a {widths[1]}px screen.");
        await a.ScreenshotAsync("deadletters-phone");
        await a.SetViewportSizeAsync(1100, 900);
        await a.GotoAsync(Alpha.Dashboard + "/peers");
        Assert.Contains("1 dead letter", await a.Locator("#peers").InnerTextAsync());

        // The cause is fixed (beta resumes alpha); the operator replays, and beta gets the call-out.
        await b.GotoAsync(Beta.Dashboard + "/peers");
        await b.GetByRole(AriaRole.Button, new() { Name = "Resume alpha" }).ClickAsync();
        Assert.Contains("The peer is active again", await b.FlashAsync());
        await a.GotoAsync(Alpha.Dashboard + "/deadletters");
        await row.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Replay #") }).ClickAsync();
        Assert.Contains("back in its peer's queue", await a.FlashAsync());
        Assert.Contains("No dead letters", await a.Locator("main").InnerTextAsync());
        await b.ReloadUntilAsync(Beta.Dashboard + "/callouts", "#inbox", "Picket while suspended");

        // Replaying what is no longer there is refused with the reason, and changes nothing.
        var stale = await a.Context.APIRequest.PostAsync(Alpha.Dashboard + "/deadletters?handler=ReplayPeer", new()
        {
            Form = a.Context.APIRequest.CreateFormData().Set("__csrf", await CsrfAsync(a, Alpha)).Set("peer", Beta.NodeId),
        });
        Assert.Equal(422, stale.Status);
        Assert.Contains("There are no dead letters for", await stale.TextAsync());
    }

    [Fact]
    public async Task AnOperatorGivesADelegateATokenAndTheDelegateIsToldOperatorPagesAreForOperatorsOnly()
    {
        var op = await browser.NewPageAsync();
        await op.SignInAsync(Alpha);
        await op.GotoAsync(Alpha.Dashboard + "/tokens");
        await op.GetByLabel("Who it is for").FillAsync("Sam");
        await op.GetByLabel("Role").SelectOptionAsync("delegate");
        await op.GetByRole(AriaRole.Button, new() { Name = "Create the token" }).ClickAsync();
        var shown = await op.Locator("#new-token code").InnerTextAsync();
        Assert.StartsWith("sn_", shown);
        Assert.Contains("Sam", await op.Locator("#tokens").InnerTextAsync());

        var sam = await browser.NewPageAsync();
        await sam.SignInAsync(Alpha, shown);
        Assert.Equal(0, await sam.GetByRole(AriaRole.Link, new() { Name = "Dead letters" }).CountAsync());
        foreach (var path in new[] { "/deadletters", "/notifications", "/tokens" })
        {
            await sam.GotoAsync(Alpha.Dashboard + path);
            Assert.Contains("operators only", await sam.Locator("#operators-only").InnerTextAsync());
            // Nothing to act on in the page (the menu's sign-out is outside <main>).
            Assert.Equal(0, await sam.Locator("main button, main input, main select, main textarea").CountAsync());
        }
        await sam.GotoAsync(Alpha.Dashboard + "/peers");
        Assert.Contains("operators only", await sam.Locator("#operators-only").InnerTextAsync());
        Assert.Equal(0, await sam.GetByRole(AriaRole.Button, new() { Name = "Suspend beta" }).CountAsync());

        // A forged post (with a valid antiforgery token) still meets the gate: same rule, same audit.
        var forged = await sam.Context.APIRequest.PostAsync(Alpha.Dashboard + "/deadletters?handler=ReplayPeer", new()
        {
            Form = sam.Context.APIRequest.CreateFormData().Set("__csrf", await CsrfAsync(sam, Alpha)).Set("peer", Beta.NodeId),
        });
        Assert.Equal(422, forged.Status);
        Assert.Contains("ReplayDeadLetter needs the operator role", await forged.TextAsync());
        var audit = Alpha.Services.GetRequiredService<IFederationStore>().ListAudit(20);
        Assert.Contains(audit, e => e is { Who: "Sam", Action: "ReplayDeadLetter", Outcome: "PermissionDenied" });

        // The operator revokes the token; Sam's next action is refused.
        await op.GetByRole(AriaRole.Button, new() { Name = "Revoke Sam's token" }).ClickAsync();
        Assert.Contains("The token is revoked", await op.FlashAsync());
        Assert.Contains("revoked", await op.Locator("#tokens tr", new() { HasText = "Sam" }).InnerTextAsync());
        Assert.Equal(0, await op.GetByRole(AriaRole.Button, new() { Name = "Revoke Sam's token" }).CountAsync());
    }

    [Fact]
    public async Task AnOperatorAddsWebhooksAndSeesEachDeliveryWithItsState()
    {
        await using var hook = await HookReceiver.StartAsync();
        var a = await browser.NewPageAsync();
        await a.SignInAsync(Alpha);
        await a.GotoAsync(Alpha.Dashboard + "/notifications");

        // A secret too short to sign with is refused with the reason, and nothing is added.
        await a.GetByLabel("URL").FillAsync(hook.Url);
        await a.GetByLabel("Secret").FillAsync("short");
        await a.GetByRole(AriaRole.Button, new() { Name = "Add the webhook" }).ClickAsync();
        Assert.Contains("use at least 16 characters", await a.RefusalAsync());
        Assert.Contains("None yet", await a.Locator("main").InnerTextAsync());
        // So is a kind of notification that does not exist, naming those that do (issue 17 #1).
        await a.GetByLabel("URL").FillAsync(hook.Url);
        await a.GetByLabel("Secret").FillAsync("a-secret-of-thirty-two-characters");
        await a.Locator("#webhook-kinds").FillAsync("standdown");
        await a.GetByRole(AriaRole.Button, new() { Name = "Add the webhook" }).ClickAsync();
        Assert.Contains("the kinds are: invitation, amendment, stand-down", await a.RefusalAsync());
        Assert.Contains("None yet", await a.Locator("main").InnerTextAsync());

        await a.GetByLabel("URL").FillAsync(hook.Url);
        await a.GetByLabel("Secret").FillAsync("a-secret-of-thirty-two-characters");
        await a.Locator("#webhook-kinds").FillAsync("call-out");
        await a.GetByRole(AriaRole.Button, new() { Name = "Add the webhook" }).ClickAsync();
        Assert.Contains("The webhook is added", await a.FlashAsync());
        Assert.Contains("call-out", await a.Locator("#channels tbody tr", new() { HasText = hook.Url }).InnerTextAsync());
        // A receiver that is down: its deliveries wait and say why.
        await a.GetByLabel("URL").FillAsync("http://127.0.0.1:9/down");
        await a.GetByLabel("Secret").FillAsync("a-secret-of-thirty-two-characters");
        await a.Locator("#webhook-kinds").FillAsync("");
        await a.GetByRole(AriaRole.Button, new() { Name = "Add the webhook" }).ClickAsync();
        Assert.Equal(2, await a.Locator("#channels tbody tr").CountAsync());

        // No SMTP server is set: e-mail is refused, saying what to set.
        await a.GetByLabel("E-mail address").FillAsync("delegate@example.org");
        await a.GetByRole(AriaRole.Button, new() { Name = "Add the recipient" }).ClickAsync();
        Assert.Contains("E-mail needs an SMTP server", await a.RefusalAsync());
        Assert.Equal(2, await a.Locator("#channels tbody tr").CountAsync());

        // Beta publishes a call-out to alpha: alpha's channels are told.
        await Beta.CallOuts.PublishAsync(CallOut("Phone blockade of Harbour Estates"), [Alpha.NodeId], audience: null, CancellationToken.None);
        await a.ReloadUntilAsync(Alpha.Dashboard + "/notifications", "#deliveries", "delivered");
        await a.ReloadUntilAsync(Alpha.Dashboard + "/notifications", "#deliveries", "pending");
        var down = a.Locator("#deliveries tbody tr", new() { HasText = "127.0.0.1:9" });
        await Assertions.Expect(down).ToContainTextAsync("published");
        Assert.NotEmpty(await down.Locator("td[data-label='Last error']").InnerTextAsync());
        Assert.StartsWith("sha256=", Assert.Single(hook.Signatures));
        await a.ScreenshotAsync("notifications");

        var removeDown = a.Locator("#channels tbody tr", new() { HasText = "127.0.0.1:9" });
        await removeDown.GetByRole(AriaRole.Button).ClickAsync();
        Assert.Contains("The channel is removed", await a.FlashAsync());
        Assert.Contains("removed", await a.Locator("#channels tbody tr", new() { HasText = "127.0.0.1:9" }).InnerTextAsync());
    }

    [Fact]
    public async Task PublishingToAPeerThatHasNotAddedThisNodeWarnsAndItsDeadLetterShowsTheCallOutsTitle()
    {
        // Fresh nodes: the fixture's pair is mutually peered, and this one must not be.
        await using var leeds = await DashboardNode.StartAsync("leeds");
        await using var york = await DashboardNode.StartAsync("york");
        await leeds.Get<Federation.Node.Peering.PeerDirectory>().AddAsync(york.Address, york.Identity.Fingerprint, CancellationToken.None);
        var a = await browser.NewPageAsync();
        await a.SignInAsync(leeds);

        await a.GotoAsync(leeds.Dashboard + "/callouts/new");
        await a.GetByLabel("Title").FillAsync("Picket Bistro Co, York");
        await a.GetByLabel("Target (boss or landlord)").FillAsync("Bistro Co");
        await a.GetByLabel("What the fight demands").FillAsync("Pay the £2,400 in stolen wages");
        await a.GetByRole(AriaRole.Button, new() { Name = "Publish the call-out" }).ClickAsync();

        // Published all the same, with a warning that names the peer and what to do.
        Assert.Contains("The call-out is published", await a.FlashAsync());
        var warning = await a.Locator(".warning").InnerTextAsync();
        Assert.Contains("york", warning);
        Assert.Contains("has not added this node yet", warning);

        // York refuses it; the dead letter reads by the call-out's title, the id only on hover.
        await a.ReloadUntilAsync(leeds.Dashboard + "/deadletters", "main", "york");
        var what = a.Locator("#deadletters tbody tr td[data-label='What']");
        Assert.Contains("Picket Bistro Co, York", await what.InnerTextAsync());
        Assert.DoesNotContain(leeds.NodeId, await what.InnerTextAsync());
    }

    [Fact]
    public async Task AnActivePeerWhoseCallsFailShowsAsFailingNotAsAGreenActive()
    {
        await using var leeds = await DashboardNode.StartAsync("leeds");
        var york = await DashboardNode.StartAsync("york");
        await DashboardNode.PeerAsync(leeds, york);
        var a = await browser.NewPageAsync();
        await a.SignInAsync(leeds);
        await a.ReloadUntilAsync(leeds.Dashboard + "/peers", "#peers", "up to date");
        var yorkId = york.NodeId;
        await york.DisposeAsync();

        await leeds.CallOuts.PublishAsync(CallOut("Picket while york is down"), [yorkId], audience: null, CancellationToken.None);

        await a.ReloadUntilAsync(leeds.Dashboard + "/peers", "#peers", "last error");
        var health = a.Locator("#peers tbody tr", new() { HasText = "york" }).Locator("td[data-label='Health'] .state");
        Assert.Equal("failing", await health.InnerTextAsync());
        Assert.Contains("bad", await health.GetAttributeAsync("class") ?? "");
        // The suspend card names it the same way: no green "active" for a peer nothing reaches.
        var card = a.Locator("form.card", new() { HasText = "Suspend york" }).Locator(".state");
        Assert.Equal("failing", await card.InnerTextAsync());
    }

    /// <summary>The antiforgery token a signed-in page carries (any of its forms).</summary>
    private static async Task<string> CsrfAsync(IPage page, DashboardNode node)
    {
        await page.GotoAsync(node.Dashboard + "/callouts/new");
        return await page.Locator("input[name=__csrf]").First.GetAttributeAsync("value") ?? "";
    }
}
