using System.Collections.Concurrent;
using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Storage;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;

namespace Federation.Node.Delivery;

/// <summary>
/// Every call to a peer (delivery, submission, backfill, catch-up) goes through that
/// peer's circuit breaker: one Polly pipeline per peer, keyed by node id, so a dead peer
/// trips only its own breaker and calls to it fail at once instead of each waiting out a
/// deadline. <c>AddStandardResilienceHandler</c> does not work for gRPC clients
/// (https://github.com/dotnet/extensions/issues/4923), hence a registry of our own.
/// </summary>
public sealed class PeerCalls(PeerClients clients, IOptions<NodeOptions> options, ILogger<PeerCalls> log) : IDisposable
{
    private readonly ResiliencePipelineRegistry<string> _pipelines = new();
    // When each open circuit closes again; set and cleared by the breaker's own callbacks.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _openUntil = new();

    /// <summary>
    /// Calls <paramref name="peer"/> through its breaker. Throws the peer's
    /// <see cref="RpcException"/>, or <see cref="BrokenCircuitException"/> when the
    /// breaker is open and no call was made.
    /// </summary>
    public async Task<T> CallAsync<TRequest, T>(
        PeerRecord peer,
        string method,
        TRequest request,
        Func<PeerService.PeerServiceClient, TRequest, CallOptions, AsyncUnaryCall<T>> call,
        CancellationToken ct)
        where TRequest : Google.Protobuf.IMessage
    {
        var pipeline = _pipelines.GetOrAddPipeline(peer.NodeId, (builder, _) => Configure(builder, peer.NodeId, peer.Name));
        // Signed over this request's bytes, with a fresh call id on every attempt.
        return await pipeline.ExecuteAsync(
            async token => await call(clients.For(peer.Address, peer.NodeId), request, clients.Options(peer.NodeId, method, token, request: request)),
            ct);
    }

    /// <summary>
    /// Runs a streaming exchange with <paramref name="peer"/> through its breaker, as
    /// <see cref="CallAsync{T}"/> does for one call.
    /// </summary>
    public async Task<T> ExchangeAsync<T>(
        PeerRecord peer,
        string method,
        Func<PeerService.PeerServiceClient, CallOptions, Task<T>> exchange,
        CancellationToken ct)
    {
        var pipeline = _pipelines.GetOrAddPipeline(peer.NodeId, (builder, _) => Configure(builder, peer.NodeId, peer.Name));
        return await pipeline.ExecuteAsync(
            async token => await exchange(clients.For(peer.Address, peer.NodeId), clients.Options(peer.NodeId, method, token)),
            ct);
    }

    /// <summary>True while the peer's breaker is open: calls to it are not being made.</summary>
    public bool IsOpen(string peerId) => _openUntil.TryGetValue(peerId, out var until) && until > DateTimeOffset.UtcNow;

    /// <summary>
    /// Failures that say the peer is down or broken, which is what the breaker counts.
    /// A refusal means the peer is up and answering; a slow-down is honoured separately.
    /// </summary>
    public static bool IsPeerDown(StatusCode code) => code is StatusCode.Unavailable or StatusCode.DeadlineExceeded
        or StatusCode.Internal or StatusCode.Unknown or StatusCode.Aborted or StatusCode.DataLoss;

    private void Configure(ResiliencePipelineBuilder builder, string peerId, string name) =>
        // See https://www.pollydocs.org/strategies/circuit-breaker.html
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<RpcException>(ex => IsPeerDown(ex.StatusCode)),
            // Calls to one peer are sparse (the database spaces retries out), so judge
            // over a minute: open when at least half of three or more calls failed.
            FailureRatio = 0.5,
            MinimumThroughput = 3,
            SamplingDuration = TimeSpan.FromMinutes(1),
            BreakDuration = options.Value.PeerCircuitBreakDuration,
            OnOpened = args =>
            {
                _openUntil[peerId] = DateTimeOffset.UtcNow + args.BreakDuration;
                log.LogWarning("Circuit to peer {Peer} opened for {Duration} after repeated failures", name, args.BreakDuration);
                return default;
            },
            OnClosed = args =>
            {
                if (_openUntil.TryRemove(peerId, out _))
                {
                    log.LogInformation("Circuit to peer {Peer} closed: it answers again", name);
                }
                return default;
            },
        });

    public void Dispose() => _pipelines.Dispose();
}
