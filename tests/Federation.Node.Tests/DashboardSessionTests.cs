using Federation.Contracts.V1;
using Federation.Core.Storage;
using Federation.Node.Security;
using Federation.Testing;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Node.Tests;

/// <summary>
/// A dashboard session stands only while its token does (issue 15, item 1): page views
/// check the token as forms do, sessions have an absolute lifetime, the operator token can
/// be replaced, a token can be signed out everywhere, and reads of confidential details are
/// audited.
/// </summary>
public sealed class DashboardSessionTests
{
    private const string Tenant = "Maria Quinlan";

    private static Task<TestNode> StartAsync(Action<Core.NodeOptions>? configure = null)
    {
        var port = Ports.Free();
        return TestNode.StartAsync("alpha", o =>
        {
            o.DashboardPort = port;
            configure?.Invoke(o);
        });
    }

    /// <summary>An open fight of this node whose local details name the tenant.</summary>
    private static async Task<string> FightWithLocalDetailsAsync(TestNode a)
    {
        var draft = await a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Deposit", Target = new Target { Name = "Acme Lettings" }, Terms = Samples.Terms() }, a.Auth);
        await a.Delegate.SetLocalDetailsAsync(new SetLocalDetailsRequest { FightId = draft.Id, Details = new LocalDetails { AffectedPerson = Tenant } }, a.Auth);
        await a.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, a.Auth);
        return draft.Id;
    }

    private static async Task<(string Token, TokenRecord Record)> TokenAsync(TestNode a, Role role, string holder) =>
        await a.Services.GetRequiredService<DelegateTokens>().CreateAsync(holder, role);

    [Fact]
    public async Task ARevokedOrganisersSessionStopsShowingLocalDetailsAtTheNextPageView()
    {
        await using var a = await StartAsync();
        var fight = await FightWithLocalDetailsAsync(a);
        var (token, record) = await TokenAsync(a, Role.Organiser, "Ana");
        using var ana = await DashboardClient.SignedInAsync(a, token);
        Assert.Contains(Tenant, await ana.PageAsync("/fights/" + fight));

        await a.Delegate.RevokeTokenAsync(new RevokeTokenRequest { Id = record.Id }, a.Auth);

        var response = await ana.GetAsync("/fights/" + fight);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("/signin", response.Headers.Location!.ToString());
        Assert.DoesNotContain(Tenant, await response.Content.ReadAsStringAsync());
        Assert.True(await ana.SentToSignInAsync("/"), "the session is over, not only for that page");
    }

    [Fact]
    public async Task ASessionEndsAtItsLifetimeHoweverBusyItIs()
    {
        await using var a = await StartAsync(o => o.DashboardSessionLifetime = TimeSpan.FromSeconds(3));
        var (token, _) = await TokenAsync(a, Role.Delegate, "Sam");
        using var sam = await DashboardClient.SignedInAsync(a, token);
        Assert.False(await sam.SentToSignInAsync("/"));

        // In use all the time (each request would slide an idle timeout on), it still ends.
        await Eventually.UntilAsync(() => sam.SentToSignInAsync("/"), TimeSpan.FromSeconds(20), "the session to end at its lifetime");
    }

    [Fact]
    public async Task RotatingTheOperatorTokenEndsEveryOperatorSessionAndTheOldTokenStopsWorking()
    {
        await using var a = await StartAsync();
        var old = a.Auth;
        using var browser = await DashboardClient.SignedInAsync(a, OperatorTokenOf(a));
        Assert.False(await browser.SentToSignInAsync("/tokens"));

        var rotated = await a.Delegate.RotateOperatorTokenAsync(new RotateOperatorTokenRequest(), old);

        Assert.True(await browser.SentToSignInAsync("/tokens"));
        Assert.Equal(rotated.Token, OperatorTokenOf(a));
        var refused = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.GetNodeInfoAsync(new GetNodeInfoRequest(), old).ResponseAsync);
        Status.Is(StatusCode.Unauthenticated, refused);
        var fresh = new Metadata { { "authorization", "Bearer " + rotated.Token } };
        await a.Delegate.GetNodeInfoAsync(new GetNodeInfoRequest(), fresh);
        using var again = await DashboardClient.SignedInAsync(a, rotated.Token);
        Assert.False(await again.SentToSignInAsync("/tokens"));
        Assert.Contains(a.Store.ListAudit(20), e => e is { Who: "operator", Action: "RotateOperatorToken", Outcome: "ok" });
    }

    [Fact]
    public async Task SigningATokenOutEverywhereEndsItsSessionsOnlyAndTheTokenStillWorks()
    {
        await using var a = await StartAsync();
        var (samToken, sam) = await TokenAsync(a, Role.Delegate, "Sam");
        var (anaToken, _) = await TokenAsync(a, Role.Delegate, "Ana");
        using var samPhone = await DashboardClient.SignedInAsync(a, samToken);
        using var samLaptop = await DashboardClient.SignedInAsync(a, samToken);
        using var ana = await DashboardClient.SignedInAsync(a, anaToken);

        await a.Delegate.EndTokenSessionsAsync(new EndTokenSessionsRequest { Id = sam.Id }, a.Auth);

        Assert.True(await samPhone.SentToSignInAsync("/"));
        Assert.True(await samLaptop.SentToSignInAsync("/"));
        Assert.False(await ana.SentToSignInAsync("/"));
        using var samAgain = await DashboardClient.SignedInAsync(a, samToken);
        Assert.False(await samAgain.SentToSignInAsync("/"));
    }

    [Fact]
    public async Task TheHolderSignsTheirOwnTokenOutEverywhereFromTheDashboard()
    {
        await using var a = await StartAsync();
        var (token, _) = await TokenAsync(a, Role.Delegate, "Sam");
        using var phone = await DashboardClient.SignedInAsync(a, token);
        using var laptop = await DashboardClient.SignedInAsync(a, token);

        var response = await laptop.PostFormAsync("/", "/signin?handler=SignOutEverywhere", []);

        Assert.Equal(System.Net.HttpStatusCode.Redirect, response.StatusCode);
        Assert.True(await phone.SentToSignInAsync("/"));
        Assert.True(await laptop.SentToSignInAsync("/"));
        Assert.Contains(a.Store.ListAudit(20), e => e is { Who: "Sam", Action: "SignOutEverywhere", Outcome: "ok" });
    }

    [Fact]
    public async Task ReadsOfLocalDetailsReportsAndBriefingsAreAuditedOverGrpcAndInTheDashboard()
    {
        await using var a = await StartAsync();
        var fight = await FightWithLocalDetailsAsync(a);
        var (token, _) = await TokenAsync(a, Role.Organiser, "Ana");
        var ana = new Metadata { { "authorization", "Bearer " + token } };

        await a.Delegate.GetLocalDetailsAsync(new GetObjectRequest { Id = fight }, ana);
        await a.Delegate.ListReportsAsync(new GetObjectRequest { Id = fight }, ana);
        await a.Delegate.GetBriefingsAsync(new GetObjectRequest { Id = fight }, ana);
        var overGrpc = a.Store.ListAudit(100).Where(e => e.Who == "Ana").Select(e => (e.Action, e.ObjectId, e.Outcome)).ToList();
        var before = a.Store.ListAudit(1)[0].Id;

        using var browser = await DashboardClient.SignedInAsync(a, token);
        Assert.Contains(Tenant, await browser.PageAsync("/fights/" + fight));
        var inDashboard = a.Store.ListAudit(100).Where(e => e.Id > before && e.Who == "Ana" && e.Action != "SignIn")
            .Select(e => (e.Action, e.ObjectId, e.Outcome)).ToList();

        (string, string?, string)[] reads = [("GetLocalDetails", fight, "ok"), ("ListReports", fight, "ok"), ("GetBriefings", fight, "ok")];
        Assert.Equal(reads.Order(), overGrpc.Order());
        Assert.Equal(reads.Order(), inDashboard.Order());
        // Who looked, at which fight: never what they saw.
        Assert.DoesNotContain(a.Store.ListAudit(100), e => string.Join("|", e).Contains(Tenant, StringComparison.Ordinal));
    }

    private static string OperatorTokenOf(TestNode a) => File.ReadAllText(Path.Combine(a.DataDir, "operator.token")).Trim();
}
