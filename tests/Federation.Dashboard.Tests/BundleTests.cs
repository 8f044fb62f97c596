using Federation.Core.Storage;
using Federation.Node.Security;
using Federation.Testing;
using Microsoft.Playwright;

namespace Federation.Dashboard.Tests;

/// <summary>Issue 18 #3: the operator makes a bundle for a peer, the peer's operator imports it and takes the acknowledgement back, all on the dashboard.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BundleTests(BrowserFixture browser)
{
    [Fact]
    public async Task AnOperatorMakesABundleThePeersOperatorImportsItAndTheAcknowledgementComesBack()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        await using var beta = await DashboardNode.StartAsync("beta");
        await DashboardNode.PeerAsync(alpha, beta);
        var callOut = await alpha.CallOuts.PublishAsync(Samples.CallOut(), [beta.NodeId], audience: null, CancellationToken.None);
        var folder = Directory.CreateTempSubdirectory("dashboard-bundle-").FullName;
        try
        {
            var a = await browser.NewPageAsync();
            var b = await browser.NewPageAsync();
            await a.SignInAsync(alpha);
            await b.SignInAsync(beta);

            // Everything alpha shares with beta, delivered or not: the call-out's one event.
            await a.GotoAsync(alpha.Dashboard + "/bundles");
            await a.Locator("#export input[name=everything]").CheckAsync();
            var made = await a.RunAndWaitForDownloadAsync(() => a.GetByRole(AriaRole.Button, new() { Name = "Make the bundle" }).ClickAsync());
            var bundle = Path.Combine(folder, made.SuggestedFilename);
            await made.SaveAsAsync(bundle);
            Assert.EndsWith(".bundle", bundle);

            await b.GotoAsync(beta.Dashboard + "/bundles");
            await b.Locator("#import input[type=file]").SetInputFilesAsync(bundle);
            await b.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();
            var imported = await b.Locator("#imported").InnerTextAsync();
            Assert.Contains("From alpha", imported);
            Assert.Contains("0 refused", imported);
            // Delivered already or carried now, beta holds the call-out exactly once.
            Assert.Matches(@"(1 applied, 0 already held|0 applied, 1 already held)", imported);
            Assert.Equal(1ul, beta.Get<IFederationStore>().GetObject(callOut.Id)!.LastSequence);

            var ack = await b.RunAndWaitForDownloadAsync(() => b.GetByRole(AriaRole.Button, new() { Name = "Download the acknowledgement" }).ClickAsync());
            var ackFile = Path.Combine(folder, ack.SuggestedFilename);
            await ack.SaveAsAsync(ackFile);

            await a.GotoAsync(alpha.Dashboard + "/bundles");
            await a.Locator("#import input[type=file]").SetInputFilesAsync(ackFile);
            await a.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();
            Assert.Contains("From beta", await a.Locator("#imported").InnerTextAsync());

            // The same bundle at the node that made it: refused with the reason, nothing applied.
            await a.Locator("#import input[type=file]").SetInputFilesAsync(bundle);
            await a.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();
            Assert.Contains("not a peer of this node", await a.RefusalAsync());

            // A delegate is told the page is the operator's.
            var sam = await browser.NewPageAsync();
            var (token, _) = await alpha.Get<DelegateTokens>().CreateAsync("Sam", Role.Delegate);
            await sam.SignInAsync(alpha, token);
            await sam.GotoAsync(alpha.Dashboard + "/bundles");
            Assert.Contains("operators only", await sam.Locator("#operators-only").InnerTextAsync());
            Assert.Equal(0, await sam.Locator("#import").CountAsync());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Issue 18 #3: the parts of a large bundle, chosen together on the import page, go one
    /// after another, and the page lists how far it got part by part and which part of the
    /// set it was not given.
    /// </summary>
    [Fact]
    public async Task ThePartsOfALargeBundleChosenTogetherAreListedPartByPartWithThePartNotGiven()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        await using var beta = await DashboardNode.StartAsync("beta");
        await DashboardNode.PeerAsync(alpha, beta);
        var callOut = await alpha.CallOuts.PublishAsync(Samples.CallOut(), [beta.NodeId], audience: null, CancellationToken.None);
        for (var i = 1; i <= 12; i++)
        {
            var content = callOut.Content.Clone();
            content.TalkingPoints = $"Ask customers to phone head office ({i}).";
            await alpha.CallOuts.UpdateAsync(callOut.Id, content, CancellationToken.None);
        }
        // Everything alpha shares with beta, in parts of 4 KiB: delivered or not, the same 13 events.
        var parts = alpha.Get<Federation.Node.Delivery.Bundles>().ExportParts(new Federation.Contracts.V1.ExportBundleRequest
        {
            Peer = beta.NodeId,
            Since = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch),
            PartSize = 4096,
        });
        Assert.True(parts.Count >= 3, $"13 events in parts of 4 KiB: {parts.Count} parts");
        var folder = Directory.CreateTempSubdirectory("dashboard-bundle-parts-").FullName;
        try
        {
            var files = parts.Select(p =>
            {
                var file = Path.Combine(folder, $"beta.part-{p.Part}-of-{p.Parts}.bundle");
                File.WriteAllBytes(file, p.Bundle.ToByteArray());
                return file;
            }).ToList();
            var b = await browser.NewPageAsync();
            await b.SignInAsync(beta);
            await b.GotoAsync(beta.Dashboard + "/bundles");

            // All but the second part, last first.
            await b.Locator("#import input[type=file]").SetInputFilesAsync(files.Where((_, k) => k != 1).Reverse());
            await b.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();
            var listed = await b.Locator("#parts li").AllInnerTextsAsync();
            Assert.Equal(parts.Count - 1, listed.Count);
            Assert.Contains($"part {parts.Count} of {parts.Count}", listed[0]);
            Assert.All(listed, l => Assert.Contains("0 refused", l));
            Assert.Contains("Not among the files chosen: part 2 of this set", await b.Locator("#missing-parts").InnerTextAsync());

            // Then the one missing: beta holds the call-out's whole log, once.
            await b.Locator("#import input[type=file]").SetInputFilesAsync(files[1]);
            await b.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();
            Assert.Contains($"part 2 of {parts.Count}", await b.Locator("#parts").InnerTextAsync());
            Assert.StartsWith("Not among the files chosen: part 1, 3", await b.Locator("#missing-parts").InnerTextAsync());
            await Eventually.TrueAsync(() => beta.Get<IFederationStore>().GetObject(callOut.Id)?.LastSequence == 13, "beta to hold the call-out's 13 events");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
