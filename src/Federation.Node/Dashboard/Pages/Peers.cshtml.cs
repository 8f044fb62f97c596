using Federation.Contracts.V1;
using Federation.Core.Peers;
using Federation.Node.Peering;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Dashboard.Pages;

/// <summary>The networks this node trusts, how delivery to each is going, and (operator) adding, suspending, resuming and revoking one.</summary>
public sealed class PeersModel(DashboardContext context, PeerDirectory peers, Observability.Dependencies dependencies) : DashboardPage(context)
{
    public IReadOnlyList<PeerInfo> All { get; private set; } = [];

    /// <summary>This node's database and broker, as last checked.</summary>
    public IReadOnlyList<DependencyHealth> Dependencies { get; private set; } = [];

    protected override void Load()
    {
        All = peers.List();
        Dependencies = dependencies.Snapshot();
    }

    public static string Health(PeerInfo p) =>
        p.State == PeerStates.Pending ? "pending: waiting for its operator to add this node"
        : p.State == PeerStates.Suspended ? "suspended: nothing is taken from it or sent to it until it is resumed"
        : p.State == PeerStates.Revoked ? "revoked: nothing is taken from it or sent to it"
        : p.State != PeerStates.Active ? p.State
        : p.LastError.Length > 0 ? $"failing: {p.Pending} waiting; last error: {p.LastError}"
        : p.Pending > 0 ? $"sending: {p.Pending} waiting"
        : "up to date";

    public Task<IActionResult> OnPostAsync(string? address, string? fingerprint, CancellationToken ct) =>
        RunAsync("AddPeer", () => peers.AddAsync(address?.Trim() ?? "", fingerprint?.Trim() ?? "", ct),
            "The peer is added and its key pinned. Its operator must add this node too.");

    public Task<IActionResult> OnPostStateAsync(string? peer, string? state, CancellationToken ct) =>
        RunAsync("SetPeerState", () => peers.SetStateAsync(peer ?? "", state ?? "", ct), state switch
        {
            PeerStates.Suspended => "The peer is suspended: its calls are refused and nothing is sent to it until you resume it.",
            PeerStates.Revoked => "The peer is revoked: its calls are refused and what was queued for it is dropped.",
            _ => "The peer is active again; what was held back is sent.",
        });
}
