using Federation.Contracts.V1;
using Federation.Core.Commands;
using Federation.Core.Peers;
using Federation.Domain;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Dashboard.Pages.Fights;

/// <summary>
/// One fight. The initiator's tools (terms, open, invite, status, one voice, release,
/// briefings, local details) and a participant's (answer, reaffirm, release request,
/// own actions, stand-down) call the same FightCommands and Confidential services as
/// the gRPC delegate service; a refusal shows the rule's own message.
/// </summary>
public sealed class ShowModel(DashboardContext context, FightCommands fights, Confidential confidential) : DashboardPage(context)
{
    [BindProperty(SupportsGet = true)]
    public string Id { get; set; } = "";

    [BindProperty]
    public TermsForm Form { get; set; } = new();

    public FightState? Fight { get; private set; }
    public IReadOnlyList<FightReport> Reports { get; private set; } = [];

    /// <summary>The participants-only briefings as this node holds them; null where this network is not in the fight.</summary>
    public BriefingsState? Briefings { get; private set; }

    /// <summary>The initiator's own notes on the affected person, never sent anywhere; null unless this node initiated the fight.</summary>
    public LocalDetails? LocalNotes { get; private set; }

    /// <summary>Why the referrals and local details are not shown: the node is locked (issue 24).</summary>
    public string? Locked { get; private set; }

    /// <summary>Why the briefings cannot be shown: the node is locked (adr/0025).</summary>
    public string? BriefingsLocked { get; private set; }

    /// <summary>
    /// What an action is; a participants-only plan read while the node is locked comes without
    /// its text (its skeleton, adr/0025), and says so. A plan's "what" is never empty otherwise.
    /// </summary>
    public static string WhatOf(FightAction a) => a.Plan?.What is { Length: > 0 } what ? what : "sealed: the node is locked";

    public bool Ours => Fight?.OriginNode == Node.Me;
    public bool Ended => Fight is not null && Federation.Domain.Fights.IsEnded(Fight.Status);
    public Participant? Us => Fight?.Participants.FirstOrDefault(p => p.Network == Node.Me);
    public IReadOnlyList<string> Missing => Fight is null ? [] : Terms.Missing(Fight.Terms);

    /// <summary>The statuses the initiator can move to from here, the likeliest first; the domain decides both.</summary>
    public IReadOnlyList<FightStatus> NextStatuses => Fight is null ? [] : Federation.Domain.Fights.NextStatuses(Fight.Status);

    /// <summary>Whether the page has a "Confidential" section: briefings, local details or the purge.</summary>
    public bool HasConfidential => Briefings is not null || BriefingsLocked is not null || (Fight is not null && Fight.Status != FightStatus.Draft && (Ours || Can("PurgeFight")));

    /// <summary>Active peers not yet part of the fight, for the invite form.</summary>
    public IEnumerable<PeerInfo> Invitable => Fight is null ? [] :
        Node.Peers.Where(p => p.State == PeerStates.Active && Fight.Participants.All(x => x.Network != p.NodeId || x.State == ParticipantState.Declined));

    public IEnumerable<FightAction> OurActions => Fight?.Actions.Where(a => a.Network == Node.Me) ?? [];

    protected override void Load()
    {
        Fight = fights.Get(Id);
        if (Ours || (Us is { } us && Federation.Domain.Fights.IsIn(us)))
        {
            try
            {
                Briefings = Read("GetBriefings", () => confidential.GetBriefings(Id));
            }
            catch (Federation.Domain.RuleViolation v) when (v.Rule == Federation.Domain.Rules.SealedAtRest)
            {
                // Sealed at rest (adr/0025): the briefings wait for an unlock; the fight reads as usual.
                BriefingsLocked = v.Message;
            }
        }
        if (Ours && Fight.Status != FightStatus.Draft)
        {
            // Referrals, incidents and local details are the organisers' (as over gRPC):
            // a delegate's token sees the fight without them.
            try
            {
                if (Can("ListReports"))
                {
                    Reports = Read("ListReports", () => fights.ListReports(Id));
                }
                if (Can("GetLocalDetails"))
                {
                    LocalNotes = Read("GetLocalDetails", () => confidential.GetLocalDetails(Id));
                }
            }
            catch (Federation.Domain.RuleViolation v) when (v.Rule == Federation.Domain.Rules.SealedAtRest)
            {
                // The rest of the fight is public and reads as usual; only the sealed part waits for an unlock.
                Locked = v.Message;
            }
        }
        if (Ours)
        {
            // A refused edit keeps what the person typed; otherwise show the current terms.
            if (!_keepTypedTerms)
            {
                Form = TermsForm.From(Fight.Terms);
            }
        }
    }

