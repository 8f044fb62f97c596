using System.Globalization;
using System.Threading.RateLimiting;
using Federation.Core;
using Federation.Node.Grpc;
using Microsoft.Extensions.Options;

namespace Federation.Node.Security;

/// <summary>
/// Token buckets per peer and per delegate token, applied after authentication so a
/// caller cannot spend someone else's budget. Over the limit: RESOURCE_EXHAUSTED with a
/// <c>retry-after-ms</c> trailer, which this node's own delivery honours when it gets one.
/// </summary>
public sealed class RateLimits : IDisposable
{
    private readonly PartitionedRateLimiter<string> _peers;
    private readonly PartitionedRateLimiter<string> _tokens;
    private readonly PartitionedRateLimiter<string> _verifications;
    private readonly int _verificationBurst;

    public RateLimits(IOptions<NodeOptions> options)
    {
        var o = options.Value;
        _peers = Buckets(o.PeerRequestsPerSecond);
        _tokens = Buckets(o.DelegateRequestsPerSecond);
        _verifications = Buckets(o.PeerVerificationsPerSecond);
        _verificationBurst = o.PeerVerificationsPerSecond * 2;
    }

    private static PartitionedRateLimiter<string> Buckets(int perSecond) => PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = perSecond * 2, // a burst of two seconds' worth
            TokensPerPeriod = perSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public void ForPeer(string nodeId) => Take(_peers, nodeId, "this peer");

    public void ForToken(string tokenId) => Take(_tokens, tokenId, "this token");

    /// <summary>
    /// Charges <paramref name="count"/> signature checks to the peer before any is done. A
    /// batch larger than the whole burst is charged the burst: it waits for a full bucket.
    /// </summary>
    public void ForVerifications(string nodeId, int count) =>
        Take(_verifications, nodeId, "this peer: it asks for more signature checks than this node allows one peer", Math.Clamp(count, 1, _verificationBurst));

    private static void Take(PartitionedRateLimiter<string> limiter, string key, string who, int permits = 1)
    {
        using var lease = limiter.AttemptAcquire(key, permits);
        if (!lease.IsAcquired)
        {
            var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
            var ms = Math.Max(1, (long)wait.TotalMilliseconds);
            throw WireRefusals.TooManyRequests($"Too many requests from {who}; slow down and retry after {ms.ToString(CultureInfo.InvariantCulture)} ms.", ms);
        }
    }

    public void Dispose()
    {
        _peers.Dispose();
        _tokens.Dispose();
        _verifications.Dispose();
    }
}
