using Federation.Contracts.V1;
using Federation.Node.Delivery;

namespace Federation.Node.Tests;

/// <summary>
/// Issue 20 #5: the gate and the authenticator take a peer call's caller, its state, key
/// and protocol from the roster the store holds in memory, not from a database read per
/// call (on PostgreSQL that read held a thread-pool thread per call and starved the pool).
/// </summary>
public sealed class PeerRosterTests
{
    private static long RosterVersion(TestNode node)
    {
        using var c = node.Store.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT version FROM peer_roster_version";
        return (long)cmd.ExecuteScalar()!;
    }

    [Fact]
    public async Task PeerCallsAreAuthenticatedWithoutReadingTheRosterFromTheDatabaseEachTime()
    {
        await using var alpha = await TestNode.StartAsync("alpha");
        await using var beta = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(alpha, beta);
        var request = new ListSharedRequest();
        await alpha.Peer.ListSharedAsync(request, beta.AsPeerOf(alpha, Methods.ListShared, request));
        // A change through this node is seen at once (PeeringTests); here, calls that change nothing.
        var (reads, version) = (alpha.Store.PeerRosterReads, RosterVersion(alpha));

        for (var i = 0; i < 20; i++)
        {
            await alpha.Peer.ListSharedAsync(request, beta.AsPeerOf(alpha, Methods.ListShared, request));
        }

        // Read again only when the roster changed meanwhile (a protocol exchange in the
        // background may change it; a change can be read twice, by the write and by the
        // recheck), never once per call.
        var changes = RosterVersion(alpha) - version;
        Assert.True(alpha.Store.PeerRosterReads - reads <= 2 * changes,
            $"20 calls read the roster {alpha.Store.PeerRosterReads - reads} times while it changed {changes} times.");
    }
}
