using Grpc.Core;

namespace Federation.Node.Security;

/// <summary>
/// A call's context with a cancellation token of its own, so that the
/// <see cref="DelegateAuthInterceptor"/> can end a stream whose token was revoked, as the
/// client going away would. Everything else is the call's own.
/// </summary>
internal sealed class WatchedCallContext : ServerCallContext
{
    private readonly ServerCallContext inner;
    private readonly CancellationToken cancellation;

    public WatchedCallContext(ServerCallContext inner, CancellationToken cancellation)
    {
        this.inner = inner;
        this.cancellation = cancellation;
        // grpc-dotnet finds the call's HttpContext (to make the service for it) in a context
        // that is not its own under this user-state key (Grpc.AspNetCore's GetHttpContext).
        inner.UserState[HttpContextKey] = inner.GetHttpContext();
    }

    private const string HttpContextKey = "__HttpContext";

    protected override string MethodCore => inner.Method;
    protected override string HostCore => inner.Host;
    protected override string PeerCore => inner.Peer;
    protected override DateTime DeadlineCore => inner.Deadline;
    protected override Metadata RequestHeadersCore => inner.RequestHeaders;
    protected override CancellationToken CancellationTokenCore => cancellation;
    protected override Metadata ResponseTrailersCore => inner.ResponseTrailers;
    protected override AuthContext AuthContextCore => inner.AuthContext;
    protected override IDictionary<object, object> UserStateCore => inner.UserState;

    protected override Status StatusCore
    {
        get => inner.Status;
        set => inner.Status = value;
    }

    protected override WriteOptions? WriteOptionsCore
    {
        get => inner.WriteOptions;
        set => inner.WriteOptions = value;
    }

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => inner.CreatePropagationToken(options);

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => inner.WriteResponseHeadersAsync(responseHeaders);
}
