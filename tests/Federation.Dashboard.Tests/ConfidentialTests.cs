using Federation.Contracts.V1;
using Federation.Core.Commands;
using Federation.Core.Storage;
using Federation.Node.Security;
using Microsoft.Playwright;

namespace Federation.Dashboard.Tests;

/// <summary>A fight's confidential tiers in the dashboard: participants-only briefings, local details, and purging them.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ConfidentialTests(BrowserFixture browser, TwoNodes nodes) : IClassFixture<TwoNodes>
{
    private DashboardNode Alpha => nodes.Alpha;
    private DashboardNode Beta => nodes.Beta;

    [Fact]
    public async Task TheInitiatorPostsABriefingAndTheCommittedNetworkSeesIt()
    {
        var fightId = await Seed.FightWithAsync(Alpha, Beta);
        var a = await browser.NewPageAsync();
        var b = await browser.NewPageAsync();
        await a.SignInAsync(Alpha);
        await b.SignInAsync(Beta);

        await a.GotoAsync(Alpha.Dashboard + "/fights/" + fightId);
        await a.GetByRole(AriaRole.Button, new() { Name = "Post the briefing" }).ClickAsync();
        Assert.Contains("briefing", await a.RefusalAsync());
        Assert.Empty(Alpha.Get<Confidential>().GetBriefings(fightId).Briefings);

        await a.GetByLabel("New briefing").FillAsync("Meet at the letting office at 9; bring the leaflets");
        await a.GetByRole(AriaRole.Button, new() { Name = "Post the briefing" }).ClickAsync();
        Assert.Contains("The briefing is posted", await a.FlashAsync());
        Assert.Contains("Meet at the letting office at 9", await a.Locator("#briefings").InnerTextAsync());

        await b.ReloadUntilAsync(Beta.Dashboard + "/fights/" + fightId, "#briefings", "Meet at the letting office at 9; bring the leaflets");
        // Only the initiator writes the briefings log.
        Assert.Equal(0, await b.GetByRole(AriaRole.Button, new() { Name = "Post the briefing" }).CountAsync());
    }

    [Fact]
    public async Task LocalDetailsStayAtTheInitiatorAndAPurgeDeletesEveryConfidentialDetail()
    {
        var fightId = await Seed.FightWithAsync(Alpha, Beta);
        await Alpha.Get<Confidential>().PostBriefingAsync(fightId, "Leaflets are in the van", CancellationToken.None);
        await Beta.Fights.FileReportAsync(fightId, new FileReport { Kind = ReportKind.Referral, Summary = "Their manager called us" }, CancellationToken.None);
        var a = await browser.NewPageAsync();
        await a.SignInAsync(Alpha);
        await a.ReloadUntilAsync(Alpha.Dashboard + "/fights/" + fightId, "#reports", "Their manager called us");

        await a.GetByLabel("Affected worker or tenant").FillAsync("Jo Bloggs");
        await a.GetByLabel("Contact").FillAsync("07700 900123");
        await a.GetByRole(AriaRole.Button, new() { Name = "Save the local details" }).ClickAsync();
        Assert.Contains("never sent to any other network", await a.FlashAsync());
        Assert.Equal("Jo Bloggs", await a.GetByLabel("Affected worker or tenant").InputValueAsync());
        await a.ScreenshotAsync("fight-confidential");

        // Another network's page of the same fight has no such section, and nothing of the details.
        var b = await browser.NewPageAsync();
        await b.SignInAsync(Beta);
        await b.ReloadUntilAsync(Beta.Dashboard + "/fights/" + fightId, "#briefings", "Leaflets are in the van");
        Assert.Equal(0, await b.Locator("#local-details").CountAsync());
        Assert.DoesNotContain("Jo Bloggs", await b.ContentAsync());

        // A contact too long for its field is refused with the reason, and the saved details stay.
        await a.GetByLabel("Contact").FillAsync(new string('7', 5000));
        await a.GetByRole(AriaRole.Button, new() { Name = "Save the local details" }).ClickAsync();
        Assert.Contains("contact", await a.RefusalAsync());
        Assert.Equal("07700 900123", Alpha.Get<Confidential>().GetLocalDetails(fightId).Contact);

        // The operator purges: local details, briefing texts, referrals and incidents are gone from this node.
        await a.GotoAsync(Alpha.Dashboard + "/fights/" + fightId);
        await a.GetByText("Delete this node's confidential details of the fight now").ClickAsync();
        await a.GetByRole(AriaRole.Button, new() { Name = "Purge now" }).ClickAsync();
        Assert.Contains("confidential details of the fight are deleted", await a.FlashAsync());
        Assert.Equal("", await a.GetByLabel("Affected worker or tenant").InputValueAsync());
        Assert.Contains("no longer holds the briefings' texts", await a.Locator("#briefings-purged").InnerTextAsync());
        Assert.DoesNotContain("Leaflets are in the van", await a.Locator("main").InnerTextAsync());
        Assert.DoesNotContain("Their manager called us", await a.Locator("main").InnerTextAsync());
        Assert.Empty(Alpha.Fights.ListReports(fightId));
    }

    [Fact]
    public async Task ADelegateTokenSeesTheFightButNotItsReferralsLocalDetailsOrPurge()
    {
        var fightId = await Seed.FightWithAsync(Alpha, Beta);
        await Alpha.Get<Confidential>().SetLocalDetailsAsync(fightId, new LocalDetails { AffectedPerson = "Jo Bloggs" }, CancellationToken.None);
        var (token, _) = await Alpha.Get<DelegateTokens>().CreateAsync("Sam", Role.Delegate);
        var page = await browser.NewPageAsync();
        await page.SignInAsync(Alpha, token);

        await page.GotoAsync(Alpha.Dashboard + "/fights/" + fightId);
        var main = await page.Locator("main").InnerTextAsync();
        Assert.Contains("Acme deposit fight", main);
        Assert.Contains("Referrals and incidents are shown to organisers and operators", main);
        Assert.Contains("Local details are shown to organisers and operators", main);
        Assert.DoesNotContain("Jo Bloggs", await page.ContentAsync());
        Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Purge now" }).CountAsync());
        Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Post the briefing" }).CountAsync());
        Assert.Equal(0, await page.Locator(".refusal").CountAsync());
    }
}
