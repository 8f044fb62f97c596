using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Federation.Node.Delivery;

/// <summary>
/// Requests for catch-up passes: on start, periodically, and when a peer that could not
/// be reached is heard from again. The scheduler turns them into bus work.
/// </summary>
public sealed class CatchUpSignal
{
    private readonly Channel<string?> _requests = Channel.CreateUnbounded<string?>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, byte> _unreachable = new();

    /// <summary>Pending requests: a peer's node id, or null for every peer.</summary>
    public ChannelReader<string?> Requests => _requests.Reader;

    public void Request(string peerId) => _requests.Writer.TryWrite(peerId);

    public void RequestAll() => _requests.Writer.TryWrite(null);

    /// <summary>Records whether the last pass from the peer failed, so its return can be noticed.</summary>
    public void SetUnreachable(string peerId, bool unreachable)
    {
        if (unreachable)
        {
            _unreachable[peerId] = 0;
        }
        else
        {
            _unreachable.TryRemove(peerId, out _);
        }
    }

    /// <summary>A peer called this node. If pulling from it was failing, it is back: pull now.</summary>
    public void Heard(string peerId)
    {
        if (_unreachable.TryRemove(peerId, out _))
        {
            Request(peerId);
        }
    }
}
