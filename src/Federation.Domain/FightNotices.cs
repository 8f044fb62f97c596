using Federation.Contracts.V1;

namespace Federation.Domain;

/// <summary>
/// What one fight event asks of this network's people (issue 17 #1).
/// <see cref="Summary"/> and <see cref="Act"/> hold only the fight's public fields (title,
/// target, status, a note or reason carried by a public event), so any channel may carry
/// them; <see cref="ParticipantsOnly"/> is text only the committed networks may hold
/// (a briefing's), which only this node's own inbox stream carries.
/// </summary>
public sealed record FightNotice(InboxChange Change, string FightId, string Title, string Summary, string Act, string ParticipantsOnly = "");

/// <summary>
/// Who must hear about which fight event: a pure decision from the event, the state of its
/// log as this node holds it, and this node's id. An event this network did itself, or one
/// that asks nothing of it, gives no notice.
/// </summary>
public static class FightNotices
{
    /// <summary>
    /// The notice a fight event gives this node's people, or null. <paramref name="fight"/> is
    /// the fight as this node holds it now (for a briefings event, the fight it belongs to);
    /// <paramref name="networkName"/> turns a node id into a name people recognise.
    /// </summary>
    public static FightNotice? For(EventPayload e, FightState? fight, string self, Func<string, string> networkName)
    {
        if (fight is null || e.ActorNode == self || e.Body is null)
        {
            return null;
        }
        var title = fight.Title;
        var me = fight.Participants.FirstOrDefault(p => p.Network == self);
        var id = fight.Id;
        var origin = networkName(fight.OriginNode);
        switch (e.Body.KindCase)
        {
            case EventBody.KindOneofCase.FightInvited when e.Body.FightInvited.Network == self:
                return new(InboxChange.Invited, id, title,
                    $"{origin} invites you to a joint fight: {title} (target: {fight.Target?.Name}). Take the terms or leave them.",
                    $"solnet fight show {id}; then solnet fight accept {id} {e.Body.FightInvited.TermsHash} or solnet fight decline {id}");

            case EventBody.KindOneofCase.TermsAmended when me is not null && me.State is ParticipantState.Invited:
                return new(InboxChange.Amended, id, title,
                    $"{origin} amended the terms of {title}; your invitation now offers the new version.{Note(e.Body.TermsAmended.Note)}",
                    $"solnet fight diff {id}; then solnet fight accept {id} {e.Body.TermsAmended.TermsHash} or solnet fight decline {id}");

            case EventBody.KindOneofCase.TermsAmended when me is not null && Fights.IsIn(me):
                return new(InboxChange.Amended, id, title,
                    $"{origin} amended the terms of {title}: reaffirm them to stay in the fight, or decline and be released.{Note(e.Body.TermsAmended.Note)}",
                    $"solnet fight diff {id}; then solnet fight reaffirm {id} {e.Body.TermsAmended.TermsHash} or solnet fight decline-amendment {id}");

            case EventBody.KindOneofCase.FightStatusChanged when Fights.IsEnded(e.Body.FightStatusChanged.To)
                                                                && me is not null && (me.StandDownPending || me.StandDownAcknowledgedAt is not null):
                var change = e.Body.FightStatusChanged;
                return new(InboxChange.StandDown, id, title,
                    $"Stand down: {origin} ended {title}: {Fights.Describe(change.To)}{Note(change.Note)}. Acknowledge the stand-down.",
                    $"solnet fight ack {id}");

            case EventBody.KindOneofCase.ReleaseRequested when fight.OriginNode == self:
                var request = e.Body.ReleaseRequested;
                return new(InboxChange.ReleaseRequested, id, title,
                    $"{networkName(request.Network)} asks to be released from {title}.{Note(request.Reason)}",
                    $"solnet fight release {id} {Identifiers.Fingerprint(request.Network)}");

            case EventBody.KindOneofCase.ParticipantReleased when e.Body.ParticipantReleased.Network == self:
                return new(InboxChange.Released, id, title,
                    $"{origin} released your network from {title}.{Note(e.Body.ParticipantReleased.Reason)}",
                    $"solnet fight show {id}");

            case EventBody.KindOneofCase.BriefingPosted when me is not null && Fights.IsIn(me):
                // The text is participants-only: it stays out of the summary, so out of webhooks and e-mail.
                return new(InboxChange.BriefingPosted, id, title,
                    $"{origin} posted a participants-only briefing in {title}.",
                    $"solnet fight briefings {id}", e.Body.BriefingPosted.Text);

            // What others did in a fight this node started (issue 17 #2): "what's new" for its organisers.
            case EventBody.KindOneofCase.InvitationAccepted when fight.OriginNode == self:
                return new(InboxChange.Accepted, id, title,
                    $"{networkName(e.Body.InvitationAccepted.Network)} accepted the invitation to {title} and is committed.",
                    $"solnet fight participants {id}");

            case EventBody.KindOneofCase.TermsReaffirmed when fight.OriginNode == self:
                return new(InboxChange.Accepted, id, title,
                    $"{networkName(e.Body.TermsReaffirmed.Network)} reaffirmed the amended terms of {title}.",
                    $"solnet fight participants {id}");

            case EventBody.KindOneofCase.InvitationDeclined when fight.OriginNode == self:
                var declined = e.Body.InvitationDeclined;
                return new(InboxChange.Declined, id, title,
                    $"{networkName(declined.Network)} declined the invitation to {title}.{Note(declined.Reason)}{(declined.Offer.Length > 0 ? $" It offers instead: {declined.Offer}" : "")}",
                    $"solnet fight participants {id}");

            case EventBody.KindOneofCase.AmendmentDeclined when fight.OriginNode == self:
                return new(InboxChange.Declined, id, title,
                    $"{networkName(e.Body.AmendmentDeclined.Network)} declined the amended terms of {title} and is released.{Note(e.Body.AmendmentDeclined.Reason)}",
                    $"solnet fight participants {id}");

            case EventBody.KindOneofCase.StandDownAcknowledged when fight.OriginNode == self:
                return new(InboxChange.StandDownAcknowledged, id, title,
                    $"{networkName(e.Body.StandDownAcknowledged.Network)} acknowledged the stand-down of {title}.",
                    $"solnet fight participants {id}");

            case EventBody.KindOneofCase.ActionReported when fight.OriginNode == self:
                // The report's text may be participants-only (a plan in the briefings log): it stays out.
                return new(InboxChange.ActionReported, id, title,
                    $"{networkName(e.Body.ActionReported.Network)} reported back on one of its actions in {title}.",
                    $"solnet fight show {id}");

            default:
                return null;
        }
    }

