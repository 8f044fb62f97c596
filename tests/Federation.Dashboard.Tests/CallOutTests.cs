using Microsoft.Playwright;

namespace Federation.Dashboard.Tests;

/// <summary>Call-outs and peering, done in a real browser the way a delegate would.</summary>
[Collection(BrowserCollection.Name)]
public sealed class CallOutTests(BrowserFixture browser)
{
    private static async Task AddPeerAsync(IPage page, DashboardNode at, DashboardNode other)
    {
        await page.GotoAsync(at.Dashboard + "/peers");
        await page.GetByLabel("Address").FillAsync(other.Address);
        await page.GetByLabel("Fingerprint").FillAsync(other.Identity.Fingerprint);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add the peer" }).ClickAsync();
        Assert.Contains("The peer is added", await page.FlashAsync());
    }

    [Fact]
    public async Task ACallOutComposedAtOneNodeIsPledgedAtAnotherAndThePledgeShowsBackAtTheFirst()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        await using var beta = await DashboardNode.StartAsync("beta");
        var a = await browser.NewPageAsync();
        var b = await browser.NewPageAsync();
        await a.SignInAsync(alpha);
        await b.SignInAsync(beta);
        await AddPeerAsync(a, alpha, beta);
        await AddPeerAsync(b, beta, alpha);
        await a.ReloadAsync(); // peering became mutual when beta added alpha
        Assert.Contains("up to date", await a.Locator("#peers").InnerTextAsync());

        await a.GotoAsync(alpha.Dashboard + "/callouts/new");
        await a.GetByLabel("Title").FillAsync("Picket Bistro Co, Leeds");
        await a.GetByLabel("Target (boss or landlord)").FillAsync("Bistro Co");
        await a.GetByLabel("What the fight demands").FillAsync("Pay the £2,400 in stolen wages");
        await a.GetByLabel("Places").FillAsync("Leeds | 1 High St");
        await a.GetByLabel("picket", new() { Exact = true }).CheckAsync();
        await a.GetByRole(AriaRole.Button, new() { Name = "Publish the call-out" }).ClickAsync();
        Assert.Contains("The call-out is published", await a.FlashAsync());
        var callOutPage = a.Url;

        // Beta's inbox shows it with a one-step pledge.
        await b.ReloadUntilAsync(beta.Dashboard + "/", "main", "Picket Bistro Co, Leeds");
        // Beta's page of it counts who was asked without naming them: only alpha keeps the list (docs/adr/0030).
        await b.GotoAsync(beta.Dashboard + new Uri(callOutPage).AbsolutePath);
        Assert.Contains("Answers (0 of 1 networks)", await b.Locator("main").InnerTextAsync());
        Assert.Contains("1 more network (only the issuer sees which)", await b.Locator("#answers").InnerTextAsync());
        await b.GotoAsync(beta.Dashboard + "/");
        var card = b.Locator("section.card", new() { HasText = "Picket Bistro Co, Leeds" });
        await Assertions.Expect(card).ToContainTextAsync("not answered");
        await card.GetByLabel("When").FillAsync("2026-12-05T10:00");
        await card.GetByLabel("Where").FillAsync("Leeds, 1 High St");
        await card.GetByRole(AriaRole.Button, new() { Name = "Pledge", Exact = true }).ClickAsync();
        Assert.Contains("Your answer (pledged)", await b.FlashAsync());

        // Alpha records the pledge and shows it as beta's.
        await a.ReloadUntilAsync(callOutPage, "#answers", "pledged 2026-12-05 10:00 UTC Leeds, 1 High St");
        var row = a.Locator("#answers tr", new() { HasText = "pledged" });
        Assert.Contains("beta", await row.InnerTextAsync());
        // Once alpha has recorded it, beta's copy has the answer and its inbox is clear.
        await b.ReloadUntilAsync(beta.Dashboard + "/", "main", "Nothing waits for an answer");
        await a.ScreenshotAsync("callout");
    }

    [Fact]
    public async Task APeerWhoseFingerprintDoesNotMatchIsRefusedWithTheReason()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        await using var beta = await DashboardNode.StartAsync("beta");
        var a = await browser.NewPageAsync();
        await a.SignInAsync(alpha);

        await a.GotoAsync(alpha.Dashboard + "/peers");
        await a.GetByLabel("Address").FillAsync(beta.Address);
        await a.GetByLabel("Fingerprint").FillAsync("0000-0000-0000-0000-0000-0000-0000-0001");
        await a.GetByRole(AriaRole.Button, new() { Name = "Add the peer" }).ClickAsync();

        var refusal = await a.RefusalAsync();
        Assert.Contains($"has fingerprint {beta.Identity.Fingerprint}", refusal);
        Assert.Contains("Nothing was added", refusal);
        Assert.Contains("No peers yet", await a.Locator("main").InnerTextAsync());
    }

    [Fact]
    public async Task ACallOutIsPublicOnTheFediverseOnlyWhenTheBoxIsTickedAndItsPageSaysSo()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha", extra:
            ["--Node:Fediverse:Enabled", "true", "--Node:Fediverse:BaseUrl", "https://solnet.example.org", "--Node:Fediverse:Account", "alpha-solnet"]);
        await using var beta = await DashboardNode.StartAsync("beta");
        await DashboardNode.PeerAsync(alpha, beta);
        var a = await browser.NewPageAsync();
        await a.SignInAsync(alpha);

        async Task<string> PublishAsync(string title, bool makePublic)
        {
            await a.GotoAsync(alpha.Dashboard + "/callouts/new");
            await a.GetByLabel("Title").FillAsync(title);
            await a.GetByLabel("Target (boss or landlord)").FillAsync("Bistro Co");
            await a.GetByLabel("What the fight demands").FillAsync("Pay the wages");
            var box = a.GetByLabel("Also post it publicly as @alpha-solnet@solnet.example.org", new() { Exact = false });
            Assert.False(await box.IsCheckedAsync(), "the public choice is off until ticked");
            if (makePublic)
            {
                await box.CheckAsync();
            }
            await a.GetByRole(AriaRole.Button, new() { Name = "Publish the call-out" }).ClickAsync();
            Assert.Contains("The call-out is published", await a.FlashAsync());
            return a.Url;
        }

        await PublishAsync("Picket Bistro Co, network only", makePublic: false);
        Assert.Equal(0, await a.Locator("#fediverse-public").CountAsync());
        await PublishAsync("Picket Bistro Co, for everyone", makePublic: true);
        Assert.Contains("Public on the fediverse", await a.Locator("#fediverse-public").InnerTextAsync());
        var id = Assert.Single(alpha.Get<Federation.Core.Storage.IFederationStore>().PublicCallOuts()).CallOutId;
        Assert.Equal("Picket Bistro Co, for everyone", alpha.CallOuts.Get(id).Content.Title);

        // A node whose actor is off does not offer the choice.
        var b = await browser.NewPageAsync();
        await b.SignInAsync(beta);
        await b.GotoAsync(beta.Dashboard + "/callouts/new");
        Assert.Equal(0, await b.GetByText("Public on the fediverse").CountAsync());
    }
}
