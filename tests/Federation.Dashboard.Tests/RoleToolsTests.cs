using Federation.Contracts.V1;
using Federation.Core.Storage;
using Federation.Node.Security;
using Microsoft.Playwright;

namespace Federation.Dashboard.Tests;

/// <summary>Each role sees its own tools (issue 17, item 4), and the initiator's fight page is organised by task.</summary>
[Collection(BrowserCollection.Name)]
public sealed class RoleToolsTests(BrowserFixture browser)
{
    [Fact]
    public async Task ADelegateIsNotOfferedTheOrganisersToolsButToldWhy()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        await using var beta = await DashboardNode.StartAsync("beta");
        await DashboardNode.PeerAsync(alpha, beta);
        var fightId = await Seed.FightWithAsync(alpha, beta);
        var (token, _) = await alpha.Get<DelegateTokens>().CreateAsync("Sam", Role.Delegate);
        var sam = await browser.NewPageAsync();
        await sam.SignInAsync(alpha, token);

        // No link to a form that would be refused once filled in; the buttons say why they are off.
        Assert.Equal(0, await sam.GetByRole(AriaRole.Link, new() { Name = "Compose a call-out" }).CountAsync());
        await sam.GotoAsync(alpha.Dashboard + "/callouts");
        Assert.True(await sam.GetByRole(AriaRole.Button, new() { Name = "Compose a call-out" }).IsDisabledAsync());
        Assert.Contains("Organisers only: you are signed in as a delegate", await sam.Locator(".not-allowed").InnerTextAsync());
        await sam.GotoAsync(alpha.Dashboard + "/fights");
        Assert.True(await sam.GetByRole(AriaRole.Button, new() { Name = "Draft a fight" }).IsDisabledAsync());
        Assert.Equal(0, await sam.GetByRole(AriaRole.Link, new() { Name = "Draft a fight" }).CountAsync());

        // Typed in by hand, the forms are not there either.
        foreach (var path in new[] { "/fights/new", "/callouts/new" })
        {
            await sam.GotoAsync(alpha.Dashboard + path);
            Assert.Contains("organisers only", await sam.Locator("#organisers-only").InnerTextAsync());
            Assert.Equal(0, await sam.Locator("main button, main input, main select, main textarea").CountAsync());
        }

        // On the network's own fight: the organisers' controls give way to the reason; a delegate's own tools stay.
        await sam.GotoAsync(alpha.Dashboard + "/fights/" + fightId);
        Assert.Contains("Organisers only", await sam.Locator("#status-not-allowed").InnerTextAsync());
        Assert.Contains("Organisers only", await sam.Locator("#networks-not-allowed").InnerTextAsync());
        Assert.Contains("Organisers only", await sam.Locator("#one-voice-not-allowed").InnerTextAsync());
        foreach (var button in new[] { "Change the status", "Invite", "Record the delivery", "Record", "Amend the terms" })
        {
            Assert.Equal(0, await sam.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).CountAsync());
        }
        Assert.Equal(1, await sam.GetByRole(AriaRole.Button, new() { Name = "Plan", Exact = true }).CountAsync());
        Assert.Equal(0, await sam.Locator(".refusal").CountAsync());
    }

    [Fact]
    public async Task TheInitiatorsFightPageIsOrganisedByTaskAndOffersTheNextSensibleStatusFirst()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        await using var beta = await DashboardNode.StartAsync("beta");
        await DashboardNode.PeerAsync(alpha, beta);
        var fightId = await Seed.FightWithAsync(alpha, beta);
        var a = await browser.NewPageAsync();
        await a.SignInAsync(alpha);
        await a.GotoAsync(alpha.Dashboard + "/fights/" + fightId);

        // An in-page menu, one entry per task, each leading to its section.
        var menu = a.GetByRole(AriaRole.Navigation, new() { Name = "On this page" });
        var links = await menu.GetByRole(AriaRole.Link).AllInnerTextsAsync();
        Assert.Equal(["Overview", "Networks", "One voice", "Actions", "Confidential"], links);
        foreach (var (section, holds) in new[]
        {
            ("#overview", "Change the status"), ("#networks-section", "Invite networks"), ("#one-voice", "Record the delivery"),
            ("#actions-section", "Plan an action of ours"), ("#confidential", "Local details"),
        })
        {
            Assert.Contains(holds, await a.Locator(section).InnerTextAsync());
        }
        await menu.GetByRole(AriaRole.Link, new() { Name = "One voice" }).ClickAsync();
        Assert.EndsWith("#one-voice", a.Url);

        // Open: escalating comes first, not paused (which an open fight cannot even reach).
        var options = await a.Locator("#status option").AllInnerTextsAsync();
        Assert.Equal("escalating", options[0]);
        Assert.DoesNotContain("paused", options);
        await a.GetByRole(AriaRole.Button, new() { Name = "Change the status" }).ClickAsync();
        Assert.Contains("The fight is now escalating", await a.FlashAsync());

        // Escalating: an ending first, pausing last.
        options = await a.Locator("#status option").AllInnerTextsAsync();
        Assert.Equal("won (ends the fight)", options[0]);
        Assert.Equal("paused", options[^1]);
        Assert.Equal(FightStatus.Escalating, alpha.Fights.Get(fightId).Status);
        await a.ScreenshotAsync("fight-initiator");
    }
}