    private bool _keepTypedTerms;

    private Task<IActionResult> Run(string method, Func<Task> command, string done, string? back = null) =>
        RunAsync(method, command, done, back == "inbox" ? null : new { id = Id }, back == "inbox" ? "/Index" : null);

    // ---- The initiator ----

    public Task<IActionResult> OnPostTermsAsync(CancellationToken ct)
    {
        _keepTypedTerms = true;
        return Run("UpdateDraftTerms", () => fights.UpdateDraftTermsAsync(Id, Form.ToTerms(), ct), "The draft terms are saved.");
    }

    public Task<IActionResult> OnPostOpenAsync(CancellationToken ct) =>
        Run("OpenFight", () => fights.OpenAsync(Id, ct), "The fight is open: its terms are frozen and you can invite networks.");

    public Task<IActionResult> OnPostInviteAsync(List<string> networks, CancellationToken ct) =>
        Run("InviteToFight", async () => Warn((await fights.InviteAsync(Id, networks, ct)).Warnings), "The invitations are on their way.");

    public Task<IActionResult> OnPostStatusAsync(FightStatus status, string? note, CancellationToken ct) =>
        Run("ChangeFightStatus", () => fights.ChangeStatusAsync(Id, status, note ?? "", ct), $"The fight is now {Describe(status)}.");

    public Task<IActionResult> OnPostDemandAsync(string? deadline, string? note, CancellationToken ct) =>
        Run("DeliverDemand", () => fights.DeliverDemandAsync(Id, ParseLocal(deadline, "deadline"), note ?? "", ct), "The demand delivery is recorded.");

    public Task<IActionResult> OnPostCommunicationAsync(CommunicationKind kind, string? summary, CancellationToken ct) =>
        Run("RecordCommunication", () => fights.RecordCommunicationAsync(Id, kind, summary ?? "", ct), "The communication is recorded.");

    public Task<IActionResult> OnPostAmendAsync(string? note, CancellationToken ct)
    {
        _keepTypedTerms = true;
        return Run("AmendTerms", () => fights.AmendAsync(Id, Form.ToTerms(), note ?? "", ct), "The terms are amended. Every committed network is asked to reaffirm them.");
    }

    public Task<IActionResult> OnPostReleaseAsync(string network, string? reason, CancellationToken ct) =>
        Run("GrantRelease", () => fights.GrantReleaseAsync(Id, network, reason ?? "", ct), "The network is released from the fight.");

    public Task<IActionResult> OnPostBriefingAsync(string? text, CancellationToken ct) =>
        Run("PostBriefing", () => confidential.PostBriefingAsync(Id, text ?? "", ct),
            "The briefing is posted. It goes to the networks committed to this fight, and to nobody else.");

    public Task<IActionResult> OnPostLocalDetailsAsync(string? affected, string? contact, string? notes, CancellationToken ct) =>
        Run("SetLocalDetails", () => confidential.SetLocalDetailsAsync(Id, new LocalDetails
        {
            AffectedPerson = affected?.Trim() ?? "",
            Contact = contact?.Trim() ?? "",
            Notes = notes?.Trim() ?? "",
        }, ct), "The local details are saved on this node. They are never sent to any other network.");

