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

    /// <summary>
    /// The word on a peer's badge and its tone. An active peer whose calls fail reads
    /// "failing" (or "unavailable") in red: its state is still active, but a green
    /// "active" would tell the operator all is well when nothing reaches it.
    /// </summary>
    public static (string Word, string Tone) Badge(PeerInfo p) => p.State switch
    {
        PeerStates.Active when p.Health == PeerHealth.Unavailable => ("unavailable", "bad"),
        PeerStates.Active when p.Health == PeerHealth.Failing => ("failing", "bad"),
        PeerStates.Active => ("active", "good"),
        PeerStates.Pending => ("pending", "wait"),
        _ => (p.State, "bad"),
    };

    public string Health(PeerInfo p) =>
        p.State == PeerStates.Pending ? "waiting for its operator to add this node"
        : p.State == PeerStates.Suspended ? "nothing is taken from it or sent to it until it is resumed"
        : p.State == PeerStates.Revoked ? "nothing is taken from it or sent to it"
        : p.State != PeerStates.Active ? ""
        : p.Health is PeerHealth.Failing or PeerHealth.Unavailable
            ? $"since {When(p.FailingSince)}: {p.Pending} waiting{(p.CircuitOpen ? ", circuit open" : "")}; last error: {p.LastError}"
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

    public Task<IActionResult> OnPostRelayAsync(string? peer, bool allowed, CancellationToken ct) =>
        RunAsync("SetPeerRelay", () => peers.SetRelayAsync(peer ?? "", allowed, ct), allowed
            ? "The peer may relay for this node now; every peer is told at once."
            : "The peer no longer relays for this node; every peer is told at once.");
}
