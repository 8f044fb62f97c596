using Federation.Contracts.V1;

namespace Federation.Cli;

/// <summary>
/// Waits for delivery by asking the node how much it still holds for a peer. When nothing
/// is pending for it, the peer has acknowledged everything queued so far, including what
/// this command just sent.
/// </summary>
public static class Delivery
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    /// <param name="peer">A node id, or null for every peer.</param>
    public static async Task WaitAsync(Session s, string? peer, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        var last = await s.Out.WaitAsync(peer is null ? "Waiting for delivery to every peer…" : "Waiting for delivery…", async status =>
        {
            while (true)
            {
                var peers = (await s.Client.ListPeersAsync(new ListPeersRequest(), s.Call)).Peers
                    .Where(p => peer is null || p.NodeId == peer).ToList();
                if (peer is not null && peers.Count == 0)
                {
                    throw new UsageException($"{peer} is not a peer of this node; `solnet peers` lists them.");
                }
                var waiting = peers.Where(p => p.Pending > 0).ToList();
                // A suspended or revoked peer is held back on purpose: waiting for it would never end.
                if (waiting.FirstOrDefault(p => p.State is "suspended" or "revoked") is { } held)
                {
                    throw new NotYetException($"{held.Name} is {held.State}: its {held.Pending} pending item(s) are held back until `solnet peer resume`.");
                }
                if (waiting.Count == 0 || DateTimeOffset.UtcNow >= deadline)
                {
                    return waiting;
                }
                status(string.Join("; ", waiting.Select(p => $"{p.Name}: {p.Pending} pending, {Format.Health(p)}")) + " …");
                await Task.Delay(Poll, s.Cancel);
            }
        });
        if (last.Count > 0)
        {
            throw new NotYetException($"Not delivered after {timeout.TotalSeconds:0}s: {string.Join("; ", last.Select(p => $"{p.Name} has {p.Pending} pending ({Format.Health(p)}{(p.LastError.Length > 0 ? $", last error: {p.LastError}" : "")})"))}. "
                + "It stays queued and the node keeps trying; `solnet peers` shows how it goes.");
        }
    }

    /// <summary>
    /// Sends a submission and, if --wait asked for it, waits until the origin has it. The
    /// origin records or refuses a submission while it receives it, so a refusal shows as a
    /// new dead letter for that peer: reported with the origin's reason (exit code 3).
    /// </summary>
    public static async Task SubmitAsync(Session s, Func<Task<SubmissionReceipt>> submit, bool wait, uint? timeoutSeconds)
    {
        var before = wait ? DeadLettersByPeer((await s.Client.ListPeersAsync(new ListPeersRequest(), s.Call)).Peers) : [];
        var receipt = await submit();
        s.Out.Print(receipt, Format.Receipt);
        if (!wait || receipt.Recorded)
        {
            return;
        }
        await WaitAsync(s, receipt.OriginNode, TimeSpan.FromSeconds(timeoutSeconds ?? 60));
        var after = DeadLettersByPeer((await s.Client.ListPeersAsync(new ListPeersRequest(), s.Call)).Peers);
        if (after.GetValueOrDefault(receipt.OriginNode) > before.GetValueOrDefault(receipt.OriginNode))
        {
            var parked = (await s.Client.ListDeadLettersAsync(new ListDeadLettersRequest { Peer = receipt.OriginNode }, s.Call)).DeadLetters
                .Where(d => d.ObjectId.Length > 0).MaxBy(d => d.Id);
            var code = parked is not null && Enum.TryParse<Grpc.Core.StatusCode>(parked.Status, out var c) ? c : Grpc.Core.StatusCode.FailedPrecondition;
            throw new Grpc.Core.RpcException(new Grpc.Core.Status(code, $"The origin refused it: {parked?.Error ?? "see `solnet deadletters`"}"));
        }
        if (!s.Out.Quiet)
        {
            s.Out.Line("Delivered to the origin.");
        }
    }

    private static Dictionary<string, ulong> DeadLettersByPeer(IEnumerable<PeerInfo> peers) => peers.ToDictionary(p => p.NodeId, p => p.DeadLetters);
}
