using System.Text.RegularExpressions;
using Federation.Contracts.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Playwright;

namespace Federation.Dashboard.Tests;

/// <summary>Call-outs after they are published: the issuer's updates, and the recipient's filtered inbox and calendar.</summary>
[Collection(BrowserCollection.Name)]
public sealed class InboxTests(BrowserFixture browser, ThreeRegions nodes) : IClassFixture<ThreeRegions>
{
    private DashboardNode Leeds => nodes.Leeds;
    private DashboardNode York => nodes.York;
    private DashboardNode Glasgow => nodes.Glasgow;

    private static Timestamp InDays(double days) => Timestamp.FromDateTime(DateTime.UtcNow.Date.AddDays(days).AddHours(10));

    private static async Task<CallOutState> PublishAsync(DashboardNode from, string title, string city, ActionType action,
        double? inDays = null, string fightId = "", string talkingPoints = "")
    {
        var content = new CallOutContent
        {
            Title = title,
            Target = new Target { Name = "Acme Lettings" },
            DemandSummary = "Return the deposit",
            Places = { new Place { City = city, Address = "1 High St" } },
            ActionTypes = { action },
            FightId = fightId,
            TalkingPoints = talkingPoints,
        };
        if (inDays is { } d)
        {
            content.WindowStart = InDays(d);
            content.WindowEnd = Timestamp.FromDateTime(InDays(d).ToDateTime().AddHours(2));
        }
        return await from.CallOuts.PublishAsync(content, [], audience: null, CancellationToken.None);
    }

    [Fact]
    public async Task TheIssuerUpdatesACallOutAndTheRecipientSeesWhatChanged()
    {
        var callOut = await PublishAsync(Leeds, "Picket Harbour Estates", "York", ActionType.Picket, inDays: 6, talkingPoints: "Ask for the manager");
        await Eventually.TrueAsync(() => York.CallOuts.List().Any(c => c.Id == callOut.Id), "the call-out to reach york");
        var l = await browser.NewPageAsync();
        var y = await browser.NewPageAsync();
        await l.SignInAsync(Leeds);
        await y.SignInAsync(York);

        await l.GotoAsync(Leeds.Dashboard + "/callouts/" + callOut.Id);
        await l.GetByText("Change what you ask").ClickAsync();
        var form = l.Locator("form", new() { Has = l.GetByRole(AriaRole.Button, new() { Name = "Save the changes" }) });
        // Saved as it is, the form changes nothing, and the node says so.
        await form.GetByRole(AriaRole.Button, new() { Name = "Save the changes" }).ClickAsync();
        Assert.Contains("Nothing changed", await l.RefusalAsync());
        Assert.Empty(Leeds.CallOuts.Get(callOut.Id).Revisions);

        await form.GetByLabel("Talking points").FillAsync("Ask customers to phone head office");
        await form.GetByLabel("Until").FillAsync(InDays(6).ToDateTime().AddHours(4).ToString("yyyy-MM-dd'T'HH:mm"));
        await form.GetByRole(AriaRole.Button, new() { Name = "Save the changes" }).ClickAsync();
        Assert.Contains("The call-out is updated", await l.FlashAsync());
        Assert.Contains("time window, talking points", await l.Locator("#revisions").InnerTextAsync());
        await l.ScreenshotAsync("callout-updated");

        // The recipient sees the new version and what changed, on the call-out and in its inbox.
        await y.ReloadUntilAsync(York.Dashboard + "/callouts/" + callOut.Id, "main", "time window, talking points");
        Assert.Contains("Ask customers to phone head office", await y.Locator("main").InnerTextAsync());
        Assert.Equal(0, await y.GetByRole(AriaRole.Button, new() { Name = "Save the changes" }).CountAsync());
        await y.GotoAsync(York.Dashboard + "/");
        var card = y.Locator("section.card", new() { HasText = "Picket Harbour Estates" });
        await Assertions.Expect(card).ToContainTextAsync("updated");
        await Assertions.Expect(card).ToContainTextAsync("Changed since it was published: time window, talking points");

        // Only the issuer can update: a forged post from the recipient meets the origin's rule, and changes nothing.
        await y.GotoAsync(York.Dashboard + "/callouts/new");
        var csrf = await y.Locator("input[name=__csrf]").First.GetAttributeAsync("value");
        var forged = await y.Context.APIRequest.PostAsync(York.Dashboard + "/callouts/" + callOut.Id + "?handler=Update", new()
        {
            Form = y.Context.APIRequest.CreateFormData().Set("__csrf", csrf!)
                .Set("Form.Title", "Hijacked").Set("Form.Target", "Nobody").Set("Form.Demand", "Nothing"),
        });
        Assert.Equal(422, forged.Status);
        Assert.Contains("only the issuing network can update this call-out", await forged.TextAsync());
        Assert.Equal("Picket Harbour Estates", York.CallOuts.Get(callOut.Id).Content.Title);
        Assert.Single(Leeds.CallOuts.Get(callOut.Id).Revisions);
    }

