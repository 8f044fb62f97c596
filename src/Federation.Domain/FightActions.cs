using Federation.Contracts.V1;

namespace Federation.Domain;

/// <summary>
/// Autonomy of action: each network plans, edits, cancels and reports its own actions,
/// and nobody else can touch them. The initiator may publish requests (call-outs linked
/// to the fight) but cannot assign work.
/// </summary>
public static class FightActions
{
    /// <summary>
    /// A plan whose visibility is not PUBLIC is participants-only: it goes in the fight's
    /// participants-only log (the one briefings use), never in the shared log that invited,
    /// declined and released networks hold. An unspecified visibility is the safe one.
    /// </summary>
    public static bool IsParticipantsOnly(ActionPlan? plan) => plan is null || plan.Visibility != ActionVisibility.Public;

    /// <summary>The action id an action event is about.</summary>
    public static string? ActionIdOf(EventBody body) => body.KindCase switch
    {
        EventBody.KindOneofCase.ActionPlanned => body.ActionPlanned.ActionId,
        EventBody.KindOneofCase.ActionUpdated => body.ActionUpdated.ActionId,
        EventBody.KindOneofCase.ActionCancelled => body.ActionCancelled.ActionId,
        EventBody.KindOneofCase.ActionReported => body.ActionReported.ActionId,
        _ => null,
    };

    /// <summary>
    /// Whether an event belongs in the participants-only log, by its tier in <see cref="EventTiers"/>:
    /// a new plan by its visibility, anything else about an action by where its action already is.
    /// </summary>
    public static bool BelongsToParticipants(EventBody body, BriefingsState? participants) => EventTiers.Of(body.KindCase) switch
    {
        EventTier.ParticipantsOnly => true,
        EventTier.ByPlanVisibility => body.KindCase == EventBody.KindOneofCase.ActionPlanned
            ? IsParticipantsOnly(body.ActionPlanned.Plan)
            : participants is not null && participants.Actions.Any(a => a.ActionId == ActionIdOf(body)),
        _ => false,
    };

    /// <summary>An action event in the fight's shared log: public plans only.</summary>
    internal static void Apply(FightState fight, EventPayload e, EventBody body)
    {
        RequireTier(body, participantsOnly: false);
        Apply(fight.Actions, e, body, network => network == fight.OriginNode || fight.Participants.Any(p => p.Network == network && Fights.IsIn(p)), EndedAs(fight));
    }

    /// <summary>How the fight ended, or null while it is live.</summary>
    internal static string? EndedAs(FightState fight) => Fights.IsEnded(fight.Status) ? Fights.Describe(fight.Status) : null;

    /// <summary>The plan of a new or edited action must be of the log's tier: a plan cannot move between tiers.</summary>
    internal static void RequireTier(EventBody body, bool participantsOnly)
    {
        var plan = body.KindCase switch
        {
            EventBody.KindOneofCase.ActionPlanned => body.ActionPlanned.Plan,
            EventBody.KindOneofCase.ActionUpdated => body.ActionUpdated.Plan,
            _ => null,
        };
        if (plan is not null && IsParticipantsOnly(plan) != participantsOnly)
        {
            throw RuleViolation.Invalid(participantsOnly
                ? "A public plan goes in the fight's shared log, not its participants-only log."
                : "A participants-only plan goes in the fight's participants-only log, not its shared log; an action's visibility cannot change once planned (cancel it and plan it again).");
        }
    }

