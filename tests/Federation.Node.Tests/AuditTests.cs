using Federation.Contracts.V1;
using Federation.Node.Hosting;
using Federation.Node.Security;
using Federation.Testing;
using Grpc.Core;

namespace Federation.Node.Tests;

/// <summary>
/// What the audit log records beyond delegate calls, and that callers with no valid token
/// cannot flood it (issue 15, item 11).
/// </summary>
public sealed class AuditTests
{
    [Fact]
    public async Task SignInsRefusedSignInsAndSignOutsAreAudited()
    {
        var port = Ports.Free();
        await using var a = await TestNode.StartAsync("alpha", o => o.DashboardPort = port);
        var (token, _) = await a.Get<DelegateTokens>().CreateAsync("Sam", Core.Storage.Role.Delegate);

        using var sam = await DashboardClient.SignedInAsync(a, token);
        await sam.PostFormAsync("/", "/signin?handler=SignOut", []);
        using var stranger = new DashboardClient(DashboardClient.AddressOf(a));
        var refused = await stranger.PostFormAsync("/signin", "/signin", new() { ["token"] = "sn_0123456789ab_guess" });

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
        var log = a.Store.ListAudit(10).Reverse().Select(e => (e.Who, e.Action, e.Outcome)).ToList();
        Assert.Equal([("Sam", "SignIn", "ok"), ("Sam", "SignOut", "ok"), ("unauthenticated (127.0.0.1)", "SignIn", "Unauthenticated")], log);
    }

    [Fact]
    public async Task AdminTokenCommandsAreAudited()
    {
        await using var a = await TestNode.StartAsync("alpha");

        Assert.Equal(0, await AdminCommands.RunAsync(["token", "create", "--data", a.DataDir, "--holder", "Sam", "--role", "delegate"]));
        var id = a.Store.ListTokens().Single().Id;
        Assert.Equal(0, await AdminCommands.RunAsync(["token", "list", "--data", a.DataDir]));
        Assert.Equal(0, await AdminCommands.RunAsync(["token", "sign-out", id, "--data", a.DataDir]));
        Assert.Equal(0, await AdminCommands.RunAsync(["token", "revoke", id, "--data", a.DataDir]));
        Assert.Equal(3, await AdminCommands.RunAsync(["token", "revoke", id, "--data", a.DataDir]));
        Assert.Equal(0, await AdminCommands.RunAsync(["token", "rotate-operator", "--data", a.DataDir]));

        var log = a.Store.ListAudit(10).Reverse().ToList();
        Assert.Equal(
            [("token create", id, "ok"), ("token list", null, "ok"), ("token sign-out", id, "ok"), ("token revoke", id, "ok"),
             ("token revoke", id, "NotFound"), ("token rotate-operator", null, "ok")],
            log.Select(e => (e.Action, e.ObjectId, e.Outcome)));
        Assert.All(log, e => Assert.Equal(("operator", $"admin command ({Environment.UserName})"), (e.Role, e.Who)));
    }

    [Fact]
    public async Task RefusalsOfCallersWithNoValidTokenAreSummarisedNotWrittenOneByOne()
    {
        await using var a = await TestNode.StartAsync("alpha");
        var guess = new Metadata { { "authorization", "Bearer sn_0123456789ab_guess" } };
        const int Calls = 400;

        for (var i = 0; i < Calls; i++)
        {
            var ex = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "x", Target = new Target { Name = "y" } }, i % 2 == 0 ? guess : []).ResponseAsync);
            Status.Is(StatusCode.Unauthenticated, ex);
        }
        var during = a.Store.ListAudit(1000);
        await a.Get<RefusalAudit>().FlushAsync(all: true); // what the end of the window (or a stop) writes

        var first = Assert.Single(during);
        Assert.Equal(("unauthenticated (127.0.0.1)", "DraftFight", "Unauthenticated"), (first.Who, first.Action, first.Outcome));
        var log = a.Store.ListAudit(1000).Reverse().ToList();
        Assert.Equal(2, log.Count);
        Assert.Equal("unauthenticated (127.0.0.1)", log[1].Who);
        Assert.StartsWith($"{Calls - 1} more refused since ", log[1].Outcome);
        Assert.Equal(0, a.Store.Count("objects"));
    }
}
