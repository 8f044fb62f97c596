using Federation.Contracts.V1;
using Federation.Core.Storage;
using Federation.Node.Security;
using Federation.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Node.Tests;

/// <summary>
/// Every delegate-service method, of every call type, needs a valid token of its role, for
/// as long as the call lasts (issue 15, items 7 and 18).
/// </summary>
public sealed class DelegateAuthTests
{
    private static Metadata Bearer(string token) => new() { { "authorization", "Bearer " + token } };

    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(b => b, b => b);

    /// <summary>Calls <paramref name="method"/> with an empty request, whatever its type, and returns the status it ends with.</summary>
    private static async Task<StatusCode> CallAsync(GrpcChannel channel, Google.Protobuf.Reflection.MethodDescriptor method, Metadata headers)
    {
        var type = (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (false, true) => MethodType.ServerStreaming,
            (true, false) => MethodType.ClientStreaming,
            (true, true) => MethodType.DuplexStreaming,
        };
        var call = new Method<byte[], byte[]>(type, method.Service.FullName, method.Name, Raw, Raw);
        var invoker = channel.CreateCallInvoker();
        var options = new CallOptions(headers, DateTime.UtcNow.AddSeconds(30));
        try
        {
            switch (type)
            {
                case MethodType.Unary:
                    await invoker.AsyncUnaryCall(call, null, options, []).ResponseAsync;
                    break;
                case MethodType.ServerStreaming:
                    using (var s = invoker.AsyncServerStreamingCall(call, null, options, []))
                    {
                        while (await s.ResponseStream.MoveNext(CancellationToken.None))
                        {
                        }
                    }
                    break;
                case MethodType.ClientStreaming:
                    using (var c = invoker.AsyncClientStreamingCall(call, null, options))
                    {
                        await c.RequestStream.CompleteAsync();
                        await c.ResponseAsync;
                    }
                    break;
                default:
                    using (var d = invoker.AsyncDuplexStreamingCall(call, null, options))
                    {
                        await d.RequestStream.CompleteAsync();
                        while (await d.ResponseStream.MoveNext(CancellationToken.None))
                        {
                        }
                    }
                    break;
            }
            return StatusCode.OK;
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }

    [Fact]
    public async Task EveryDelegateMethodNeedsATokenAndAtLeastItsRole()
    {
        await using var a = await TestNode.StartAsync("alpha");
        var tokens = a.Services.GetRequiredService<DelegateTokens>();
        var below = new Dictionary<Role, string>();
        foreach (var role in new[] { Role.Delegate, Role.Organiser })
        {
            below[role + 1] = (await tokens.CreateAsync($"a {role}", role)).Token;
        }
        var (revoked, record) = await tokens.CreateAsync("revoked", Role.Operator);
        await tokens.RevokeAsync(record.Id);
        using var channel = GrpcChannel.ForAddress(a.Address);

        var wrong = new List<string>();
        var methods = DelegateService.Descriptor.Methods;
        foreach (var method in methods)
        {
            void Expect(StatusCode expected, StatusCode got, string with)
            {
                if (got != expected)
                {
                    wrong.Add($"{method.Name} {with}: {got}, not {expected}");
                }
            }
            Expect(StatusCode.Unauthenticated, await CallAsync(channel, method, []), "with no token");
            Expect(StatusCode.Unauthenticated, await CallAsync(channel, method, Bearer("sn_000000000000_" + new string('0', 48))), "with an unknown token");
            Expect(StatusCode.Unauthenticated, await CallAsync(channel, method, Bearer(revoked)), "with a revoked token");
            var needed = DelegateRoles.For(method.Name);
            if (below.TryGetValue(needed, out var lower))
            {
                Expect(StatusCode.PermissionDenied, await CallAsync(channel, method, Bearer(lower)), $"with a {DelegateRoles.Name(needed - 1)} token");
            }
        }

        Assert.Empty(wrong);
        Assert.Contains(methods, m => m.IsServerStreaming); // SubscribeInbox is among them
    }

    /// <summary>
    /// DelegateService has no client-streaming or duplex method today; the interceptor must
    /// check one the day it gets one, not pass it through.
    /// </summary>
    [Fact]
    public async Task TheInterceptorChecksStreamingCallsOfEveryKind()
    {
        await using var a = await TestNode.StartAsync("alpha");
        var interceptor = ActivatorUtilities.CreateInstance<DelegateAuthInterceptor>(a.Services);
        var (delegateToken, _) = await a.Services.GetRequiredService<DelegateTokens>().CreateAsync("Sam", Role.Delegate);
        var ran = new List<string>();
        // A method missing from the role table needs the operator.
        const string Future = "/federation.v1.DelegateService/WatchEverything";

        foreach (var (headers, expected) in new[] { (new Metadata(), StatusCode.Unauthenticated), (Bearer(delegateToken), StatusCode.PermissionDenied) })
        {
            var context = new TestCallContext(Future, headers);
            var clientStreaming = await Assert.ThrowsAsync<RpcException>(() => interceptor.ClientStreamingServerHandler<string, string>(
                new NoRequests(), context, (_, _) => { ran.Add("client streaming"); return Task.FromResult(""); }));
            var duplex = await Assert.ThrowsAsync<RpcException>(() => interceptor.DuplexStreamingServerHandler<string, string>(
                new NoRequests(), new NoResponses(), context, (_, _, _) => { ran.Add("duplex"); return Task.CompletedTask; }));
            var serverStreaming = await Assert.ThrowsAsync<RpcException>(() => interceptor.ServerStreamingServerHandler<string, string>(
                "", new NoResponses(), context, (_, _, _) => { ran.Add("server streaming"); return Task.CompletedTask; }));
            var unary = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>(
                "", context, (_, _) => { ran.Add("unary"); return Task.FromResult(""); }));

            Assert.All(new[] { clientStreaming, duplex, serverStreaming, unary }, ex => Status.Is(expected, ex));
        }
        Assert.Empty(ran);
    }

