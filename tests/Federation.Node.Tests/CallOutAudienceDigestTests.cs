using System.Text;
using Federation.Contracts.V1;
using Federation.Domain;
using Federation.Node.Peering;
using Microsoft.Extensions.DependencyInjection;
using static Federation.Node.Tests.CallOutSteps;

namespace Federation.Node.Tests;

/// <summary>A call-out names its audience by a digest when every recipient takes that (issue 20 #3, docs/adr/0030).</summary>
public sealed class CallOutAudienceDigestTests
{
    [Fact]
    public async Task EachRecipientsCopyNamesNoOtherRecipientAndAPeerWithoutTheCapabilityGetsTheList()
    {
        var withoutDigest = new LocalProtocol(new SpokenProtocol(Protocol.Current, "0.2.0",
            Protocol.ThisBuild.Where(c => c != Protocol.Capabilities.AudienceDigest).ToHashSet(StringComparer.Ordinal)));
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        await using var d = await TestNode.StartAsync("delta");
        await d.StopAsync();
        d.Customize = builder => builder.Services.AddSingleton(withoutDigest);
        await d.StartAgainAsync();
        await TestNode.PeerAsync(a, b, c, d);

        // Beta and gamma both take a digest: alpha keeps the list, their copies hold the count.
        var published = await PublishAsync(a, null, b, c);
        Assert.Equal(new[] { b.NodeId, c.NodeId }.Order(), published.Recipients.Order());
        Assert.Equal(2u, published.RecipientCount);
        var atB = await ReachedAsync(b, published.Id, 1);
        Assert.Empty(atB.Recipients);
        Assert.Equal((2u, published.RecipientsDigest), (atB.RecipientCount, atB.RecipientsDigest));
        var signed = Encoding.UTF8.GetString(b.Store.LoadEvents(published.Id, 0, 1).Single().Payload);
        Assert.DoesNotContain(c.NodeId, signed);
        Assert.DoesNotContain(b.NodeId, signed);

        // Beta pledges; gamma takes alpha's word that beta was asked, and holds what alpha holds but the list.
        await RespondAsync(b, published.Id, Pledge());
        var atC = await ReachedAsync(c, published.Id, 2);
        Assert.Equal(b.NodeId, atC.Responses.Single().Network);
        var atA = Get(a, published.Id);
        Assert.Equal(EventLog.AsOthersHoldIt(atA), atC);
        Assert.Equal(new[] { b.NodeId, c.NodeId }.Order(), atA.Recipients.Order());
        Assert.True(Ledger.Compare(a, c) is { Clean: true, Expected: 2 });

        // Delta has not said it takes a digest: a call-out to it lists its audience, as before.
        var listed = await PublishAsync(a, null, b, d);
        Assert.Equal(0u, listed.RecipientCount);
        Assert.True(listed.RecipientsDigest.IsEmpty);
        var atD = await ReachedAsync(d, listed.Id, 1);
        Assert.Equal(new[] { b.NodeId, d.NodeId }.Order(), atD.Recipients.Order());
        Assert.Equal(Get(a, listed.Id), atD);
    }
}
