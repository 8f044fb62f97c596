using System.Net;
using System.Text.RegularExpressions;
using Federation.Demo;
using Microsoft.Playwright;

namespace Federation.Dashboard.Tests;

/// <summary>The README's one-command demo: what it prints is what a newcomer can open.</summary>
[Collection(BrowserCollection.Name)]
public sealed class DemoTests(BrowserFixture browser)
{
    [Fact]
    public async Task TheDemoPrintsThreeDashboardsWhoseTokensSignInAndGlasgowHasItsInvitationWaiting()
    {
        var root = Directory.CreateTempSubdirectory("fed-demo-").FullName;
        try
        {
            await RunAsync(root);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private async Task RunAsync(string root)
    {
        await using var demo = new DemoFederation(root, FreeBasePort());
        await demo.StartAsync();
        await demo.SeedAsync();

        var printed = demo.Describe();
        var dashboards = Regex.Matches(printed, @"^\s+(\w+)\s+(http://\S+)\s+token (\w+)$", RegexOptions.Multiline);
        Assert.Equal(["leeds", "bristol", "glasgow"], dashboards.Select(m => m.Groups[1].Value));

        var glasgow = dashboards.Single(m => m.Groups[1].Value == "glasgow");
        // 1000 px wide: the README's screenshot (docs/dashboard-inbox.png) is taken here.
        var page = await browser.NewPageAsync(new ViewportSize { Width = 1000, Height = 900 });
        await page.GotoAsync(glasgow.Groups[2].Value + "signin");
        await page.GetByLabel("Token").FillAsync(glasgow.Groups[3].Value);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        var inbox = await page.Locator("main").InnerTextAsync();
        Assert.Contains("Acme deposit fight", inbox);
        Assert.Contains("Phone blockade of Harbour Estates", inbox);
        Assert.Contains("Picket Bistro Co's Leeds branch", inbox);
        Assert.Contains("Changed since it was published: talking points", inbox);
        await page.ScreenshotAsync("dashboard-inbox");
    }

    /// <summary>A base port whose three gRPC ports and three dashboard ports (+3000) are all free just now.</summary>
    private static int FreeBasePort()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var basePort = Random.Shared.Next(20_000, 29_000);
            int[] ports = [basePort, basePort + 1, basePort + 2, basePort + 3000, basePort + 3001, basePort + 3002];
            if (ports.All(Ports.Bindable))
            {
                return basePort;
            }
        }
        throw new InvalidOperationException("No free range of ports for the demo.");
    }
}
