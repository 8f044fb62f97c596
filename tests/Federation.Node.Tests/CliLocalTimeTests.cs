using Federation.Contracts.V1;

namespace Federation.Node.Tests;

/// <summary>Local time in solnet (issue 17, item 5): shown and taken in Node:TimeZone; UTC in --json and on the wire.</summary>
public sealed class CliLocalTimeTests
{
    [Fact]
    public async Task TimesAreShownAndTakenInTheNodesZoneAndJsonStaysUtc()
    {
        // Tokyo keeps no summer time, so the nine hours hold whatever the date.
        await using var a = await TestNode.StartAsync("alpha", "--Node:TimeZone", "Asia/Tokyo");
        var draft = await a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Acme deposit fight", Target = new Target { Name = "Acme Lettings" }, Terms = Samples.Terms() }, a.Auth);
        await a.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, a.Auth);

        Assert.Contains("time zone:   Asia/Tokyo", (await Solnet.RunAsync(a.DataDir, "info")).Out);

        // Without Z or an offset, a time is on the node's clocks.
        var local = await Solnet.RunAsync(a.DataDir, "fight", "demand", draft.Id, "--deadline", "2030-06-15T17:00");
        Assert.True(local.ExitCode == 0, local.Error);
        Assert.Contains("deadline 2030-06-15 17:00:00 Asia/Tokyo", local.Out);
        var stored = a.Delegate.GetFight(new GetObjectRequest { Id = draft.Id }, a.Auth).DemandDeadline.ToDateTimeOffset();
        Assert.Equal(new DateTimeOffset(2030, 6, 15, 8, 0, 0, TimeSpan.Zero), stored);
        Assert.Contains("\"demandDeadline\": \"2030-06-15T08:00:00Z\"", (await Solnet.RunAsync(a.DataDir, "fight", "show", draft.Id, "--json")).Out);

        // With Z, it is that instant, shown on the node's clocks.
        var utc = await Solnet.RunAsync(a.DataDir, "fight", "demand", draft.Id, "--deadline", "2030-06-20T00:00:00Z");
        Assert.Contains("deadline 2030-06-20 09:00:00 Asia/Tokyo", utc.Out);
    }
}
