using Federation.Contracts.V1;
using Federation.Core.Commands;
using Federation.Core.Storage;
using Federation.Node.Notifications;
using Federation.Node.Security;
using Microsoft.Playwright;

namespace Federation.Dashboard.Tests;

/// <summary>Every page, with data on it: labelled forms, and a layout that fits a phone.</summary>
[Collection(BrowserCollection.Name)]
public sealed class PageTests(BrowserFixture browser)
{
    private static async Task<(DashboardNode Alpha, DashboardNode Beta, string[] AlphaPages, string[] BetaPages)> SceneAsync()
    {
        var alpha = await DashboardNode.StartAsync("alpha");
        var beta = await DashboardNode.StartAsync("beta");
        await DashboardNode.PeerAsync(alpha, beta);
        var fightId = await Seed.FightWithAsync(alpha, beta);
        var draft = await alpha.Fights.DraftAsync("Unfinished draft", new Target { Name = "Bistro Co" }, new FightTerms { Demands = { "Pay the wages" } }, CancellationToken.None);
        await beta.Fights.PlanActionAsync(fightId, new ActionPlan
        {
            What = "Leaflet the customers",
            Place = "1 High St",
            StartsAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow.AddDays(2)),
        }, CancellationToken.None);
        var callOut = await alpha.CallOuts.PublishAsync(new CallOutContent
        {
            Title = "Call-in day against Acme Lettings",
            Target = new Target { Name = "Acme Lettings" },
            DemandSummary = "Return the deposit",
            Places = { new Place { City = "Leeds", Address = "5 Station Rd" } },
        }, [], audience: null, CancellationToken.None);
        await Eventually.TrueAsync(() => beta.CallOuts.List().Any(c => c.Id == callOut.Id), "the call-out to reach beta");
        await Eventually.TrueAsync(() => beta.Fights.Get(fightId).Actions.Count == 1, "beta's action to be recorded");
        await alpha.Get<Confidential>().PostBriefingAsync(fightId, "Meet at the letting office at 9", CancellationToken.None);
        // The operator pages with something on them: a webhook (and its deliveries) and a token.
        await alpha.Get<NotificationChannels>().AddWebhookAsync("http://127.0.0.1:9/hook", "a-secret-of-thirty-two-characters", [], CancellationToken.None);
        await alpha.Get<DelegateTokens>().CreateAsync("Sam", Role.Delegate);
        string[] common =
        [
            "/", "/callouts", "/callouts?f.State=open&f.Actions=Picket", "/callouts/new", "/callouts/" + callOut.Id, "/fights", "/fights/new",
            "/fights/" + fightId, "/peers", "/balance", "/deadletters", "/notifications", "/tokens",
        ];
        return (alpha, beta, [.. common, "/fights/" + draft.Id], common);
    }

    [Fact]
    public async Task EveryFormFieldOnEveryPageHasItsOwnLabel()
    {
        var (alpha, beta, alphaPages, betaPages) = await SceneAsync();
        await using var _ = alpha;
        await using var __ = beta;
        var page = await browser.NewPageAsync();
        await page.GotoAsync(alpha.Dashboard + "/signin");
        await EveryFieldIsLabelledAsync(page, "/signin");

        foreach (var (node, paths) in new[] { (alpha, alphaPages), (beta, betaPages) })
        {
            await page.SignInAsync(node);
            foreach (var path in paths)
            {
                await page.GotoAsync(node.Dashboard + path);
                Assert.Equal(0, await page.Locator(".refusal").CountAsync());
                await EveryFieldIsLabelledAsync(page, $"{node.Name} {path}");
            }
        }
    }

    [Fact]
    public async Task EveryPageFitsAPhoneScreenWithoutSidewaysScrolling()
    {
        var (alpha, beta, alphaPages, betaPages) = await SceneAsync();
        await using var _ = alpha;
        await using var __ = beta;
        var page = await browser.NewPageAsync(new ViewportSize { Width = 360, Height = 740 });

        foreach (var (node, paths) in new[] { (alpha, alphaPages), (beta, betaPages) })
        {
            await page.SignInAsync(node);
            foreach (var path in paths)
            {
                await page.GotoAsync(node.Dashboard + path);
                var widths = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, window.innerWidth]");
                var (content, viewport) = (widths[0], widths[1]);
                Assert.True(content <= viewport, $"{node.Name} {path} is {content}px wide on a {viewport}px screen.");
            }
        }
        await page.GotoAsync(beta.Dashboard + "/");
        await page.ScreenshotAsync("phone-inbox");
    }

    private static async Task EveryFieldIsLabelledAsync(IPage page, string where)
    {
        var fields = page.Locator("input:not([type=hidden]):not([type=submit]), select, textarea");
        var count = await fields.CountAsync();
        for (var i = 0; i < count; i++)
        {
            var id = await fields.Nth(i).GetAttributeAsync("id");
            Assert.False(string.IsNullOrEmpty(id), $"{where}: field {i} ({await fields.Nth(i).GetAttributeAsync("name")}) has no id for a label to name.");
            Assert.Equal(1, await page.Locator($"[id='{id}']").CountAsync());
            Assert.True(await page.Locator($"label[for='{id}']").CountAsync() == 1, $"{where}: field '{id}' has no label.");
        }
    }
}
