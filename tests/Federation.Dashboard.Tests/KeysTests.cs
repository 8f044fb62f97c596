using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Core.Storage;
using Federation.Node.Peering;
using Federation.Node.Security;

namespace Federation.Dashboard.Tests;

/// <summary>Issue 16: the operator sees where the network key is, the key in use and the keys revoked; delegates do not.</summary>
[Collection(BrowserCollection.Name)]
public sealed class KeysTests(BrowserFixture browser)
{
    [Fact]
    public async Task TheKeysPageSaysWhereTheNetworkKeyIsAndWhichKeysAreRevoked()
    {
        await using var alpha = await DashboardNode.StartAsync("alpha");
        var page = await browser.NewPageAsync();
        await page.SignInAsync(alpha);
        await page.GotoAsync(alpha.Dashboard + "/keys");
        Assert.Contains("ON THIS SERVER", await page.Locator("#network-key").InnerTextAsync());
        Assert.Contains("solnet network init", await page.Locator("#network-key").InnerTextAsync());
        Assert.Equal("None.", await page.Locator("#no-revoked").InnerTextAsync());
        Assert.Equal(0, await page.Locator("#renewal").CountAsync());

        // What solnet network init and key revoke do, with the network key on the operator's side.
        var identity = alpha.Get<NodeIdentity>();
        using var network = NetworkKey.FromPem(File.ReadAllText(Path.Combine(alpha.DataDir, NodeIdentity.KeyFile)));
        // Certified for 20 days: within the month in which the page asks for a rotation.
        identity.Install(NetworkSignatures.Certify(network, identity.NextPublicKey(), DateTimeOffset.UtcNow, TimeSpan.FromDays(20), 1, ""));
        using var lost = NetworkKey.Create(SignatureAlgorithm.EcdsaP256Sha256);
        await alpha.Get<NodeKeys>().RevokeOwnAsync(NetworkSignatures.Revoke(network, lost.NetworkId, DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow), CancellationToken.None);

        await page.GotoAsync(alpha.Dashboard + "/keys");
        Assert.Contains("kept off this server", await page.Locator("#network-key").InnerTextAsync());
        Assert.Equal(identity.Current.KeyId, await page.Locator("#node-key").InnerTextAsync());
        Assert.Contains(lost.NetworkId, await page.Locator("#revoked").InnerTextAsync());
        Assert.Contains("solnet key rotate", await page.Locator("#renewal").InnerTextAsync());

        // A delegate sees that the page is the operator's, and nothing of it.
        var delegatePage = await browser.NewPageAsync();
        var (token, _) = await alpha.Get<DelegateTokens>().CreateAsync("Sam", Role.Delegate);
        await delegatePage.SignInAsync(alpha, token);
        await delegatePage.GotoAsync(alpha.Dashboard + "/keys");
        Assert.Contains("operators only", await delegatePage.Locator("#operators-only").InnerTextAsync());
        Assert.DoesNotContain(identity.Current.KeyId, await delegatePage.ContentAsync());
    }
}
