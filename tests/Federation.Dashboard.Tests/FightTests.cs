using Federation.Contracts.V1;
using Microsoft.Playwright;

namespace Federation.Dashboard.Tests;

/// <summary>A joint fight from draft to an accepted invitation, through two dashboards.</summary>
[Collection(BrowserCollection.Name)]
public sealed class FightTests(BrowserFixture browser)
{
    [Fact]
    public async Task AFightIsDraftedOpenedAndItsInvitationAcceptedThroughTheDashboard()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        await using var beta = await DashboardNode.StartAsync("beta");
        await DashboardNode.PeerAsync(alpha, beta);
        var a = await browser.NewPageAsync();
        var b = await browser.NewPageAsync();
        await a.SignInAsync(alpha);
        await b.SignInAsync(beta);

        // A draft with demands only: the terms editor says what is missing.
        await a.GotoAsync(alpha.Dashboard + "/fights/new");
        await a.GetByLabel("Title").FillAsync("Acme deposit fight");
        await a.GetByLabel("Target (boss or landlord)").FillAsync("Acme Lettings");
        await a.GetByLabel("Demands").FillAsync("Return the £900 deposit");
        await a.GetByRole(AriaRole.Button, new() { Name = "Save the draft" }).ClickAsync();
        Assert.Contains("Still missing before the fight can be opened: strategy, facts of the conflict, end conditions",
            await a.Locator("#completeness").InnerTextAsync());

        // Terms first: opening is refused, and the page shows the rule's own words.
        await a.GetByRole(AriaRole.Button, new() { Name = "Open the fight" }).ClickAsync();
        Assert.Contains("Terms first", await a.RefusalAsync());

        await a.GetByLabel("Demands").FillAsync("Return the £900 deposit\nFix the damp");
        await a.GetByLabel("Strategy").FillAsync("Demand letter, then pickets at the letting office");
        await a.GetByLabel("Facts of the conflict").FillAsync("Tenant left in September; deposit withheld without reason");
        await a.GetByLabel("End conditions").FillAsync("Deposit returned in full");
        await a.GetByRole(AriaRole.Button, new() { Name = "Save the terms" }).ClickAsync();
        Assert.Contains("complete", await a.Locator("#completeness").InnerTextAsync());
        await a.GetByRole(AriaRole.Button, new() { Name = "Open the fight" }).ClickAsync();
        Assert.Contains("The fight is open", await a.FlashAsync());
        var fightPage = a.Url;
        var fightId = fightPage[(fightPage.LastIndexOf('/') + 1)..];
        var hash = alpha.Fights.Get(fightId).TermsHash;

        await a.GetByLabel("beta").CheckAsync();
        await a.GetByRole(AriaRole.Button, new() { Name = "Invite", Exact = true }).ClickAsync();
        Assert.Contains("The invitations are on their way", await a.FlashAsync());

        // Beta's inbox offers exactly the current terms version.
        await b.ReloadUntilAsync(beta.Dashboard + "/", "main", "Acme deposit fight");
        var invitation = b.Locator("section.card", new() { HasText = "Acme deposit fight" });
        await Assertions.Expect(invitation).ToContainTextAsync("Demand: Fix the damp");
        await invitation.GetByRole(AriaRole.Button, new() { Name = $"Accept terms version {hash[..12]}" }).ClickAsync();
        Assert.Contains("Your acceptance is on its way", await b.FlashAsync());

