using Federation.Contracts.V1;
using Federation.Core.Commands;
using Federation.Core.Storage;
using Microsoft.Playwright;

namespace Federation.Dashboard.Tests;

/// <summary>Issue 24: the operator sets the storage key up, locks it in a panic and unlocks it, from the dashboard.</summary>
[Collection(BrowserCollection.Name)]
public sealed class StorageTests(BrowserFixture browser)
{
    [Fact]
    public async Task AnOperatorSealsTheNodeLocksItInAPanicAndUnlocksIt()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        var draft = await alpha.Fights.DraftAsync("Bistro wages", new Target { Name = "Bistro Co" }, Seed.Terms(), CancellationToken.None);
        await alpha.Fights.OpenAsync(draft.Id, CancellationToken.None);
        await alpha.Get<Confidential>().SetLocalDetailsAsync(draft.Id, new LocalDetails { AffectedPerson = "Jo Bloggs", Contact = "07700 900777" }, CancellationToken.None);
        await alpha.Get<Confidential>().PostBriefingAsync(draft.Id, "Meet behind the launderette", CancellationToken.None);

        var page = await browser.NewPageAsync();
        await page.SignInAsync(alpha);
        await page.GotoAsync(alpha.Dashboard + "/storage");
        Assert.Contains("NOT SEALED", await page.Locator("#storage-state").InnerTextAsync());

        await page.FillAsync("#new-passphrase", "quarry velvet anchor");
        await page.FillAsync("#again", "quarry velvet anchor");
        await page.ClickAsync("#create");
        Assert.Contains("The storage key is set up", await page.FlashAsync());
        Assert.Contains("sealed at rest, unlocked", await page.Locator("#storage-state").InnerTextAsync());
        // Its network key is still on the server: no recovery wrap, and the page says what to do.
        Assert.Contains("Not recoverable through the network key yet", await page.Locator("#storage-recovery").InnerTextAsync());
        Assert.True(Core.Sealing.StorageVault.IsSealed(alpha.Get<IFederationStore>().GetLocalDetails(draft.Id)), "the details already stored are sealed in place");
        await page.ScreenshotAsync("storage");

        await page.ClickAsync("#lock");
        Assert.Contains("Locked", await page.FlashAsync());
        await page.GotoAsync(alpha.Dashboard + "/fights/" + draft.Id);
        Assert.Contains("The node is locked", await page.Locator("#locked").InnerTextAsync());
        // The participants-only tier too (adr/0025): the briefings wait for the unlock.
        Assert.Contains("The node is locked", await page.Locator("#briefings-locked").InnerTextAsync());
        Assert.DoesNotContain("launderette", await page.ContentAsync());

        await page.GotoAsync(alpha.Dashboard + "/storage");
        await page.FillAsync("#passphrase", "not it at all");
        await page.ClickAsync("#unlock");
        Assert.Contains("Wrong passphrase", await page.RefusalAsync());
        await page.FillAsync("#passphrase", "quarry velvet anchor");
        await page.ClickAsync("#unlock");
        Assert.Contains("Unlocked", await page.FlashAsync());
        await page.GotoAsync(alpha.Dashboard + "/fights/" + draft.Id);
        Assert.Equal("07700 900777", await page.InputValueAsync("#local-contact"));
        Assert.Contains("Meet behind the launderette", await page.Locator("#briefings").InnerTextAsync());
    }
}