    [Fact]
    public async Task InboxFiltersNarrowTheListAndKeepTheSoonestWindowFirst()
    {
        var fightId = await Seed.FightWithAsync(Leeds, York);
        var picket = await PublishAsync(Leeds, "Picket Bistro Co, York", "York", ActionType.Picket, inDays: 10);
        var leaflet = await PublishAsync(Leeds, "Leaflet Acme Lettings, Leeds", "Leeds", ActionType.Leafleting, inDays: 3, fightId: fightId);
        var callIn = await PublishAsync(Glasgow, "Call-in day against Harbour Estates", "Glasgow", ActionType.CallInDay);
        var noise = await PublishAsync(Glasgow, "Noise demo at Kelvin Lets", "Glasgow", ActionType.NoiseDemo, inDays: 1);
        await Glasgow.CallOuts.CloseAsync(noise.Id, cancelled: false, "the day has passed", CancellationToken.None);
        await Eventually.TrueAsync(() => York.CallOuts.List().Count(c => c.Id == picket.Id || c.Id == leaflet.Id || c.Id == callIn.Id) == 3
            && York.CallOuts.List().FirstOrDefault(c => c.Id == noise.Id)?.Closed == true, "the call-outs and the close to reach york");
        string[] ours = ["Noise demo at Kelvin Lets", "Leaflet Acme Lettings, Leeds", "Picket Bistro Co, York", "Call-in day against Harbour Estates"];
        var y = await browser.NewPageAsync();
        await y.SignInAsync(York);

        async Task<string[]> ShownAsync(string query)
        {
            await y.GotoAsync(York.Dashboard + "/callouts" + query);
            Assert.Equal(0, await y.Locator(".refusal").CountAsync());
            var titles = await y.Locator("#inbox tbody td[data-label='Call-out']").AllInnerTextsAsync();
            return titles.Where(ours.Contains).ToArray();
        }

        // Unfiltered: soonest window first, those without a window last.
        Assert.Equal(ours, await ShownAsync(""));

        // Through the form, as a person does it.
        await y.GetByText("Filter the inbox").ClickAsync();
        await y.GetByLabel("State").SelectOptionAsync("open");
        await y.GetByRole(AriaRole.Button, new() { Name = "Filter", Exact = true }).ClickAsync();
        Assert.Equal(ours[1..], (await y.Locator("#inbox tbody td[data-label='Call-out']").AllInnerTextsAsync()).Where(ours.Contains));
        Assert.Equal("open", await y.GetByLabel("State").InputValueAsync()); // the form keeps the filter
        await y.ScreenshotAsync("inbox-filter");

        Assert.Equal(["Noise demo at Kelvin Lets"], await ShownAsync("?f.State=closed"));
        Assert.Equal(["Picket Bistro Co, York"], await ShownAsync("?f.City=york"));
        Assert.Equal(["Noise demo at Kelvin Lets", "Call-in day against Harbour Estates"], await ShownAsync("?f.Region=GLASGOW"));
        Assert.Equal(["Leaflet Acme Lettings, Leeds", "Picket Bistro Co, York"], await ShownAsync("?f.Actions=Picket&f.Actions=Leafleting"));
        var from = DateTime.UtcNow.Date.AddDays(2).ToString("yyyy-MM-dd");
        var until = DateTime.UtcNow.Date.AddDays(5).ToString("yyyy-MM-dd");
        Assert.Equal(["Leaflet Acme Lettings, Leeds"], await ShownAsync($"?f.From={from}&f.Until={until}"));
        Assert.Equal(["Leaflet Acme Lettings, Leeds"], await ShownAsync($"?f.Fight={fightId}"));

        // A filter the node cannot read is refused with its reason, and no list is guessed.
        await y.GotoAsync(York.Dashboard + "/callouts?f.From=5th+of+December");
        Assert.Contains("from: '5th of December' is not a date", await y.RefusalAsync());
        await y.GotoAsync(York.Dashboard + $"/callouts?f.From={until}&f.Until={from}");
        Assert.Contains("The date filter ends before it starts", await y.RefusalAsync());
    }

    [Fact]
    public async Task ARecipientPledgesAndDownloadsItsPledgesAsACalendar()
    {
        var callOut = await PublishAsync(Glasgow, "Picket Kelvin Lets", "Glasgow", ActionType.Picket, inDays: 4);
        await Eventually.TrueAsync(() => York.CallOuts.List().Any(c => c.Id == callOut.Id), "the call-out to reach york");
        var y = await browser.NewPageAsync();
        await y.SignInAsync(York);
        await y.GotoAsync(York.Dashboard + "/callouts/" + callOut.Id);
        await y.GetByLabel("When").FillAsync(DateTime.UtcNow.Date.AddDays(4).ToString("yyyy-MM-dd'T'10:30"));
        await y.GetByLabel("Where").FillAsync("Glasgow, 1 High St");
        await y.GetByRole(AriaRole.Button, new() { Name = "Pledge", Exact = true }).ClickAsync();
        Assert.Contains("Your answer (pledged)", await y.FlashAsync());
        await Eventually.TrueAsync(() => York.CallOuts.Get(callOut.Id).Responses.Any(r => r.Network == York.NodeId), "the pledge to be recorded and shared");

        await y.GotoAsync(York.Dashboard + "/callouts");
        var download = await y.RunAndWaitForDownloadAsync(() => y.GetByRole(AriaRole.Link, new() { Name = "Download our pledges (.ics)" }).ClickAsync());
        var ics = await File.ReadAllTextAsync((await download.PathAsync())!);
        Assert.StartsWith("BEGIN:VCALENDAR", ics);
        Assert.Contains("SUMMARY:Picket Kelvin Lets", ics);
        Assert.Matches(new Regex(@"DTSTART[^:\r\n]*:\d{8}T1030"), ics);
    }
}
