using System.Security.Cryptography;
using System.Text;
using Federation.Contracts.V1;

namespace Federation.Domain;

/// <summary>
/// Participants-only briefings: a fight's second log, whose audience is the networks
/// committed to the fight. Only the initiator writes it, and it keeps the member list
/// in step with the fight, so invited networks never receive a briefing and a network
/// that leaves is told so (and deletes its copy).
/// </summary>
public static class Briefings
{
    /// <summary>
    /// The briefings log of a fight has an id derived from the fight's, so every node can
    /// find it, and its origin is the fight's origin.
    /// </summary>
    public static string IdOf(string fightId)
    {
        var origin = Identifiers.OriginOf(fightId);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("briefings:" + fightId));
        return $"{origin}.{Convert.ToHexStringLower(hash)[..32]}";
    }

    /// <summary>The networks committed to a fight: its briefings' audience.</summary>
    public static IReadOnlyList<string> MembersOf(FightState fight) =>
        fight.Participants.Where(Fights.IsIn).Select(p => p.Network).Order(StringComparer.Ordinal).ToList();

    public static IReadOnlyList<EventBody> Post(FightState fight, BriefingsState? current, string text)
    {
        Text.Check("briefing", text, Text.LongMax, required: true);
        Fights.RequireNotEnded(fight, "post briefings");
        if (current is { Purged: true })
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.OriginAuthority, "This fight's briefings have been purged.");
        }
        var bodies = new List<EventBody>();
        if (current is null)
        {
            var opened = new BriefingsOpened { FightId = fight.Id };
            opened.Members.AddRange(MembersOf(fight));
            bodies.Add(new EventBody { BriefingsOpened = opened });
        }
        bodies.Add(new EventBody { BriefingPosted = new BriefingPosted { Text = text } });
        return bodies;
    }

    /// <summary>
    /// The initiator's decision on a participants-only action event: checked against the
    /// fight (who is committed, whether it has ended) and the actions already in this log,
    /// then written to the participants-only log, opened first if need be.
    /// </summary>
    public static IReadOnlyList<EventBody> Act(FightState fight, BriefingsState? current, string actor, EventBody body)
    {
        if (current is { Purged: true })
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.OriginAuthority, "This fight's participants-only content has been purged.");
        }
        if (body.KindCase == EventBody.KindOneofCase.ActionPlanned && fight.Actions.Any(a => a.ActionId == body.ActionPlanned.ActionId))
        {
            throw RuleViolation.Invalid("An action with this id already exists.");
        }
        FightActions.RequireTier(body, participantsOnly: true);
        var scratch = current?.Actions.Select(a => a.Clone()).ToList() ?? [];
        var check = new EventPayload { ActorNode = actor, OriginNode = fight.OriginNode };
        FightActions.Apply(scratch, check, body, network => network == fight.OriginNode || MembersOf(fight).Contains(network), FightActions.EndedAs(fight));
        if (current is null)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Sequence, "This fight's participants-only log is not open yet.");
        }
        return [body];
    }

    /// <summary>Opens the participants-only log (the initiator's own event) unless it is open already.</summary>
    public static IReadOnlyList<EventBody> OpenIfNeeded(FightState fight, BriefingsState? current)
    {
        if (current is not null)
        {
            return [];
        }
        var opened = new BriefingsOpened { FightId = fight.Id };
        opened.Members.AddRange(MembersOf(fight));
        return [new EventBody { BriefingsOpened = opened }];
    }

    /// <summary>
    /// The fight as a reader on this node sees it: its shared log's state plus the
    /// participants-only plans this node holds (none on an invited or departed network's node).
    /// </summary>
    public static FightState WithParticipantsOnly(FightState fight, BriefingsState? participants)
    {
        if (participants is null || participants.Actions.Count == 0)
        {
            return fight;
        }
        var view = fight.Clone();
        view.Actions.AddRange(participants.Actions);
        return view;
    }

    public static EventBody MembersChanged(IEnumerable<string> members)
    {
        var changed = new BriefingMembersChanged();
        changed.Members.AddRange(members);
        return new EventBody { BriefingMembersChanged = changed };
    }

    /// <summary>
    /// What of a participants-only log a locked node keeps in clear (issue 24, docs/adr/0025):
    /// its members, position and purge mark, when each briefing was posted (not what it says),
    /// and each action's id, network, status and visibility, which is all <see cref="Apply"/>
    /// and <see cref="Act"/> read of a state. So a
    /// locked node still appends to the log and applies what arrives, while the texts (briefings,
    /// plans, their times and places, reasons and reports) rest only in the sealed events.
    /// </summary>
    public static BriefingsState Skeleton(BriefingsState state)
    {
        var skeleton = state.Clone();
        foreach (var briefing in skeleton.Briefings)
        {
            briefing.Text = "";
        }
        foreach (var action in skeleton.Actions)
        {
            action.Plan = new ActionPlan { Visibility = action.Plan?.Visibility ?? ActionVisibility.Unspecified };
            action.CancelReason = "";
            action.Report = "";
            action.Turnout = 0;
        }
        return skeleton;
    }

    /// <summary>Keeps the log's position but forgets every briefing's text.</summary>
    public static BriefingsState Purged(BriefingsState state)
    {
        var purged = state.Clone();
        purged.Briefings.Clear();
        purged.Actions.Clear();
        purged.Purged = true;
        return purged;
    }

    internal static BriefingsState Apply(BriefingsState? state, EventPayload e, EventBody body)
    {
        if (FightActions.ActionIdOf(body) is not null)
        {
            // A network's own participants-only plan: signed by the initiator, acted by the network.
            var log = state ?? throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Sequence, $"{e.ObjectId} has not been opened.");
            FightActions.RequireTier(body, participantsOnly: true);
            if (!log.Purged)
            {
                // The fight's end is checked by the initiator, which alone holds the authority to
                // append here; a replica checks membership and ownership from this log itself.
                FightActions.Apply(log.Actions, e, body, network => network == log.OriginNode || log.Members.Contains(network), ended: null);
            }
            log.LastSequence = e.Sequence;
            return log;
        }
        EventLog.RequireOrigin(e, Rules.OriginAuthority, "writes a fight's briefings");
        if (body.KindCase == EventBody.KindOneofCase.BriefingsOpened)
        {
            if (state is not null)
            {
                throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Sequence, "These briefings are already open.");
            }
            var opened = body.BriefingsOpened;
            if (!Identifiers.TryOriginOf(opened.FightId, out var fightOrigin) || fightOrigin != e.OriginNode || IdOf(opened.FightId) != e.ObjectId)
            {
                throw RuleViolation.Invalid("These briefings do not belong to a fight of their origin.");
            }
            CheckMembers(opened.Members, e.OriginNode);
            return new BriefingsState
            {
                Id = e.ObjectId,
                OriginNode = e.OriginNode,
                FightId = opened.FightId,
                Members = { opened.Members },
                LastSequence = e.Sequence,
            };
        }
        var briefings = state ?? throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Sequence, $"{e.ObjectId} has not been opened.");
        switch (body.KindCase)
        {
            case EventBody.KindOneofCase.BriefingMembersChanged:
                CheckMembers(body.BriefingMembersChanged.Members, e.OriginNode);
                briefings.Members.Clear();
                briefings.Members.AddRange(body.BriefingMembersChanged.Members);
                break;
            case EventBody.KindOneofCase.BriefingPosted:
                Text.Check("briefing", body.BriefingPosted.Text, Text.LongMax, required: true);
                if (!briefings.Purged)
                {
                    briefings.Briefings.Add(new Briefing { Text = body.BriefingPosted.Text, At = e.OccurredAt });
                }
                break;
            default:
                throw RuleViolation.Invalid($"A briefings log cannot hold a {body.KindCase} event.");
        }
        briefings.LastSequence = e.Sequence;
        return briefings;
    }

    private static void CheckMembers(IReadOnlyCollection<string> members, string origin)
    {
        if (members.Any(m => !Identifiers.IsNodeId(m) || m == origin) || members.Distinct().Count() != members.Count)
        {
            throw RuleViolation.Invalid("Briefing members must be distinct node ids of networks other than the initiator.");
        }
    }
}
