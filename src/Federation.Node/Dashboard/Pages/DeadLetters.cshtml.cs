using Federation.Contracts.V1;
using Federation.Core.Delivery;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Dashboard.Pages;

/// <summary>
/// What peers refused for good (operator only): each item with the peer's reason, and a
/// replay once the cause is fixed. The same DeadLetters service as `solnet deadletters`.
/// </summary>
public sealed class DeadLettersModel(DashboardContext context, DeadLetters deadLetters) : DashboardPage(context)
{
    public IReadOnlyList<DeadLetterInfo> All { get; private set; } = [];

    /// <summary>False for a delegate or organiser: the page then says who can use it, and shows nothing else.</summary>
    public bool Allowed => Can("ListDeadLetters");

    protected override void Load()
    {
        if (Allowed)
        {
            All = Read("ListDeadLetters", () => deadLetters.List(""));
        }
    }

    public Task<IActionResult> OnPostReplayAsync(long id, CancellationToken ct) =>
        RunAsync("ReplayDeadLetter", () => deadLetters.ReplayAsync(id, "", ct),
            "The item is back in its peer's queue and is sent again.");

    public Task<IActionResult> OnPostReplayPeerAsync(string? peer, CancellationToken ct) =>
        RunAsync("ReplayDeadLetter", () => deadLetters.ReplayAsync(0, peer ?? "", ct),
            "Every dead letter of that peer is back in its queue and is sent again.");
}
