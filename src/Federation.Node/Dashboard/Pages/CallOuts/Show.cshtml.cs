using Federation.Contracts.V1;
using Federation.Node.Application;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Dashboard.Pages.CallOuts;

/// <summary>One call-out: its content and answers; the issuer closes it, recipients answer it.</summary>
public sealed class ShowModel(DashboardContext context, CallOutCommands callOuts) : DashboardPage(context)
{
    [BindProperty(SupportsGet = true)]
    public string Id { get; set; } = "";

    public CallOutState? CallOut { get; private set; }
    public bool Ours => CallOut?.OriginNode == Node.Me;
    public ResponseRow? OurAnswer => CallOut?.Responses.FirstOrDefault(r => r.Network == Node.Me);

    protected override void Load() => CallOut = callOuts.Get(Id);

    public Task<IActionResult> OnPostRespondAsync(ResponseKind kind, string? date, string? place, string? reason, string? report,
        uint turnout, string? targetResponse, string? back, CancellationToken ct) =>
        RunAsync("RespondToCallOut", () => callOuts.RespondAsync(Id, new CallOutResponse
        {
            Kind = kind,
            PlannedDate = date ?? "",
            Place = place ?? "",
            Reason = reason ?? "",
            Report = report ?? "",
            Turnout = turnout,
            TargetResponse = targetResponse ?? "",
        }, ct),
        $"Your answer ({Describe(kind)}) is on its way to the issuing network, which records it and shares it.",
        back == "inbox" ? null : new { id = Id }, back == "inbox" ? "/Index" : null);

    public Task<IActionResult> OnPostCloseAsync(bool cancelled, string? reason, CancellationToken ct) =>
        RunAsync("CloseCallOut", () => callOuts.CloseAsync(Id, cancelled, reason ?? "", ct),
            cancelled ? "The call-out is cancelled." : "The call-out is closed.", new { id = Id });
}
