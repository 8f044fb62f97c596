using Federation.Core.Storage;
using Microsoft.Playwright;

namespace Federation.Dashboard.Tests;

/// <summary>Issue 18 #2: the operator allows a peer to relay for the node on the Peers page, and takes it back.</summary>
[Collection(BrowserCollection.Name)]
public sealed class RelayTests(BrowserFixture browser)
{
    [Fact]
    public async Task AnOperatorAllowsAPeerToRelayOnThePeersPageAndTakesItBack()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        await using var beta = await DashboardNode.StartAsync("beta");
        await DashboardNode.PeerAsync(alpha, beta);
        var a = await browser.NewPageAsync();
        await a.SignInAsync(alpha);

        await a.GotoAsync(alpha.Dashboard + "/peers");
        await a.GetByRole(AriaRole.Button, new() { Name = "Allow beta to relay" }).ClickAsync();
        Assert.Contains("may relay for this node", await a.Locator("#peers").InnerTextAsync());
        Assert.Contains(beta.NodeId, alpha.Get<IFederationStore>().RelayAllowed());

        await a.GetByRole(AriaRole.Button, new() { Name = "Stop beta relaying" }).ClickAsync();
        Assert.DoesNotContain("may relay for this node", await a.Locator("#peers").InnerTextAsync());
        Assert.Empty(alpha.Get<IFederationStore>().RelayAllowed());
    }
}
