using System.Text;
using Federation.Contracts.V1;
using Federation.Core.Storage;
using Federation.Node.Security;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Node.Tests;

/// <summary>Delegate tokens, roles and the audit log.</summary>
public sealed class SecurityTests
{
    private static async Task<Metadata> TokenAsync(TestNode node, Role role, string holder)
    {
        var (token, _) = await node.Services.GetRequiredService<DelegateTokens>().CreateAsync(holder, role);
        return new Metadata { { "authorization", "Bearer " + token } };
    }

    [Fact]
    public async Task ADelegateCanAnswerButCannotStartACallOut()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var callOut = await a.Delegate.PublishCallOutAsync(new PublishCallOutRequest { Content = Samples.CallOut() }, a.Auth);
        await Eventually.TrueAsync(() => b.Store.GetObject(callOut.Id) is not null, "the call-out to reach beta");
        var sam = await TokenAsync(b, Role.Delegate, "Sam");

        var ex = await Assert.ThrowsAsync<RpcException>(() => b.Delegate.PublishCallOutAsync(new PublishCallOutRequest { Content = Samples.CallOut() }, sam).ResponseAsync);
        await b.Delegate.RespondToCallOutAsync(new RespondToCallOutRequest
        {
            CallOutId = callOut.Id,
            Response = new CallOutResponse { Kind = ResponseKind.Decline, Reason = "busy" },
        }, sam);

        Status.Is(StatusCode.PermissionDenied, ex);
        Assert.Contains("needs the organiser role", ex.Status.Detail);
        Assert.Single(b.Store.ListObjects(ObjectKind.CallOut)); // only alpha's
        await Eventually.TrueAsync(() => a.Delegate.GetCallOut(new GetObjectRequest { Id = callOut.Id }, a.Auth).Responses.Count == 1, "the decline to reach alpha");
    }

    [Fact]
    public async Task AnOrganiserStartsFightsButCannotManagePeers()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        var organiser = await TokenAsync(a, Role.Organiser, "Ana");

        var draft = await a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Acme", Target = new Target { Name = "Acme" } }, organiser);
        var ex = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.AddPeerAsync(new AddPeerRequest { Address = b.Address, Fingerprint = b.Identity.Fingerprint }, organiser).ResponseAsync);

        Assert.Equal(FightStatus.Draft, draft.Status);
        Status.Is(StatusCode.PermissionDenied, ex);
        Assert.Contains("operator role", ex.Status.Detail);
        Assert.Empty(a.Store.ListPeers());
    }

    [Fact]
    public async Task ARevokedTokenStopsWorkingAtOnce()
    {
        await using var a = await TestNode.StartAsync("alpha");
        var tokens = a.Services.GetRequiredService<DelegateTokens>();
        var (token, record) = await tokens.CreateAsync("Lost phone", Role.Organiser);
        var auth = new Metadata { { "authorization", "Bearer " + token } };
        await a.Delegate.GetNodeInfoAsync(new GetNodeInfoRequest(), auth);

        Assert.True(await tokens.RevokeAsync(record.Id));
        var ex = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "x", Target = new Target { Name = "y" } }, auth).ResponseAsync);

        Status.Is(StatusCode.Unauthenticated, ex);
        Assert.Equal(0, a.Store.Count("objects"));
    }

    [Fact]
    public async Task TheAuditLogSaysWhoDidWhatToWhichObjectButNotWhatTheySaid()
    {
        await using var a = await TestNode.StartAsync("alpha");
        var ana = await TokenAsync(a, Role.Organiser, "Ana");
        var sam = await TokenAsync(a, Role.Delegate, "Sam");
        const string Secret = "Tenant Maria Q lives at flat 4";

        var draft = await a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Acme", Target = new Target { Name = "Acme" }, Terms = new FightTerms { Facts = Secret } }, ana);
        await a.Delegate.UpdateDraftTermsAsync(new UpdateDraftTermsRequest { FightId = draft.Id, Terms = Samples.Terms() }, ana);
        await Assert.ThrowsAsync<RpcException>(() => a.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, sam).ResponseAsync);
        await a.Delegate.GetFightAsync(new GetObjectRequest { Id = draft.Id }, ana);

        var log = a.Store.ListAudit(100).Reverse().ToList();
        Assert.Equal(new[] { ("Ana", "DraftFight", "ok"), ("Ana", "UpdateDraftTerms", "ok"), ("Sam", "OpenFight", "PermissionDenied") },
            log.Select(e => (e.Who, e.Action, e.Outcome)));
        Assert.All(log, e => Assert.Equal(draft.Id, e.ObjectId));
        Assert.DoesNotContain(log, e => string.Join("|", e).Contains("Maria", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TokenSecretsAreStoredOnlyAsHashes()
    {
        await using var a = await TestNode.StartAsync("alpha");
        var (token, _) = await a.Services.GetRequiredService<DelegateTokens>().CreateAsync("Sam", Role.Delegate);
        var secret = token.Split('_')[2];
        await a.StopAsync();

        var bytes = Directory.GetFiles(a.DataDir, "node.db*").SelectMany(File.ReadAllBytes).ToArray();

        Assert.True(bytes.Length > 0);
        Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)));
    }
}