    [Fact]
    public async Task AnInboxSubscriptionEndsWhenItsTokenIsRevoked()
    {
        await using var a = await TestNode.StartAsync("alpha");
        var tokens = a.Services.GetRequiredService<DelegateTokens>();
        var (token, record) = await tokens.CreateAsync("Sam", Role.Delegate);
        using var call = a.Delegate.SubscribeInbox(new SubscribeInboxRequest(), Bearer(token), DateTime.UtcNow.AddSeconds(60));
        await call.ResponseHeadersAsync; // the subscription is in place

        await a.Delegate.RevokeTokenAsync(new RevokeTokenRequest { Id = record.Id }, a.Auth);

        var ended = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Status.Is(StatusCode.Unauthenticated, ended);
        Assert.Contains("revoked", ended.Status.Detail);
    }

    [Fact]
    public async Task AnInboxSubscriptionEndsWhenTheOperatorTokenIsReplacedOutsideTheNode()
    {
        // The admin command runs in a process of its own: the node finds out by checking again.
        await using var a = await TestNode.StartAsync("alpha", o => o.TokenRecheckInterval = TimeSpan.FromMilliseconds(200));
        using var call = a.Delegate.SubscribeInbox(new SubscribeInboxRequest(), a.Auth, DateTime.UtcNow.AddSeconds(60));
        await call.ResponseHeadersAsync;

        Assert.Equal(0, await Hosting.AdminCommands.RunAsync(["token", "rotate-operator", "--data", a.DataDir]));

        var ended = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Status.Is(StatusCode.Unauthenticated, ended);
    }

    private sealed class NoRequests : IAsyncStreamReader<string>
    {
        public string Current => "";

        public Task<bool> MoveNext(CancellationToken cancellationToken) => Task.FromResult(false);
    }

    private sealed class NoResponses : IServerStreamWriter<string>
    {
        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(string message) => Task.CompletedTask;
    }

    /// <summary>A call's context as the server sees it, for a method the service does not have yet.</summary>
    private sealed class TestCallContext(string method, Metadata headers) : ServerCallContext
    {
        protected override string MethodCore => method;
        protected override string HostCore => "127.0.0.1";
        protected override string PeerCore => "ipv4:127.0.0.1:40000";
        protected override DateTime DeadlineCore => DateTime.MaxValue;
        protected override Metadata RequestHeadersCore => headers;
        protected override CancellationToken CancellationTokenCore => CancellationToken.None;
        protected override Metadata ResponseTrailersCore { get; } = [];
        protected override global::Grpc.Core.Status StatusCore { get; set; }
        protected override WriteOptions? WriteOptionsCore { get; set; }
        protected override AuthContext AuthContextCore => new(null, []);

        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();

        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}
