using System.Globalization;
using Federation.Contracts.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federation.Node.Tests;

/// <summary>
/// A caller that is not authenticated from its headers cannot make a node read, buffer and
/// parse large bodies (issue 15 #6): six concurrent 4 MB calls from a stranger.
/// </summary>
public sealed class PeerBodyLimitTests
{
    [Fact]
    public async Task SixUnauthenticatedFourMegabyteCallsRaiseResidentMemoryByLessThan150MB()
    {
        await using var node = new NodeProcess("alpha", []);
        await node.StartAgainAsync();
        var pid = node.ProcessId!.Value;
        // Two bytes per empty envelope, each of which becomes an object when parsed: the
        // shape that took a node from 207 MB to 1.34 GB.
        var request = new DeliverRequest();
        request.Envelopes.AddRange(Enumerable.Range(0, 2_000_000 - 100).Select(_ => new Envelope()));
        Assert.True(request.CalculateSize() is > 3_900_000 and < 4 * 1024 * 1024);
        using var channel = GrpcChannel.ForAddress(node.Address, new GrpcChannelOptions { MaxSendMessageSize = null });
        var client = new PeerService.PeerServiceClient(channel);
        await client.IdentifyAsync(new IdentifyRequest()); // warm: the node has served a call
        var before = Kilobytes(pid, "VmRSS");

        var calls = Enumerable.Range(0, 6).Select(async _ =>
        {
            // A stranger's headers: a node id no operator added, with a signature that does not verify.
            var headers = new Metadata
            {
                { "x-fed-node", new string('a', 64) },
                { "x-fed-ts", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) },
                { "x-fed-sig", Convert.ToBase64String(new byte[64]) },
            };
            return await Assert.ThrowsAsync<RpcException>(() => client.DeliverAsync(request, headers, DateTime.UtcNow.AddSeconds(60)).ResponseAsync);
        }).ToList();
        var refusals = await Task.WhenAll(calls);

        // The peak resident size over the whole run, so a collection afterwards cannot hide a spike.
        var peak = Kilobytes(pid, "VmHWM");
        Assert.All(refusals, ex => Assert.NotEqual(StatusCode.OK, ex.StatusCode));
        Assert.True(peak - before < 150 * 1024, $"Resident memory rose from {before / 1024} MB to a peak of {peak / 1024} MB.");
        Assert.True(node.Running, "the node is still running");
    }

    private static long Kilobytes(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
}
