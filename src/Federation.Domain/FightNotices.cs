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

            default:
                return null;
        }
    }

    private static string Note(string note) => note.Length > 0 ? $" ({note})" : "";
}