    /// <summary>
    /// The notice a referral or incident filed with this node gives its people: the initiator
    /// only, and not for one it filed itself. Reports are confidential to the initiator
    /// (ADR 13): the summary says only that one came and whether it is a referral; the kind
    /// of incident goes in <see cref="FightNotice.ParticipantsOnly"/> (this node's inbox
    /// stream only), and the report's text in neither: it is read with the audited ListReports.
    /// </summary>
    public static FightNotice? ForReport(FightReport report, FightState? fight, string self, Func<string, string> networkName)
    {
        if (fight is null || fight.OriginNode != self || report.Network == self)
        {
            return null;
        }
        var what = report.Kind switch
        {
            ReportKind.Referral => "a referral (the target contacted them)",
            // Its kind is sealed and the node was locked when it was told (adr/0021).
            ReportKind.Unspecified => "a referral or an incident report",
            _ => "an incident report",
        };
        return new(InboxChange.ReportFiled, fight.Id, fight.Title,
            $"{networkName(report.Network)} filed {what} with you in {fight.Title}.",
            $"solnet fight reports {fight.Id}",
            $"Kind: {Kind(report.Kind)}");
    }

    /// <summary>
    /// What this network still owes an answer in <paramref name="fight"/> (issue 17 #2): an
    /// invitation, amended terms to reaffirm, a stand-down to acknowledge; null when nothing.
    /// </summary>
    public static FightNotice? Waiting(FightState fight, string self, Func<string, string> networkName)
    {
        var me = fight.Participants.FirstOrDefault(p => p.Network == self);
        if (me is null || fight.OriginNode == self)
        {
            return null;
        }
        var id = fight.Id;
        var origin = networkName(fight.OriginNode);
        if (me.StandDownPending)
        {
            return new(InboxChange.StandDown, id, fight.Title,
                $"{origin} ended {fight.Title} ({Fights.Describe(fight.Status)}): acknowledge the stand-down.", $"solnet fight ack {id}");
        }
        return me.State switch
        {
            ParticipantState.Invited when !Fights.IsEnded(fight.Status) => new(InboxChange.Invited, id, fight.Title,
                $"{origin} invites you to {fight.Title}: take the terms or leave them.",
                $"solnet fight show {id}; then solnet fight accept {id} {fight.TermsHash} or solnet fight decline {id}"),
            ParticipantState.AwaitingReaffirmation => new(InboxChange.Amended, id, fight.Title,
                $"{origin} amended the terms of {fight.Title}: reaffirm them or decline.",
                $"solnet fight diff {id}; then solnet fight reaffirm {id} {fight.TermsHash} or solnet fight decline-amendment {id}"),
            _ => null,
        };
    }

    private static string Kind(ReportKind kind) => kind switch
    {
        ReportKind.Referral => "referral",
        ReportKind.Police => "police",
        ReportKind.Lawsuit => "lawsuit",
        ReportKind.Retaliation => "retaliation",
        ReportKind.SuspectedInfiltrator => "suspected infiltrator",
        ReportKind.Unspecified => "sealed until the node is unlocked",
        _ => "other",
    };

    private static string Note(string note) => note.Length > 0 ? $" ({note})" : "";
}
