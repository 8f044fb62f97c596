using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Federation.Contracts.V1;
using Federation.Core.Commands;
using Federation.Core.Storage;
using Federation.Domain;
using Federation.Node.Fediverse;
using Federation.Testing;
using Xunit;

namespace Federation.Node.Tests;

/// <summary>The fediverse actor (issue 19): what it serves, what its inbox takes and refuses, what it sends.</summary>
public sealed class FediverseTests
{
    /// <summary>Values a public call-out carries that must never leave for the fediverse.</summary>
    public static readonly string[] NeverPublic = ["TALKING-POINTS-5e1c", "SAFETY-NOTES-88ab", "CLOSE-REASON-c0de", "PLEDGE-PLACE-4f4f"];

    public static CallOutContent Content(string title = "Picket Bistro Co on Saturday") => new()
    {
        Title = title,
        Target = new Target { Name = "Bistro Co", ParentCompany = "Bistro Holdings" },
        DemandSummary = "Pay the £2,400 in stolen wages",
        Places = { new Place { City = "Leeds", Address = "1 High St" } },
        ActionTypes = { ActionType.Picket, ActionType.Leafleting },
        WindowStart = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(3)),
        WindowEnd = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(3).AddHours(2)),
        TimeZone = "Europe/London",
        TalkingPoints = NeverPublic[0],
        SafetyNotes = NeverPublic[1],
    };

    private static readonly HttpClient Http = new();

    private static async Task<JsonObject> GetJsonAsync(string url)
    {
        var response = await Http.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {url}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    [Fact]
    public async Task WebFingerNodeInfoAndTheActorDescribeTheNetwork()
    {
        await using var node = await FediverseNodes.StartAsync("leeds");
        var b = FediverseNodes.BaseUrl(node);
        var host = new Uri(b).Authority;

        var jrd = await GetJsonAsync($"{b}/.well-known/webfinger?resource=acct:{FediverseNodes.Account}@{host}");
        Assert.Equal($"acct:{FediverseNodes.Account}@{host}", (string?)jrd["subject"]);
        var self = jrd["links"]!.AsArray().Single(l => (string?)l!["rel"] == "self")!;
        Assert.Equal($"{b}/fediverse/actor", (string?)self["href"]);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync($"{b}/.well-known/webfinger?resource=acct:someone-else@{host}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Http.GetAsync($"{b}/.well-known/webfinger")).StatusCode);

        var links = await GetJsonAsync($"{b}/.well-known/nodeinfo");
        var nodeInfo = await GetJsonAsync((string)links["links"]![0]!["href"]!);
        Assert.Equal("2.1", (string?)nodeInfo["version"]);
        Assert.Equal("solnet", (string?)nodeInfo["software"]!["name"]);
        Assert.Contains("activitypub", nodeInfo["protocols"]!.AsArray().Select(p => (string?)p));

        var actor = await GetJsonAsync((string)self["href"]!);
        Assert.Equal("Group", (string?)actor["type"]);
        Assert.Equal(FediverseNodes.Account, (string?)actor["preferredUsername"]);
        var pem = (string)actor["publicKey"]!["publicKeyPem"]!;
        using var rsa = System.Security.Cryptography.RSA.Create();
        rsa.ImportFromPem(pem);
        Assert.Equal(2048, rsa.KeySize);
        Assert.Equal($"{b}/fediverse/inbox", (string?)actor["inbox"]);

        var outbox = await GetJsonAsync((string)actor["outbox"]!);
        Assert.Equal("OrderedCollection", (string?)outbox["type"]);
        Assert.Equal(0, (int)outbox["totalItems"]!);
    }

    [Fact]
    public async Task TheActorIsOffUnlessTurnedOnAndAPublicCallOutIsThenRefused()
    {
        await using var node = await TestNode.StartAsync("plain", o => o.DashboardPort = o.Port + 3000);
        var b = FediverseNodes.BaseUrl(node);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync($"{b}/fediverse/actor")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync($"{b}/.well-known/webfinger?resource=acct:x@127.0.0.1")).StatusCode);

        var ex = await Assert.ThrowsAsync<RuleViolation>(() =>
            node.Get<CallOutCommands>().PublishAsync(Content(), [], null, CancellationToken.None, toFediverse: true));
        Assert.Contains("Node:Fediverse:Enabled", ex.Message);
        Assert.Empty(node.Get<CallOutCommands>().List());
    }

    [Fact]
    public async Task ACallOutStaysOffTheFediverseUnlessMarkedPublic()
    {
        await using var node = await FediverseNodes.StartAsync("leeds");
        await using var peer = await TestNode.StartAsync("york");
        await TestNode.PeerAsync(node, peer);
        using var supporter = new FakeRemoteActor();
        var b = FediverseNodes.BaseUrl(node);
        await FollowAsync(node, supporter);

        var quiet = await node.Get<CallOutCommands>().PublishAsync(Content("Not for the fediverse"), [], null, CancellationToken.None);
        await node.Get<CallOutCommands>().UpdateAsync(quiet.Id, Content("Still not"), CancellationToken.None);

        var outbox = await GetJsonAsync($"{b}/fediverse/outbox");
        Assert.Equal(0, (int)outbox["totalItems"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync($"{b}/fediverse/call-outs/{Federation.Core.Fediverse.FediverseSite.NoteKey(quiet.Id)}")).StatusCode);
        Assert.Equal(0, node.Store.PendingFediverseDeliveries());
        Assert.DoesNotContain(supporter.Received, r => r.Contains("Not for the fediverse") || r.Contains("Still not"));
    }

    [Fact]
    public async Task AFollowIsAcceptedWithASignedAcceptAndUndoEndsIt()
    {
        await using var node = await FediverseNodes.StartAsync("leeds");
        using var supporter = new FakeRemoteActor();
        await FollowAsync(node, supporter);
        var accept = JsonNode.Parse(supporter.Received.Single(r => r.Contains("\"Accept\"")))!;
        Assert.Equal($"{FediverseNodes.BaseUrl(node)}/fediverse/actor", (string?)accept["actor"]);
        Assert.Equal(supporter.Id, (string?)accept["object"]!["actor"]);

        var undo = new JsonObject
        {
            ["id"] = supporter.Id + "/undo/1",
            ["type"] = "Undo",
            ["actor"] = supporter.Id,
            ["object"] = supporter.Follow($"{FediverseNodes.BaseUrl(node)}/fediverse/actor"),
        };
        var response = await supporter.PostAsync(Inbox(node), FakeRemoteActor.Bytes(undo));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Empty(node.Store.FediverseFollowers());
    }

    [Fact]
    public async Task AnUnsignedPostIsRefusedAndChangesNothing()
    {
        await using var node = await FediverseNodes.StartAsync("leeds");
        using var supporter = new FakeRemoteActor();
        var response = await supporter.PostAsync(Inbox(node), FollowBody(node, supporter), sign: false);
        await AssertRefused(node, response, HttpStatusCode.Unauthorized, "not signed");
    }

    [Fact]
    public async Task ABadlySignedPostIsRefusedAndChangesNothing()
    {
        await using var node = await FediverseNodes.StartAsync("leeds");
        using var supporter = new FakeRemoteActor();
        // Signed over one body, carrying another: the digest no longer matches.
        var response = await supporter.PostAsync(Inbox(node), FollowBody(node, supporter), tamper: r =>
            r.Content = new ByteArrayContent(FollowBody(node, supporter)) { Headers = { ContentType = new("application/activity+json") } });
        await AssertRefused(node, response, HttpStatusCode.Unauthorized, "Digest");

        // Digest right, signature made with another key than the one the keyId names.
        using var other = System.Security.Cryptography.RSA.Create(2048);
        response = await supporter.PostAsync(Inbox(node), FollowBody(node, supporter), key: other);
        await AssertRefused(node, response, HttpStatusCode.Unauthorized, "does not verify");
    }

    [Fact]
    public async Task ASignatureFromAKeyNotTheActorsIsRefused()
    {
        await using var node = await FediverseNodes.StartAsync("leeds");
        using var supporter = new FakeRemoteActor("supporter");
        using var impostor = new FakeRemoteActor("impostor");
        // The impostor signs, with its own valid key, a Follow that says it is the supporter's.
        var body = FakeRemoteActor.Bytes(impostor.Follow($"{FediverseNodes.BaseUrl(node)}/fediverse/actor", actor: supporter.Id));
        var response = await impostor.PostAsync(Inbox(node), body);
        await AssertRefused(node, response, HttpStatusCode.Unauthorized, "says it is from");
    }

    [Fact]
    public async Task AnOversizeBodyIsRefused()
    {
        await using var node = await FediverseNodes.StartAsync("leeds");
        using var supporter = new FakeRemoteActor();
        var follow = supporter.Follow($"{FediverseNodes.BaseUrl(node)}/fediverse/actor");
        follow["padding"] = new string('x', 70 * 1024);
        var response = await supporter.PostAsync(Inbox(node), FakeRemoteActor.Bytes(follow));
        await AssertRefused(node, response, HttpStatusCode.RequestEntityTooLarge, "larger than");
    }

    [Fact]
    public async Task AFollowFromAnActorThatCannotBeResolvedIsRefused()
    {
        await using var node = await FediverseNodes.StartAsync("leeds");
        using var supporter = new FakeRemoteActor();
        // Its key and actor at an address where nothing answers.
        var ghost = $"http://127.0.0.1:{Ports.Free()}/users/ghost";
        var body = FakeRemoteActor.Bytes(supporter.Follow($"{FediverseNodes.BaseUrl(node)}/fediverse/actor", actor: ghost));
        var response = await supporter.PostAsync(Inbox(node), body, keyId: ghost + "#main-key");
        await AssertRefused(node, response, HttpStatusCode.Unauthorized, "could not be checked");
    }

    [Fact]
    public async Task AFollowerOnAPrivateAddressIsNotDialledUnlessAllowed()
    {
        await using var node = await FediverseNodes.StartAsync("leeds", more: o => o.Fediverse.AllowPrivateAddresses = false);
        using var supporter = new FakeRemoteActor();
        var response = await supporter.PostAsync(Inbox(node), FollowBody(node, supporter));
        await AssertRefused(node, response, HttpStatusCode.Unauthorized, "https");
    }

    [Fact]
    public async Task PublishingUpdatingClosingAndPurgingReachFollowersInOrder()
    {
        await using var node = await FediverseNodes.StartAsync("leeds");
        await using var peer = await TestNode.StartAsync("york");
        await TestNode.PeerAsync(node, peer);
        using var supporter = new FakeRemoteActor();
        await FollowAsync(node, supporter);
        var callOuts = node.Get<CallOutCommands>();

        var published = await callOuts.PublishAsync(Content(), [], null, CancellationToken.None, toFediverse: true);
        await callOuts.UpdateAsync(published.Id, Content("Picket Bistro Co on Sunday instead"), CancellationToken.None);
        await callOuts.CloseAsync(published.Id, cancelled: true, NeverPublic[2], CancellationToken.None);
        Assert.True(await node.Get<Confidential>().PurgeCallOutAsync(published.Id, CancellationToken.None));

        await Eventually.TrueAsync(() => supporter.Received.Count >= 5, "the Accept, Create, two Updates and the Delete arrive");
        var types = supporter.Received.Select(r => (string?)JsonNode.Parse(r)!["type"]).ToList();
        Assert.Equal(["Accept", "Create", "Update", "Update", "Delete"], types);
        var bodies = supporter.Received.ToList();
        Assert.Contains("Picket Bistro Co on Saturday", bodies[1]);
        Assert.Contains("Sunday instead", bodies[2]);
        Assert.Contains("CANCELLED", bodies[3]);
        Assert.Contains(Federation.Core.Fediverse.FediverseSite.NoteKey(published.Id), bodies[4]);
        // Purged: gone from the outbox and its Note.
        Assert.Equal(0, (int)(await GetJsonAsync($"{FediverseNodes.BaseUrl(node)}/fediverse/outbox"))["totalItems"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync($"{FediverseNodes.BaseUrl(node)}/fediverse/call-outs/{Federation.Core.Fediverse.FediverseSite.NoteKey(published.Id)}")).StatusCode);
    }

    [Fact]
    public async Task NoResponseOrDeliveryCarriesAFieldThatIsNotPublic()
    {
        await using var node = await FediverseNodes.StartAsync("leeds");
        await using var peer = await TestNode.StartAsync("york");
        await TestNode.PeerAsync(node, peer);
        using var supporter = new FakeRemoteActor();
        await FollowAsync(node, supporter);
        var callOuts = node.Get<CallOutCommands>();
        var b = FediverseNodes.BaseUrl(node);

        var published = await callOuts.PublishAsync(Content(), [peer.NodeId], null, CancellationToken.None, toFediverse: true);
        await Eventually.TrueAsync(() => peer.Get<CallOutCommands>().List().Any(c => c.Id == published.Id), "the peer receives the call-out");
        await peer.Get<CallOutCommands>().RespondAsync(published.Id,
            new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "Saturday", Place = NeverPublic[3] }, CancellationToken.None);
        await Eventually.TrueAsync(() => callOuts.Get(published.Id).Responses.Count == 1, "the pledge reaches the issuer");
        await callOuts.UpdateAsync(published.Id, Content("Picket Bistro Co, now on Sunday"), CancellationToken.None);
        await callOuts.CloseAsync(published.Id, cancelled: false, NeverPublic[2], CancellationToken.None);
        await Eventually.TrueAsync(() => supporter.Received.Count >= 4, "the Accept, Create and two Updates arrive");

        var seen = new List<(string What, string Body)>();
        foreach (var url in new[]
        {
            $"{b}/.well-known/webfinger?resource=acct:{FediverseNodes.Account}@{new Uri(b).Authority}",
            $"{b}/.well-known/nodeinfo", $"{b}/nodeinfo/2.1", $"{b}/fediverse/actor", $"{b}/fediverse/outbox",
            $"{b}/fediverse/outbox?page=1", $"{b}/fediverse/followers", $"{b}/fediverse/call-outs/{Federation.Core.Fediverse.FediverseSite.NoteKey(published.Id)}",
        })
        {
            seen.Add((url, await Http.GetStringAsync(url)));
        }
        // The post's link, as a person's browser opens it: a page with the same public fields.
        using (var page = new HttpRequestMessage(HttpMethod.Get, $"{b}/fediverse/call-outs/{Federation.Core.Fediverse.FediverseSite.NoteKey(published.Id)}"))
        {
            page.Headers.Accept.ParseAdd("text/html");
            var html = await (await Http.SendAsync(page)).Content.ReadAsStringAsync();
            Assert.Contains("<!doctype html>", html);
            Assert.Contains("now on Sunday", html);
            seen.Add(("the post's page", html));
        }
        seen.AddRange(supporter.Received.Select(r => ("delivery", r)));
        Assert.Contains(seen, s => s.Body.Contains("Bistro Co") && s.Body.Contains("1 High St"));

        var state = callOuts.Get(published.Id);
        var forbidden = NeverPublic.Concat([peer.NodeId, node.NodeId, "Saturday\",", state.Recipients.Single()]).ToList();
        foreach (var (what, body) in seen)
        {
            foreach (var secret in forbidden)
            {
                Assert.False(body.Contains(secret, StringComparison.Ordinal), $"{what} carries '{secret}': {body}");
            }
        }
    }

    [Fact]
    public async Task SolnetPublishesPublicOnlyWhenAskedAndSaysSo()
    {
        await using var node = await FediverseNodes.StartAsync("leeds");
        await using var plain = await TestNode.StartAsync("york");
        await TestNode.PeerAsync(node, plain);
        string[] callOut = ["callout", "publish", "--title", "Picket Bistro Co", "--target", "Bistro Co", "--demand", "Pay the wages"];

        var quiet = await Solnet.RunAsync(node.DataDir, [.. callOut]);
        Assert.True(quiet.ExitCode == 0, quiet.Error);
        Assert.DoesNotContain("public:", quiet.Out);
        var loud = await Solnet.RunAsync(node.DataDir, [.. callOut, "--public"]);
        Assert.True(loud.ExitCode == 0, loud.Error);
        Assert.Contains("public:  posted to this node's fediverse followers", loud.Out);
        var id = Assert.Single(node.Store.PublicCallOuts()).CallOutId;
        var shown = await Solnet.RunAsync(node.DataDir, "callout", "show", id);
        Assert.Contains("public:  posted to this node's fediverse followers", shown.Out);
        var info = await Solnet.RunAsync(node.DataDir, "info");
        Assert.Contains($"fediverse:   @{FediverseNodes.Account}@127.0.0.1:{node.Port + 3000}, 0 following, 1 public call-outs", info.Out);
        Assert.Contains("0 to deliver, 0 given up", info.Out);
        Assert.All(info.Out.Split('\n'), line => Assert.True(line.Length <= 100, $"wider than 100 columns: {line}"));
        Assert.DoesNotContain("fediverse:", (await Solnet.RunAsync(plain.DataDir, "info")).Out);

        // A node whose actor is off refuses --public, saying why, and publishes nothing.
        var refused = await Solnet.RunAsync(plain.DataDir, [.. callOut, "--public"]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Node:Fediverse:Enabled", refused.Error);
        Assert.DoesNotContain(plain.Get<CallOutCommands>().List(), c => c.OriginNode == plain.NodeId);
    }

    private static string Inbox(TestNode node) => $"{FediverseNodes.BaseUrl(node)}/fediverse/inbox";

    private static byte[] FollowBody(TestNode node, FakeRemoteActor actor) =>
        FakeRemoteActor.Bytes(actor.Follow($"{FediverseNodes.BaseUrl(node)}/fediverse/actor"));

    private static async Task FollowAsync(TestNode node, FakeRemoteActor supporter)
    {
        var response = await supporter.PostAsync(Inbox(node), FollowBody(node, supporter));
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        Assert.Equal(supporter.Id, Assert.Single(node.Store.FediverseFollowers()).ActorId);
        await Eventually.TrueAsync(() => supporter.Received.Any(r => r.Contains("\"Accept\"")), "the Accept arrives");
    }

    private static async Task AssertRefused(TestNode node, HttpResponseMessage response, HttpStatusCode status, string because)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Contains(because, text);
        Assert.Empty(node.Store.FediverseFollowers());
        Assert.Equal(0, node.Store.PendingFediverseDeliveries());
    }
}
