using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Federation.Core.Commands;
using Federation.Testing;
using Xunit;

namespace Federation.Node.Tests;

/// <summary>
/// The actor against an independent implementation: Fedify (tests/fediverse-interop,
/// pinned in its package-lock.json, installed by tests/run.sh) plays a supporter's server.
/// It finds the network by WebFinger, reads its outbox, follows it, and checks the
/// signature of every activity the node sends it.
/// </summary>
public sealed class FediverseInteropTests
{
    private static string Project => Path.Combine(Built.Root, "tests", "fediverse-interop");

    [Fact]
    public async Task FedifyFindsTheNetworkFollowsItAndVerifiesEveryActivity()
    {
        Assert.True(Directory.Exists(Path.Combine(Project, "node_modules", "@fedify", "fedify")),
            $"Fedify is not installed in {Project}: run `npm ci` there (tests/run.sh does).");
        await using var node = await FediverseNodes.StartAsync("leeds", https: true);
        await using var peer = await TestNode.StartAsync("york", "--tls");
        await TestNode.PeerAsync(node, peer);
        var callOuts = node.Get<CallOutCommands>();
        var before = await callOuts.PublishAsync(FediverseTests.Content("Picket Bistro Co on Saturday"), [], null, CancellationToken.None, toFediverse: true);
        await callOuts.PublishAsync(FediverseTests.Content("A call-out for peers only"), [], null, CancellationToken.None);

        var lines = new BlockingCollection<JsonObject>();
        var log = new ConcurrentQueue<string>();
        var acct = $"acct:{FediverseNodes.Account}@127.0.0.1:{node.Port + 3000}";
        var start = new ProcessStartInfo("node", ["interop.mjs", acct])
        {
            WorkingDirectory = Project,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // The test node's certificate is its own self-signed one.
            Environment = { ["NODE_TLS_REJECT_UNAUTHORIZED"] = "0", ["NODE_NO_WARNINGS"] = "1" },
        };
        using var fedify = Process.Start(start)!;
        fedify.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                lines.CompleteAdding();
                return;
            }
            log.Enqueue(e.Data);
            if (e.Data.StartsWith('{'))
            {
                lines.Add(JsonNode.Parse(e.Data)!.AsObject());
            }
        };
        fedify.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue("stderr: " + e.Data); };
        fedify.BeginOutputReadLine();
        fedify.BeginErrorReadLine();
        try
        {
            JsonObject Next(string step)
            {
                if (!lines.TryTake(out var line, TimeSpan.FromSeconds(60)))
                {
                    throw new Xunit.Sdk.XunitException($"Fedify said nothing for a minute while the test waited for '{step}':\n{string.Join('\n', log)}");
                }
                Assert.True((string?)line["step"] == step, $"expected step '{step}', Fedify said: {line.ToJsonString()}\n{string.Join('\n', log)}");
                return line;
            }

            var actor = Next("actor");
            Assert.Equal($"https://127.0.0.1:{node.Port + 3000}/fediverse/actor", (string?)actor["id"]);
            Assert.Equal("Group", (string?)actor["type"]);
            Assert.Equal((string?)actor["id"], (string?)actor["keyOwner"]);
            Assert.Equal("RSASSA-PKCS1-v1_5", (string?)actor["keyAlgorithm"]);

            var outbox = Next("outbox");
            Assert.Equal(1, (int)outbox["totalItems"]!);
            var post = outbox["posts"]!.AsArray().Single()!;
            Assert.Equal("Note", (string?)post["type"]);
            Assert.Contains("Picket Bistro Co on Saturday", (string?)post["content"]);
            Assert.DoesNotContain("peers only", outbox.ToJsonString());
            Assert.Contains(Federation.Core.Fediverse.FediverseSite.NoteKey(before.Id), (string?)post["id"]);

            Assert.Equal(202, (int)Next("like")["status"]!);
            Assert.Equal(202, (int)Next("follow")["status"]!);
            var accept = Next("received");
            Assert.Equal("Accept", (string?)accept["type"]);
            Assert.True((bool)accept["verified"]!, "Fedify could not verify the Accept's signature");
            Assert.Equal((string?)actor["id"], (string?)accept["signerOwner"]);
            Next("ready");
            Assert.Single(node.Store.FediverseFollowers());

            var published = await callOuts.PublishAsync(FediverseTests.Content("Noise demo at Bistro Co HQ"), [], null, CancellationToken.None, toFediverse: true);
            await callOuts.UpdateAsync(published.Id, FediverseTests.Content("Noise demo at Bistro Co HQ, moved to 6pm"), CancellationToken.None);

            var create = Next("received");
            Assert.Equal("Create", (string?)create["type"]);
            Assert.True((bool)create["verified"]!, "Fedify could not verify the Create's signature");
            Assert.Equal("Note", (string?)create["objectType"]);
            Assert.Contains("Noise demo at Bistro Co HQ", (string?)create["content"]);
            var update = Next("received");
            Assert.Equal("Update", (string?)update["type"]);
            Assert.True((bool)update["verified"]!, "Fedify could not verify the Update's signature");
            Assert.Contains("moved to 6pm", (string?)update["content"]);
            Assert.Equal((string?)create["objectId"], (string?)update["objectId"]);

            Assert.Equal(202, (int)Next("undo")["status"]!);
            Next("done");
            Assert.Empty(node.Store.FediverseFollowers());

            // Every body Fedify saw: nothing that is not public.
            var everything = string.Join('\n', log);
            foreach (var secret in FediverseTests.NeverPublic.Concat([node.NodeId, peer.NodeId]))
            {
                Assert.DoesNotContain(secret, everything);
            }
            Assert.True(fedify.WaitForExit(30_000), "Fedify's script did not end");
            Assert.Equal(0, fedify.ExitCode);
        }
        finally
        {
            if (!fedify.HasExited)
            {
                fedify.Kill(entireProcessTree: true);
            }
        }
    }
}
