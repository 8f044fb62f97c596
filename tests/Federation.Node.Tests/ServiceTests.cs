using Federation.Contracts.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;

namespace Federation.Node.Tests;

/// <summary>What any client sees first: health, reflection, and the token check.</summary>
public sealed class ServiceTests
{
    [Fact]
    public async Task HealthAnswersServing()
    {
        await using var a = await TestNode.StartAsync("alpha");
        using var channel = GrpcChannel.ForAddress(a.Address);

        using var call = new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
        var reply = await call;

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
        // It names the release the node runs.
        Assert.Equal(Federation.Contracts.SoftwareVersion.Number, (await call.ResponseHeadersAsync).GetValue(Hosting.GrpcExtensions.ReleaseHeader));
    }

    [Fact]
    public async Task ReflectionListsBothFederationServices()
    {
        await using var a = await TestNode.StartAsync("alpha");
        using var channel = GrpcChannel.ForAddress(a.Address);
        using var call = new ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();

        Assert.Contains("federation.v1.PeerService", names);
        Assert.Contains("federation.v1.DelegateService", names);
    }

    [Fact]
    public async Task DelegateCallsWithoutATokenAreUnauthenticated()
    {
        await using var a = await TestNode.StartAsync("alpha");

        var ex = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "x", Target = new Target { Name = "y" } }).ResponseAsync);

        Status.Is(StatusCode.Unauthenticated, ex);
        Assert.Contains("operator.token", ex.Status.Detail);
        Assert.Equal(0, a.Store.Count("objects"));
    }

    [Fact]
    public async Task DelegateCallsWithAWrongTokenAreUnauthenticated()
    {
        await using var a = await TestNode.StartAsync("alpha");
        var wrong = new Metadata { { "authorization", "Bearer " + new string('a', 64) } };

        var ex = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "x", Target = new Target { Name = "y" } }, wrong).ResponseAsync);

        Status.Is(StatusCode.Unauthenticated, ex);
        Assert.Equal(0, a.Store.Count("objects"));
    }

    [Fact]
    public async Task AddingAPeerWithTheWrongFingerprintAddsNothing()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        var wrong = "0000" + b.Identity.Fingerprint[4..];

        var ex = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.AddPeerAsync(new AddPeerRequest { Address = b.Address, Fingerprint = wrong }, a.Auth).ResponseAsync);

        Status.Is(StatusCode.FailedPrecondition, ex);
        Assert.Contains(b.Identity.Fingerprint, ex.Status.Detail);
        Assert.Empty(a.Store.ListPeers());
    }

    [Fact]
    public async Task OpeningAFightWithIncompleteTermsIsRefusedAndNothingIsSent()
    {
        await using var a = await TestNode.StartAsync("alpha");
        var draft = await a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Acme", Target = new Target { Name = "Acme" }, Terms = new FightTerms { Demands = { "Pay" } } }, a.Auth);

        var ex = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, a.Auth).ResponseAsync);

        Status.Is(StatusCode.FailedPrecondition, ex);
        Assert.Contains("Terms first", ex.Status.Detail);
        Assert.Equal("terms first", ex.Trailers.GetValue("x-fed-rule"));
        Assert.Equal(0, a.Store.Count("events"));
        Assert.Equal(FightStatus.Draft, a.Delegate.GetFight(new GetObjectRequest { Id = draft.Id }, a.Auth).Status);
    }

    [Fact]
    public async Task AnIdentityKeySurvivesARestart()
    {
        await using var a = await TestNode.StartAsync("alpha");
        var before = a.NodeId;

        await a.StopAsync();
        await a.StartAgainAsync();

        Assert.Equal(before, a.NodeId);
    }
}