        // Recorded at the initiator, and back at beta.
        await a.ReloadUntilAsync(fightPage, "#networks", "committed");
        Assert.Contains("beta", await a.Locator("#networks tr", new() { HasText = "committed" }).InnerTextAsync());
        await b.ReloadUntilAsync(beta.Dashboard + "/fights/" + fightId, ".meta", "our part: committed");
        Assert.Equal(ParticipantState.Committed, alpha.Fights.Get(fightId).Participants.Single(p => p.Network == beta.NodeId).State);
        await a.ScreenshotAsync("fight");
    }

    /// <summary>
    /// Issue 17 #2: the initiator's menu counts what is new since this sign-in's token last
    /// looked (here the acceptance and a referral); the page lists them, and viewing it marks them seen.
    /// </summary>
    [Fact]
    public async Task TheMenuCountsWhatIsNewAndViewingThePageMarksItSeen()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        await using var beta = await DashboardNode.StartAsync("beta");
        await DashboardNode.PeerAsync(alpha, beta);
        var fightId = await Seed.FightWithAsync(alpha, beta);
        await beta.Fights.FileReportAsync(fightId, new FileReport { Kind = ReportKind.Referral, Summary = "The agent rang our office" }, CancellationToken.None);
        var a = await browser.NewPageAsync();
        await a.SignInAsync(alpha);

        await a.ReloadUntilAsync(alpha.Dashboard + "/fights", "#news-link", "What's new (2)");

        await a.Locator("#news-link").ClickAsync();
        var news = await a.Locator("#news").InnerTextAsync();
        Assert.Contains("accepted the invitation to Acme deposit fight", news);
        Assert.Contains("filed a referral (the target contacted them) with you in Acme deposit fight", news);
        Assert.DoesNotContain("The agent rang our office", news);
        Assert.Equal("What's new", (await a.Locator("#news-link").InnerTextAsync()).Trim());

        await a.GotoAsync(alpha.Dashboard + "/news");
        Assert.Equal("Nothing new.", await a.Locator("#nothing-new").InnerTextAsync());
        Assert.Contains("since you last looked", await a.Locator("main").InnerTextAsync());
        await a.ScreenshotAsync("whats-new");
    }

    [Fact]
    public async Task AParticipantPlansAnActionAndDownloadsTheSharedCalendar()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        await using var beta = await DashboardNode.StartAsync("beta");
        await DashboardNode.PeerAsync(alpha, beta);
        var fightId = await Seed.FightWithAsync(alpha, beta);
        var b = await browser.NewPageAsync();
        await b.SignInAsync(beta);

        await b.GotoAsync(beta.Dashboard + "/fights/" + fightId);
        var plan = b.Locator("form", new() { Has = b.GetByRole(AriaRole.Button, new() { Name = "Plan", Exact = true }) });
        await plan.GetByLabel("What").FillAsync("Picket the letting office");
        await plan.GetByLabel("Where").FillAsync("5 Station Rd");
        await plan.GetByLabel("Starts").FillAsync(DateTime.UtcNow.AddDays(3).ToString("yyyy-MM-dd'T'HH:mm"));
        await plan.GetByRole(AriaRole.Button, new() { Name = "Plan", Exact = true }).ClickAsync();
        Assert.Contains("The action is planned", await b.FlashAsync());

        await b.ReloadUntilAsync(beta.Dashboard + "/fights/" + fightId, "#actions", "Picket the letting office");
        var download = await b.RunAndWaitForDownloadAsync(() => b.GetByRole(AriaRole.Link, new() { Name = "Download the shared calendar (.ics)" }).ClickAsync());
        var path = await download.PathAsync();
        var ics = await File.ReadAllTextAsync(path!);
        Assert.StartsWith("BEGIN:VCALENDAR", ics);
        Assert.Contains("Picket the letting office", ics);

        // One voice: the participant has no tools to speak to the target, only to refer.
        Assert.Equal(0, await b.GetByRole(AriaRole.Button, new() { Name = "Record the delivery" }).CountAsync());
        Assert.Equal(1, await b.GetByRole(AriaRole.Button, new() { Name = "File with the initiator" }).CountAsync());
    }

    [Fact]
    public async Task AnAmendmentIsReaffirmedAndTheStandDownAcknowledgedThroughTheDashboard()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        await using var beta = await DashboardNode.StartAsync("beta");
        await DashboardNode.PeerAsync(alpha, beta);
        var fightId = await Seed.FightWithAsync(alpha, beta);
        var a = await browser.NewPageAsync();
        var b = await browser.NewPageAsync();
        await a.SignInAsync(alpha);
        await b.SignInAsync(beta);

        // Changing the terms re-opens consent.
        await a.GotoAsync(alpha.Dashboard + "/fights/" + fightId);
        await a.GetByText("Change the terms").ClickAsync();
        var amend = a.Locator("form", new() { Has = a.GetByRole(AriaRole.Button, new() { Name = "Amend the terms" }) });
        await amend.GetByLabel("Demands").FillAsync("Return the £900 deposit\nFix the damp\nPay £200 compensation");
        await amend.GetByLabel("Why the terms change").FillAsync("the tenant asked us to add compensation");
        await amend.GetByRole(AriaRole.Button, new() { Name = "Amend the terms" }).ClickAsync();
        Assert.Contains("The terms are amended", await a.FlashAsync());
        Assert.Contains("asked to reaffirm", await a.Locator("#networks").InnerTextAsync());
        var amended = alpha.Fights.Get(fightId).TermsHash;

        await b.ReloadUntilAsync(beta.Dashboard + "/fights/" + fightId, "main", "added demand: Pay £200 compensation");
        await b.GetByRole(AriaRole.Button, new() { Name = $"Reaffirm terms version {amended[..12]}" }).ClickAsync();
        Assert.Contains("Your reaffirmation is on its way", await b.FlashAsync());
        await a.ReloadUntilAsync(alpha.Dashboard + "/fights/" + fightId, "#networks", "committed");

        // Shared outcome: the initiator ends it, the participant acknowledges, the initiator sees who has.
        await a.GetByLabel("New status").SelectOptionAsync("Won");
        await a.GetByLabel("Note").First.FillAsync("deposit and compensation paid");
        await a.GetByRole(AriaRole.Button, new() { Name = "Change the status" }).ClickAsync();
        Assert.Contains("The fight is now won", await a.FlashAsync());
        Assert.Contains("Not yet acknowledged by: beta", await a.Locator("main").InnerTextAsync());

        await b.ReloadUntilAsync(beta.Dashboard + "/", "main", "Stand-downs to acknowledge");
        await b.Locator("section.card", new() { HasText = "Acme deposit fight" })
            .GetByRole(AriaRole.Button, new() { Name = "Acknowledge the stand-down" }).ClickAsync();
        Assert.Contains("You acknowledged the stand-down", await b.FlashAsync());

        await a.ReloadUntilAsync(alpha.Dashboard + "/fights/" + fightId, "main", "Acknowledged by: beta");
        Assert.Contains("Not yet acknowledged by: nobody", await a.Locator("main").InnerTextAsync());
    }
}
