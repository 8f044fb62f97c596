using Federation.Contracts.V1;
using Federation.Domain;

namespace Federation.Node.Tests;

/// <summary>Names, not hex (issue 17, item 6): networks by name, ids by any unique prefix, tables that fit the terminal.</summary>
public sealed class CliNamesAndPrefixesTests
{
    [Fact]
    public async Task AFightIsFoundByTheStartOfItsIdAndItsNetworksAreShownByName()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var fight = await OpenFightAsync(a, "Acme deposit fight");
        var invited = await Solnet.RunAsync(a.DataDir, "fight", "invite", Shown(fight.Id)[..6], "beta");
        Assert.True(invited.ExitCode == 0, invited.Error);

        // The id as the table shows it, and the network by name with its fingerprint, as the dashboard shows it.
        var list = await Solnet.RunAsync(a.DataDir, "fights");
        Assert.Contains(Shown(fight.Id), list.Out);
        Assert.DoesNotContain(fight.Id, list.Out);
        Assert.Contains("alpha (this network)", list.Out);
        var shown = await Solnet.RunAsync(a.DataDir, "fight", "show", Shown(fight.Id)[..5]);
        Assert.True(shown.ExitCode == 0, shown.Error);
        Assert.Contains($"Fight {fight.Id}", shown.Out);
        Assert.Contains("initiator:  alpha (this network)", shown.Out);
        Assert.Contains($"network beta ({Identifiers.ShortFingerprint(b.NodeId)}): invited", shown.Out);

        // A peer by its name, or the start of its fingerprint (dashes or not).
        var byName = await Solnet.RunAsync(a.DataDir, "peer", "show", "beta");
        Assert.True(byName.ExitCode == 0, byName.Error);
        Assert.Contains(b.Identity.Fingerprint, byName.Out);
        var byPrefix = await Solnet.RunAsync(a.DataDir, "peer", "show", b.Identity.Fingerprint[..9]);
        Assert.Contains(b.Identity.Fingerprint, byPrefix.Out);

        // --json and --field keep whole ids for scripts.
        Assert.Equal(fight.Id, (await Solnet.RunAsync(a.DataDir, "fight", "show", Shown(fight.Id), "--field", "id")).Out.Trim());
    }

    [Fact]
    public async Task AnAmbiguousPrefixListsTheCandidatesAndAnUnknownOneSaysSoAndNothingChanges()
    {
        await using var a = await TestNode.StartAsync("alpha");
        var first = await OpenFightAsync(a, "Acme deposit fight");
        var second = await OpenFightAsync(a, "Harbour Estates repairs fight");

        // Every object of one origin starts with the origin's id: four of its digits name both.
        var ambiguous = await Solnet.RunAsync(a.DataDir, "fight", "status", a.NodeId[..4], "escalating");
        Assert.Equal(2, ambiguous.ExitCode);
        Assert.Contains($"'{a.NodeId[..4]}' is the start of 2 fights' ids; type more of the one you mean:", ambiguous.Error);
        Assert.Contains($"{Shown(first.Id)}  Acme deposit fight", ambiguous.Error);
        Assert.Contains($"{Shown(second.Id)}  Harbour Estates repairs fight", ambiguous.Error);

        var unknown = await Solnet.RunAsync(a.DataDir, "fight", "status", "0000abcd", "escalating");
        Assert.Equal(3, unknown.ExitCode);
        Assert.Contains("No fight on this node has an id starting '0000abcd'. `solnet fights` lists them.", unknown.Error);

        var nobody = await Solnet.RunAsync(a.DataDir, "peer", "show", "gamma");
        Assert.Equal(3, nobody.ExitCode);
        Assert.Contains("No peer on this node is called or has a fingerprint starting 'gamma'", nobody.Error);
        Assert.All(a.Delegate.ListFights(new ListFightsRequest(), a.Auth).Fights, f => Assert.Equal(FightStatus.Open, f.Status));

        // Unique, it works; a token is found the same way.
        var moved = await Solnet.RunAsync(a.DataDir, "fight", "status", Shown(first.Id)[..8], "escalating");
        Assert.True(moved.ExitCode == 0, moved.Error);
        var token = await a.Delegate.CreateTokenAsync(new CreateTokenRequest { Holder = "Sam", Role = "delegate" }, a.Auth);
        var revoked = await Solnet.RunAsync(a.DataDir, "token", "revoke", token.Info.Id[..6]);
        Assert.True(revoked.ExitCode == 0, revoked.Error);
        Assert.Contains($"Token {token.Info.Id} (Sam) is revoked", revoked.Out);
    }

    [Fact]
    public async Task TablesFitAHundredColumnTerminalAndLeaveOutWhatCannotFitANarrowerOne()
    {
        await using var a = await TestNode.StartAsync("alpha", "--region", "Leeds");
        await using var b = await TestNode.StartAsync("beta", "--region", "York");
        await TestNode.PeerAsync(a, b);
        await OpenFightAsync(a, "A fight with a long title, as people write them when they are angry about the deposit");
        await a.PublishAsync(b);

        foreach (var command in new[] { "peers", "fights", "callouts", "status" })
        {
            var wide = await Solnet.RunAtWidthAsync(100, a.DataDir, command);
            Assert.True(wide.ExitCode == 0, wide.Error);
            Assert.All(wide.Out.Split('\n'), line => Assert.True(line.Length <= 100, $"{command}: {line.Length} columns: {line}"));
        }
        var fights = await Solnet.RunAtWidthAsync(100, a.DataDir, "fights");
        Assert.Contains("angry", fights.Out);

        // Narrower: the peers table leaves out what `peer show` has, and says so.
        var narrow = await Solnet.RunAtWidthAsync(72, a.DataDir, "peers");
        Assert.All(narrow.Out.Split('\n'), line => Assert.True(line.Length <= 72, $"{line.Length} columns: {line}"));
        Assert.Contains("Left out to fit 72 columns: Capabilities, Protocol", narrow.Out);
        Assert.Contains("beta", narrow.Out);
        Assert.Contains("healthy", narrow.Out);
    }

    /// <summary>How solnet's tables show an object id: the first 12 digits of its local part.</summary>
    private static string Shown(string id) => id[(id.IndexOf('.') + 1)..][..12];

    private static async Task<FightState> OpenFightAsync(TestNode node, string title)
    {
        var draft = await node.Delegate.DraftFightAsync(new DraftFightRequest { Title = title, Target = new Target { Name = "Acme Lettings" }, Terms = Samples.Terms() }, node.Auth);
        return await node.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, node.Auth);
    }
}
