using System.CommandLine;
using Federation.Contracts.V1;
using static Federation.Cli.Cli;

namespace Federation.Cli;

/// <summary>A participating network's own part in a fight: its actions, its reports to the initiator, its stand-down acknowledgement.</summary>
public static partial class FightCli
{
    private static Command Report()
    {
        var id = FightId();
        var kind = Choice("KIND", "What happened", "referral", "police", "lawsuit", "retaliation", "infiltrator", "other");
        var summary = Text("--summary", "What happened", required: true);
        var (wait, timeout) = CallOutCli.WaitOptions();
        return Cmd("report", "File a referral (the target contacted you) or an incident with the initiator only", [id, kind, summary, wait, timeout], async s =>
            await Delivery.SubmitAsync(s, () => s.Client.FileReportAsync(new FileReportRequest
            {
                FightId = s.Get(id),
                Kind = s.Get(kind) switch
                {
                    "referral" => ReportKind.Referral,
                    "police" => ReportKind.Police,
                    "lawsuit" => ReportKind.Lawsuit,
                    "retaliation" => ReportKind.Retaliation,
                    "infiltrator" => ReportKind.SuspectedInfiltrator,
                    _ => ReportKind.Other,
                },
                Summary = s.Text(summary),
            }, s.Call).ResponseAsync, s.Get(wait), s.Get(timeout)));
    }

    private static Command Action()
    {
        Symbol[] PlanOptions(out Func<Session, ActionPlan> plan)
        {
            var what = Text("--what", "What you will do", required: true);
            var start = When("--start", "When it starts");
            start.Required = true;
            var end = When("--end", "When it ends");
            var place = Text("--place", "Where", "PLACE");
            var open = Switch("--public", "Shown to every network in the fight, invited ones too (default: committed networks only, also after it starts)");
            plan = s => new ActionPlan
            {
                What = s.Text(what),
                StartsAt = s.Get(start),
                EndsAt = s.Get(end),
                Place = s.Text(place),
                Visibility = s.Get(open) ? ActionVisibility.Public : ActionVisibility.ParticipantsUntilStart,
            };
            return [what, start, end, place, open];
        }

        Command Plan()
        {
            var id = FightId();
            var symbols = PlanOptions(out var plan);
            var (wait, timeout) = CallOutCli.WaitOptions();
            return Cmd("plan", "Plan one of this network's actions in the fight; prints its action id", [id, .. symbols, wait, timeout], async s =>
                await Delivery.SubmitAsync(s, () => s.Client.PlanActionAsync(new PlanActionRequest { FightId = s.Get(id), Plan = plan(s) }, s.Call).ResponseAsync, s.Get(wait), s.Get(timeout)));
        }

        Command Update()
        {
            var id = FightId();
            var action = Ids.Arg(IdKind.Action, "ACTION-ID", "The action's id", id);
            var symbols = PlanOptions(out var plan);
            var (wait, timeout) = CallOutCli.WaitOptions();
            return Cmd("update", "Change one of this network's actions (the whole plan is given again)", [id, action, .. symbols, wait, timeout], async s =>
                await Delivery.SubmitAsync(s, () => s.Client.UpdateActionAsync(new UpdateActionRequest { FightId = s.Get(id), ActionId = s.Get(action), Plan = plan(s) }, s.Call).ResponseAsync, s.Get(wait), s.Get(timeout)));
        }

        Command Cancel()
        {
            var id = FightId();
            var action = Ids.Arg(IdKind.Action, "ACTION-ID", "The action's id", id);
            var reason = Text("--reason", "Why");
            var (wait, timeout) = CallOutCli.WaitOptions();
            return Cmd("cancel", "Cancel one of this network's actions", [id, action, reason, wait, timeout], async s =>
                await Delivery.SubmitAsync(s, () => s.Client.CancelActionAsync(new CancelActionRequest { FightId = s.Get(id), ActionId = s.Get(action), Reason = s.Text(reason) }, s.Call).ResponseAsync, s.Get(wait), s.Get(timeout)));
        }

        Command ReportBack()
        {
            var id = FightId();
            var action = Ids.Arg(IdKind.Action, "ACTION-ID", "The action's id", id);
            var report = Text("--report", "What happened", required: true);
            var turnout = Whole("--turnout", "How many people took part");
            var (wait, timeout) = CallOutCli.WaitOptions();
            return Cmd("report", "Report back on one of this network's actions", [id, action, report, turnout, wait, timeout], async s =>
                await Delivery.SubmitAsync(s, () => s.Client.ReportActionAsync(new ReportActionRequest { FightId = s.Get(id), ActionId = s.Get(action), Report = s.Text(report), Turnout = s.Get(turnout) ?? 0 }, s.Call).ResponseAsync, s.Get(wait), s.Get(timeout)));
        }

        return Group("action", "This network's own actions in a fight: nobody else can create, edit or cancel them", Plan(), Update(), Cancel(), ReportBack());
    }

    private static Command Acknowledge()
    {
        var id = FightId();
        var (wait, timeout) = CallOutCli.WaitOptions();
        return Cmd("ack", "Acknowledge the stand-down of a fight that has ended", [id, wait, timeout], async s =>
            await Delivery.SubmitAsync(s, () => s.Client.AcknowledgeStandDownAsync(new GetObjectRequest { Id = s.Get(id) }, s.Call).ResponseAsync, s.Get(wait), s.Get(timeout)));
    }
}