    /// <summary>Deletes this node's confidential details of the fight now, rather than Node:PurgeAfter after its end.</summary>
    public Task<IActionResult> OnPostPurgeAsync(CancellationToken ct) =>
        Run("PurgeFight", () => confidential.PurgeAsync(Id, ct),
            "This node's confidential details of the fight are deleted: local details, briefing texts, referrals and incidents.");

    // ---- Any network in the fight ----

    public Task<IActionResult> OnPostAcceptAsync(string? hash, string? back, CancellationToken ct) =>
        Run("AcceptInvitation", () => fights.AcceptAsync(Id, hash ?? "", ct), "Your acceptance is on its way to the initiator, which records it.", back);

    public Task<IActionResult> OnPostDeclineAsync(string? reason, string? offer, string? back, CancellationToken ct) =>
        Run("DeclineInvitation", () => fights.DeclineAsync(Id, reason ?? "", offer ?? "", ct), "You declined the invitation.", back);

    public Task<IActionResult> OnPostReaffirmAsync(string? hash, CancellationToken ct) =>
        Run("ReaffirmTerms", () => fights.ReaffirmAsync(Id, hash ?? "", ct), "Your reaffirmation is on its way to the initiator.");

    public Task<IActionResult> OnPostDeclineAmendmentAsync(string? reason, CancellationToken ct) =>
        Run("DeclineAmendment", () => fights.DeclineAmendmentAsync(Id, reason ?? "", ct), "You declined the amended terms; the initiator records your release.");

    public Task<IActionResult> OnPostRequestReleaseAsync(string? reason, CancellationToken ct) =>
        Run("RequestRelease", () => fights.RequestReleaseAsync(Id, reason ?? "", ct), "Your request to be released is on its way. Only the initiator can release you.");

    public Task<IActionResult> OnPostAcknowledgeAsync(string? back, CancellationToken ct) =>
        Run("AcknowledgeStandDown", () => fights.AcknowledgeStandDownAsync(Id, ct), "You acknowledged the stand-down.", back);

    public Task<IActionResult> OnPostReportAsync(ReportKind kind, string? summary, CancellationToken ct) =>
        Run("FileReport", () => fights.FileReportAsync(Id, new FileReport { Kind = kind, Summary = summary ?? "" }, ct),
            "The report is on its way to the initiator, and to nobody else.");

    public Task<IActionResult> OnPostPlanAsync(string? what, string? place, string? starts, string? ends, ActionVisibility visibility, CancellationToken ct) =>
        Run("PlanAction", () => fights.PlanActionAsync(Id, Plan(what, place, starts, ends, visibility), ct), "The action is planned.");

    public Task<IActionResult> OnPostUpdateActionAsync(string actionId, string? what, string? place, string? starts, string? ends, ActionVisibility visibility, CancellationToken ct) =>
        Run("UpdateAction", () => fights.UpdateActionAsync(Id, actionId, Plan(what, place, starts, ends, visibility), ct), "The action is updated.");

    public Task<IActionResult> OnPostCancelActionAsync(string actionId, string? reason, CancellationToken ct) =>
        Run("CancelAction", () => fights.CancelActionAsync(Id, actionId, reason ?? "", ct), "The action is cancelled.");

    public Task<IActionResult> OnPostReportActionAsync(string actionId, string? report, uint turnout, CancellationToken ct) =>
        Run("ReportAction", () => fights.ReportActionAsync(Id, actionId, report ?? "", turnout, ct), "The action report is on its way.");

    public IActionResult OnGetCalendar()
    {
        try
        {
            var file = fights.ExportCalendar(Id);
            return File(System.Text.Encoding.UTF8.GetBytes(file.Content), file.ContentType, file.FileName);
        }
        catch (RuleViolation v)
        {
            Refuse(v.Message);
            return Show();
        }
    }

    private ActionPlan Plan(string? what, string? place, string? starts, string? ends, ActionVisibility visibility) => new()
    {
        What = what ?? "",
        Place = place ?? "",
        StartsAt = ParseLocal(starts, "starts"),
        EndsAt = ParseLocal(ends, "ends"),
        Visibility = visibility,
    };
}
