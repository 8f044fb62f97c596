using Federation.Contracts.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Playwright;

namespace Federation.Dashboard.Tests;

/// <summary>Local time (issue 17, item 5): the dashboard shows and takes times in Node:TimeZone; UTC is what travels.</summary>
[Collection(BrowserCollection.Name)]
public sealed class LocalTimeTests(BrowserFixture browser)
{
    [Fact]
    public async Task APledgeIsPickedInTheNetworksOwnTimeInsideTheWindowAndTravelsAsUtc()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        // Tokyo keeps no summer time, so the nine hours hold whatever the date.
        await using var beta = await DashboardNode.StartAsync("beta", timeZone: "Asia/Tokyo");
        await DashboardNode.PeerAsync(alpha, beta);
        var day = DateTime.UtcNow.Date.AddDays(6);
        var callOut = await alpha.CallOuts.PublishAsync(new CallOutContent
        {
            Title = "Picket Kelvin Lets",
            Target = new Target { Name = "Kelvin Lets" },
            DemandSummary = "Return the deposit",
            ActionTypes = { ActionType.Picket, ActionType.Leafleting },
            WindowStart = Timestamp.FromDateTime(day.AddHours(1)),
            WindowEnd = Timestamp.FromDateTime(day.AddHours(3)),
        }, [beta.NodeId], audience: null, CancellationToken.None);
        await Eventually.TrueAsync(() => beta.CallOuts.List().Any(c => c.Id == callOut.Id), "the call-out to reach beta");
        var b = await browser.NewPageAsync();
        await b.SignInAsync(beta);

        // The inbox card says when, in Tokyo's time, and what is asked.
        await b.GotoAsync(beta.Dashboard + "/");
        var card = b.Locator("section.card", new() { HasText = "Picket Kelvin Lets" });
        var d = day.ToString("yyyy-MM-dd");
        await Assertions.Expect(card).ToContainTextAsync($"When: {d} 10:00 Asia/Tokyo – {d} 12:00 Asia/Tokyo");
        await Assertions.Expect(card).ToContainTextAsync("Asked: picket, leafleting");

        // The picker is a date and time picker, limited to the window.
        var when = card.GetByLabel("When");
        Assert.Equal("datetime-local", await when.GetAttributeAsync("type"));
        Assert.Equal($"{d}T10:00", await when.GetAttributeAsync("min"));
        Assert.Equal($"{d}T12:00", await when.GetAttributeAsync("max"));
        await when.FillAsync($"{d}T11:00");
        await card.GetByLabel("Where").FillAsync("Tokyo, 1 Chome");
        await card.GetByRole(AriaRole.Button, new() { Name = "Pledge", Exact = true }).ClickAsync();
        Assert.Contains("Your answer (pledged)", await b.FlashAsync());

        // UTC on the wire: the issuer records 02:00Z.
        await Eventually.TrueAsync(() => alpha.CallOuts.Get(callOut.Id).Responses.Any(r => r.Network == beta.NodeId), "the pledge to reach alpha");
        Assert.Equal($"{d}T02:00Z", alpha.CallOuts.Get(callOut.Id).Responses.Single(r => r.Network == beta.NodeId).Latest.PlannedDate);

        // A time outside the window, posted by hand past the picker, is refused and changes nothing.
        await b.ReloadUntilAsync(beta.Dashboard + "/callouts/" + callOut.Id, "main", $"pledged {d} 11:00 Asia/Tokyo Tokyo, 1 Chome");
        Assert.Contains($"{d} 10:00 Asia/Tokyo", await b.Locator("main").InnerTextAsync());
        var csrf = await b.Locator("input[name=__csrf]").First.GetAttributeAsync("value") ?? "";
        var late = await b.Context.APIRequest.PostAsync(beta.Dashboard + $"/callouts/{callOut.Id}?handler=Respond", new()
        {
            Form = b.Context.APIRequest.CreateFormData().Set("__csrf", csrf).Set("kind", "Pledge").Set("date", $"{d}T13:00").Set("place", "Tokyo"),
        });
        Assert.Equal(422, late.Status);
        Assert.Contains("The pledged time is outside the call-out&#x27;s time window", await late.TextAsync());
        Assert.Equal($"{d}T02:00Z", alpha.CallOuts.Get(callOut.Id).Responses.Single(r => r.Network == beta.NodeId).Latest.PlannedDate);
    }

    [Fact]
    public async Task ANodeWithAnUnknownTimeZoneDoesNotStartAndNamesTheSetting()
    {
        var refused = await Assert.ThrowsAsync<Federation.Core.NodeStartRefusedException>(() => DashboardNode.StartAsync("alpha", timeZone: "Europe/Atlantis"));
        Assert.Contains("Node:TimeZone 'Europe/Atlantis' is not a time zone this machine knows", refused.Message);
    }

    [Fact]
    public async Task TheInboxFiltersWholeDaysAsTheNetworksOwnCityLivesThem()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        await using var beta = await DashboardNode.StartAsync("beta", timeZone: "Asia/Tokyo");
        await DashboardNode.PeerAsync(alpha, beta);
        // 20:00 to 22:00 UTC is the next morning in Tokyo.
        var day = DateTime.UtcNow.Date.AddDays(6);
        var callOut = await alpha.CallOuts.PublishAsync(new CallOutContent
        {
            Title = "Early picket at Kelvin Lets",
            Target = new Target { Name = "Kelvin Lets" },
            DemandSummary = "Return the deposit",
            WindowStart = Timestamp.FromDateTime(day.AddHours(20)),
            WindowEnd = Timestamp.FromDateTime(day.AddHours(22)),
        }, [beta.NodeId], audience: null, CancellationToken.None);
        await Eventually.TrueAsync(() => beta.CallOuts.List().Any(c => c.Id == callOut.Id), "the call-out to reach beta");
        var b = await browser.NewPageAsync();
        await b.SignInAsync(beta);

        // Tokyo's next day holds it; Tokyo's day itself does not (in UTC days it would be the other way round).
        var next = day.AddDays(1).ToString("yyyy-MM-dd");
        await b.GotoAsync($"{beta.Dashboard}/callouts?f.From={next}&f.Until={next}");
        Assert.Contains("Early picket at Kelvin Lets", await b.Locator("#inbox").InnerTextAsync());
        Assert.Contains("Asia/Tokyo", await b.Locator("label[for=f-from]").InnerTextAsync());
        var same = day.ToString("yyyy-MM-dd");
        await b.GotoAsync($"{beta.Dashboard}/callouts?f.From={same}&f.Until={same}");
        Assert.Contains("No call-out matches these filters.", await b.Locator("#inbox-empty").InnerTextAsync());
    }
}
