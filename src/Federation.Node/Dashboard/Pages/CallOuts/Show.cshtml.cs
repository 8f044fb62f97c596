using Federation.Contracts.V1;
using Federation.Core.Commands;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Dashboard.Pages.CallOuts;

/// <summary>One call-out: its content and answers; the issuer closes it, recipients answer it.</summary>
public sealed class ShowModel(DashboardContext context, CallOutCommands callOuts) : DashboardPage(context)
{
    [BindProperty(SupportsGet = true)]
    public string Id { get; set; } = "";

    /// <summary>Posted to the fediverse by this node's organisers (issue 19): said plainly on the page.</summary>
    public bool FediversePublic => CallOut is { } c && callOuts.IsFediversePublic(c.Id);

    /// <summary>The issuer's update form: the current content, or what was typed if the update was refused.</summary>
    [BindProperty]
    public CallOutForm Form { get; set; } = new();

    private bool _keepTyped;

    public CallOutState? CallOut { get; private set; }
    public bool Ours => CallOut?.OriginNode == Node.Me;
    public ResponseRow? OurAnswer => CallOut?.Responses.FirstOrDefault(r => r.Network == Node.Me);

    protected override void Load()
    {
        CallOut = callOuts.Get(Id);
        if (!_keepTyped)
        {
            Form = CallOutForm.From(CallOut.Content, Local);
        }
    }

    /// <summary>The issuer changes what it asks; every recipient sees the new content and what changed.</summary>
    public Task<IActionResult> OnPostUpdateAsync(CancellationToken ct)
    {
        _keepTyped = true;
        return RunAsync("UpdateCallOut", async () =>
        {
            var content = Form.ToContent(ParseLocal);
            // The form does not offer the fight link; keep it as it is.
            content.FightId = callOuts.Get(Id).Content.FightId;
            await callOuts.UpdateAsync(Id, content, ct);
        }, "The call-out is updated. Every network it was sent to sees the new version and what changed.", new { id = Id });
    }

    public Task<IActionResult> OnPostRespondAsync(ResponseKind kind, string? date, string? place, string? reason, string? report,
        uint turnout, string? targetResponse, string? incidents, bool share, string? back, CancellationToken ct) =>
        RunAsync("RespondToCallOut", () => callOuts.RespondAsync(Id, new CallOutResponse
        {
            Kind = kind,
            PlannedDate = Planned(kind, date),
            Place = place ?? "",
            Reason = reason ?? "",
            Report = report ?? "",
            Turnout = turnout,
            TargetResponse = targetResponse ?? "",
            Incidents = incidents ?? "",
            ShareWithRecipients = share,
        }, ct),
        $"Your answer ({Describe(kind)}) is on its way to the issuing network, which records it and shares it.",
        back == "inbox" ? null : new { id = Id }, back == "inbox" ? "/Index" : null);

    /// <summary>
    /// A pledge's time from the date picker, a time of the node's zone, stored as UTC and
    /// only inside the call-out's window (issue 17, item 5).
    /// </summary>
    private string Planned(ResponseKind kind, string? date) =>
        kind != ResponseKind.Pledge || string.IsNullOrWhiteSpace(date) ? date ?? ""
        : Federation.Domain.CallOuts.PlannedInWindow(callOuts.Get(Id).Content, ParseLocal(date, "when")!);

    public Task<IActionResult> OnPostCloseAsync(bool cancelled, string? reason, CancellationToken ct) =>
        RunAsync("CloseCallOut", () => callOuts.CloseAsync(Id, cancelled, reason ?? "", ct),
            cancelled ? "The call-out is cancelled." : "The call-out is closed.", new { id = Id });
}
