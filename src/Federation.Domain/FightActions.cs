using Federation.Contracts.V1;

namespace Federation.Domain;

/// <summary>
/// Autonomy of action: each network plans, edits, cancels and reports its own actions,
/// and nobody else can touch them. The initiator may publish requests (call-outs linked
/// to the fight) but cannot assign work.
/// </summary>
public static class FightActions
{
    internal static void Apply(FightState fight, EventPayload e, EventBody body)
    {
        switch (body.KindCase)
        {
            case EventBody.KindOneofCase.ActionPlanned:
                Planned(fight, e, body.ActionPlanned);
                break;
            case EventBody.KindOneofCase.ActionUpdated:
            {
                var u = body.ActionUpdated;
                var action = Own(fight, e, u.ActionId, u.Network, "edit");
                Fights.RequireNotEnded(fight, "change planned actions");
                RequirePlanned(action, "edited");
                CheckPlan(u.Plan);
                action.Plan = u.Plan;
                break;
            }
            case EventBody.KindOneofCase.ActionCancelled:
            {
                var c = body.ActionCancelled;
                var action = Own(fight, e, c.ActionId, c.Network, "cancel");
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
                var action = Own(fight, e, r.ActionId, r.Network, "report on");
                RequirePlanned(action, "reported");
                Text.Check("report", r.Report, Text.LongMax, required: true);
                action.Status = ActionStatus.Reported;
                action.Report = r.Report;
                action.Turnout = r.Turnout;
                break;
            }
        }
    }

    private static void Planned(FightState fight, EventPayload e, ActionPlanned planned)
    {
        if (e.ActorNode != planned.Network)
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.Autonomy,
                "Autonomy of action: a network plans only its own actions; the initiator may publish requests but cannot assign work.");
        }
        if (planned.Network != fight.OriginNode && !fight.Participants.Any(p => p.Network == planned.Network && Fights.IsIn(p)))
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.Autonomy,
                $"Network {Identifiers.Fingerprint(planned.Network)} is not committed to this fight, so it cannot plan actions in it.");
        }
        if (Fights.IsEnded(fight.Status))
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.SharedOutcome,
                $"Shared outcome: the fight has ended ({Fights.Describe(fight.Status)}); actions planned after the end are refused.");
        }
        // One spelling per UUID (lower case, dashed), so one action cannot hide under two ids.
        if (!Guid.TryParseExact(planned.ActionId, "D", out var id) || id.ToString() != planned.ActionId)
        {
            throw RuleViolation.Invalid("An action id must be a UUID in lower case with dashes.");
        }
        if (fight.Actions.Any(a => a.ActionId == planned.ActionId))
        {
            throw RuleViolation.Invalid("An action with this id already exists.");
        }
        CheckPlan(planned.Plan);
        fight.Actions.Add(new FightAction { ActionId = planned.ActionId, Network = planned.Network, Plan = planned.Plan, Status = ActionStatus.Planned });
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

    private static FightAction Own(FightState fight, EventPayload e, string actionId, string network, string verb)
    {
        var action = fight.Actions.FirstOrDefault(a => a.ActionId == actionId)
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