    /// <summary>
    /// One set of rules for both logs. <paramref name="mayPlan"/> says which networks may plan
    /// (the initiator and the committed networks); <paramref name="ended"/> how the fight ended, or null while it is live.
    /// </summary>
    internal static void Apply(IList<FightAction> actions, EventPayload e, EventBody body, Func<string, bool> mayPlan, string? ended)
    {
        switch (body.KindCase)
        {
            case EventBody.KindOneofCase.ActionPlanned:
                Planned(actions, e, body.ActionPlanned, mayPlan, ended);
                break;
            case EventBody.KindOneofCase.ActionUpdated:
            {
                var u = body.ActionUpdated;
                var action = Own(actions, e, u.ActionId, u.Network, "edit");
                if (ended is not null)
                {
                    throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.SharedOutcome, $"Shared outcome: the fight has ended ({ended}); nobody can change planned actions now.");
                }
                RequirePlanned(action, "edited");
                CheckPlan(u.Plan);
                action.Plan = u.Plan;
                break;
            }
            case EventBody.KindOneofCase.ActionCancelled:
            {
                var c = body.ActionCancelled;
                var action = Own(actions, e, c.ActionId, c.Network, "cancel");
                RequirePlanned(action, "cancelled");
                Text.Check("reason", c.Reason, Text.LongMax);
                action.Status = ActionStatus.Cancelled;
                action.CancelReason = c.Reason;
                break;
            }
            case EventBody.KindOneofCase.ActionReported:
            {
                // A report usually comes after the action, and may come after the fight ended.
                var r = body.ActionReported;
                var action = Own(actions, e, r.ActionId, r.Network, "report on");
                RequirePlanned(action, "reported");
                Text.Check("report", r.Report, Text.LongMax, required: true);
                action.Status = ActionStatus.Reported;
                action.Report = r.Report;
                action.Turnout = r.Turnout;
                break;
            }
            default:
                throw RuleViolation.Invalid($"{body.KindCase} is not an action event.");
        }
    }

    private static void Planned(IList<FightAction> actions, EventPayload e, ActionPlanned planned, Func<string, bool> mayPlan, string? ended)
    {
        if (e.ActorNode != planned.Network)
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.Autonomy,
                "Autonomy of action: a network plans only its own actions; the initiator may publish requests but cannot assign work.");
        }
        if (!mayPlan(planned.Network))
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.Autonomy,
                $"Network {Identifiers.Fingerprint(planned.Network)} is not committed to this fight, so it cannot plan actions in it.");
        }
        if (ended is not null)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.SharedOutcome,
                $"Shared outcome: the fight has ended ({ended}); actions planned after the end are refused.");
        }
        // One spelling per UUID (lower case, dashed), so one action cannot hide under two ids.
        if (!Guid.TryParseExact(planned.ActionId, "D", out var id) || id.ToString() != planned.ActionId)
        {
            throw RuleViolation.Invalid("An action id must be a UUID in lower case with dashes.");
        }
        if (actions.Any(a => a.ActionId == planned.ActionId))
        {
            throw RuleViolation.Invalid("An action with this id already exists.");
        }
        CheckPlan(planned.Plan);
        actions.Add(new FightAction { ActionId = planned.ActionId, Network = planned.Network, Plan = planned.Plan, Status = ActionStatus.Planned });
    }

    public static void CheckPlan(ActionPlan? plan)
    {
        if (plan is null)
        {
            throw RuleViolation.Invalid("The action has no plan.");
        }
        Text.Check("what", plan.What, Text.LongMax, required: true);
        Text.Check("place", plan.Place, Text.ShortMax);
        if (plan.StartsAt is null)
        {
            throw RuleViolation.Invalid("Say when the action starts.");
        }
        Dates.Check("start", plan.StartsAt);
        Dates.Check("end", plan.EndsAt);
        if (plan.EndsAt is not null && plan.EndsAt.ToDateTimeOffset() < plan.StartsAt.ToDateTimeOffset())
        {
            throw RuleViolation.Invalid("The action ends before it starts.");
        }
        if (!Enum.IsDefined(plan.Visibility))
        {
            throw RuleViolation.Invalid("Unknown action visibility.");
        }
    }

    private static FightAction Own(IList<FightAction> actions, EventPayload e, string actionId, string network, string verb)
    {
        var action = actions.FirstOrDefault(a => a.ActionId == actionId)
            ?? throw RuleViolation.NotFound($"No action {Identifiers.Truncate(actionId)} in this fight.");
        if (e.ActorNode != network || action.Network != network)
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.Autonomy,
                $"Autonomy of action: only network {Identifiers.Fingerprint(action.Network)}, which planned this action, can {verb} it.");
        }
        return action;
    }

    private static void RequirePlanned(FightAction action, string verb)
    {
        if (action.Status != ActionStatus.Planned)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Autonomy,
                $"This action is {action.Status.ToString().ToLowerInvariant()}; it can no longer be {verb}.");
        }
    }
}
