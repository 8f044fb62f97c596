using System.CommandLine;
using Federation.Contracts.V1;
using static Federation.Cli.Cli;

namespace Federation.Cli;

/// <summary>Joint fights: the initiator's terms and decisions, and each participant's own part.</summary>
public static partial class FightCli
{
    public static IEnumerable<Command> Commands() => [FightCommands(), Fights(), Balance(), Commitments()];

    /// <summary>The terms flags shared by draft, terms and amend.</summary>
    private sealed class TermsOptions(bool demandsRequired = false)
    {
        public readonly Option<string[]> Demands = Many("--demand", demandsRequired ? "A demand" : "A demand (given: replaces the demands)");
        public readonly Option<string> Strategy = Text("--strategy", "How the fight will be won");
        public readonly Option<string> Facts = Text("--facts", "The facts of the conflict");
        public readonly Option<string> EndConditions = Text("--end-conditions", "The conditions on which the fight ends");
        public readonly Option<string> Materials = Text("--materials", "Links to leaflets, letters and other materials");

        public Symbol[] All => [Demands, Strategy, Facts, EndConditions, Materials];

        /// <summary>Starts from the terms as they are and changes only what the flags name.</summary>
        public FightTerms Apply(Session s, FightTerms? current)
        {
            var t = current?.Clone() ?? new FightTerms();
            if (s.Has(Demands))
            {
                t.Demands.Clear();
                t.Demands.AddRange(s.All(Demands));
            }
            if (s.Has(Strategy)) t.Strategy = s.Text(Strategy);
            if (s.Has(Facts)) t.Facts = s.Text(Facts);
            if (s.Has(EndConditions)) t.EndConditions = s.Text(EndConditions);
            if (s.Has(Materials)) t.Materials = s.Text(Materials);
            return t;
        }
    }

    private static Argument<string> FightId() => Ids.Arg(IdKind.Fight, "ID", "The fight's id");

    private static Command FightCommands()
    {
        var id = FightId();
        return Group("fight", "Joint fights: terms first, take it or leave it, in until the end, one voice to the target",
            Draft(), Terms(), Cmd("open", "Freeze the terms (they must be complete) and open the fight (organiser); prints the terms hash", [id], async s =>
                s.Out.Print(await s.Client.OpenFightAsync(new GetObjectRequest { Id = s.Get(id) }, s.Call), shown => Format.Fight(shown, s.Networks))),
            Invite(), Accept(), Decline(), Status(),
            Cmd("show", "One fight in full: terms, hash, participants, actions, history", [id], async s =>
                s.Out.Print(await s.Client.GetFightAsync(new GetObjectRequest { Id = s.Get(id) }, s.Call), shown => Format.Fight(shown, s.Networks))),
            Cmd("list", "Every fight this node holds (same as `fights`)", [], ListAsync),
            Participants(), Amend(), Diff(), Reaffirm(), DeclineAmendment(), RequestRelease(), GrantRelease(),
            DeliverDemand(), Communication(), Report(),
            Cmd("reports", "Referrals and incidents filed with this node as initiator (organiser)", [id], async s =>
                s.Out.List((await s.Client.ListReportsAsync(new GetObjectRequest { Id = s.Get(id) }, s.Call)).Reports, "No referrals or incidents.",
                    new Column<FightReport>("At", r => Format.When(r.At)),
                    new Column<FightReport>("Network", r => s.Networks.Who(r.Network)),
                    new Column<FightReport>("Kind", r => r.Kind.ToString().ToLowerInvariant()),
                    new Column<FightReport>("Summary", r => r.Summary))),
            Action(), Acknowledge(), Calendar(),
            Brief(),
            Cmd("briefings", "The fight's participants-only briefings, where this network may see them", [id], async s =>
                s.Out.Print(await s.Client.GetBriefingsAsync(new GetObjectRequest { Id = s.Get(id) }, s.Call), Format.Briefings)),
            Local(),
            Cmd("local-show", "The details that never leave this node (organiser, initiator)", [id], async s =>
                s.Out.Print(await s.Client.GetLocalDetailsAsync(new GetObjectRequest { Id = s.Get(id) }, s.Call), Format.Local)),
            Cmd("purge", "Delete this node's confidential details of the fight now (operator): local details, briefings and participants-only plans, referrals and incidents, and anything of it still queued or parked for peers (closed call-outs are purged by themselves, Node:PurgeAfter after they close)", [id], async s =>
                s.Out.Print(await s.Client.PurgeFightAsync(new GetObjectRequest { Id = s.Get(id) }, s.Call),
                    r => $"Purged here: local details {(r.LocalDetails ? "deleted" : "none")}, {r.Briefings} briefing(s), {r.Reports} referral(s)/incident(s).")));
    }

    private static Command Draft()
    {
        var title = Text("--title", "A short title", required: true);
        var target = Text("--target", "The boss or landlord", "NAME", required: true);
        var parent = Text("--parent", "The target's parent company", "COMPANY");
        var terms = new TermsOptions(demandsRequired: true);
        return Cmd("draft", "Start a fight as a local draft (organiser); its terms can be completed later with `fight terms`",
            [title, target, parent, .. terms.All], async s =>
                s.Out.Print(await s.Client.DraftFightAsync(new DraftFightRequest
                {
                    Title = s.Text(title),
                    Target = new Target { Name = s.Text(target), ParentCompany = s.Text(parent) },
                    Terms = terms.Apply(s, null),
                }, s.Call), shown => Format.Fight(shown, s.Networks)));
    }

    private static Command Terms()
    {
        var id = FightId();
        var terms = new TermsOptions();
        return Cmd("terms", "Edit a draft's terms (organiser): only the flags given change", [id, .. terms.All], async s =>
        {
            var fight = await s.Client.GetFightAsync(new GetObjectRequest { Id = s.Get(id) }, s.Call);
            s.Out.Print(await s.Client.UpdateDraftTermsAsync(new UpdateDraftTermsRequest { FightId = s.Get(id), Terms = terms.Apply(s, fight.Terms) }, s.Call), shown => Format.Fight(shown, s.Networks));
        });
    }

    private static Command Invite()
    {
        var id = FightId();
        var networks = new Argument<string[]>("FINGERPRINT") { Description = "The networks to invite: their fingerprints or names", Arity = ArgumentArity.OneOrMore };
        return Cmd("invite", "Offer the fight's terms to peers (organiser): they take them or leave them", [id, networks], async s =>
        {
            var invite = new InviteToFightRequest { FightId = s.Get(id) };
            invite.Networks.AddRange((s.Get(networks) ?? []).Select(n => s.Resolve(IdKind.Peer, n)));
            var invited = await s.Client.InviteToFightAsync(invite, s.Call);
            s.Out.Print(invited, shown => Format.Fight(shown, s.Networks));
            Output.Warn(invited.Warnings);
        });
    }

    private static Command Accept()
    {
        var id = FightId();
        var hash = Arg("TERMS-HASH", "The hash of the exact terms you accept (`fight show ID --field terms_hash`)");
        var (wait, timeout) = CallOutCli.WaitOptions();
        return Cmd("accept", "Accept an invitation: commits this network to those terms until the fight ends", [id, hash, wait, timeout], async s =>
            await Delivery.SubmitAsync(s, () => s.Client.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = s.Get(id), TermsHash = s.Get(hash) }, s.Call).ResponseAsync, s.Get(wait), s.Get(timeout)));
    }

    private static Command Decline()
    {
        var id = FightId();
        var reason = Text("--reason", "Why (optional; declining is normal)");
        var offer = Text("--offer", "One-off actions you offer instead");
        var (wait, timeout) = CallOutCli.WaitOptions();
        return Cmd("decline", "Decline an invitation, optionally offering one-off actions instead", [id, reason, offer, wait, timeout], async s =>
            await Delivery.SubmitAsync(s, () => s.Client.DeclineInvitationAsync(new DeclineInvitationRequest { FightId = s.Get(id), Reason = s.Text(reason), Offer = s.Text(offer) }, s.Call).ResponseAsync, s.Get(wait), s.Get(timeout)));
    }

    private static Command Status()
    {
        var id = FightId();
        var status = Choice("STATUS", "The new status", "escalating", "paused", "won", "settled", "lost", "called-off");
        var note = Text("--note", "What happened");
        return Cmd("status", "Change the fight's status (organiser, initiator only); an end sends every committed network a stand-down", [id, status, note], async s =>
            s.Out.Print(await s.Client.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = s.Get(id), Status = FightStatusOf(s.Get(status)), Note = s.Text(note) }, s.Call), shown => Format.Fight(shown, s.Networks)));
    }

    private static Command Participants()
    {
        var id = FightId();
        return Cmd("participants", "Who was invited, who committed, who asks to be released, and who has acknowledged the stand-down", [id], async s =>
        {
            var fight = await s.Client.GetFightAsync(new GetObjectRequest { Id = s.Get(id) }, s.Call);
            s.Out.List(fight.Participants, "Nobody has been invited yet.",
                new Column<Participant>("Network", p => s.Networks.Who(p.Network)),
                new Column<Participant>("State", p => Format.ParticipantState(p.State)),
                new Column<Participant>("Terms", p => p.TermsHash.Length > 12 ? p.TermsHash[..12] + "…" : p.TermsHash),
                new Column<Participant>("Release", p => p.ReleaseRequested ? $"asked: {p.ReleaseReason}" : ""),
                new Column<Participant>("Stand-down", p => p.StandDownPending ? "NOT ACKNOWLEDGED" : p.StandDownAcknowledgedAt is { } at ? $"acknowledged {Format.When(at)}" : ""),
                new Column<Participant>("Notes", p => string.Join("; ", new[] { p.Reason, p.Offer.Length > 0 ? $"offers: {p.Offer}" : "" }.Where(x => x.Length > 0))));
        });
    }

    private static Command Amend()
    {
        var id = FightId();
        var terms = new TermsOptions();
        var note = Text("--note", "Why the terms change");
        return Cmd("amend", "Amend an open fight's terms (organiser): a new frozen version every committed network must reaffirm; only the flags given change",
            [id, .. terms.All, note], async s =>
            {
                var fight = await s.Client.GetFightAsync(new GetObjectRequest { Id = s.Get(id) }, s.Call);
                s.Out.Print(await s.Client.AmendTermsAsync(new AmendTermsRequest { FightId = s.Get(id), Terms = terms.Apply(s, fight.Terms), Note = s.Text(note) }, s.Call), shown => Format.Fight(shown, s.Networks));
            });
    }

    private static Command Diff()
    {
        var id = FightId();
        return Cmd("diff", "What the latest amendment changed in the terms", [id], async s =>
        {
            var f = await s.Client.GetFightAsync(new GetObjectRequest { Id = s.Get(id) }, s.Call);
            var amended = f.Versions.Count > 1;
            if (s.Out.Json)
            {
                s.Out.Line(Output.ToJson(new { fightId = f.Id, amended, versions = f.Versions.Count, termsHash = f.TermsHash, changes = f.AmendmentDiff.ToArray() }));
                return;
            }
            s.Out.Line(amended ? string.Join("\n", f.AmendmentDiff) : "The terms have not been amended.");
        });
    }

    private static Command Reaffirm()
    {
        var id = FightId();
        var hash = Arg("TERMS-HASH", "The hash of the amended terms (`fight show ID --field terms_hash`)");
        var (wait, timeout) = CallOutCli.WaitOptions();
        return Cmd("reaffirm", "Stay in the fight on the amended terms", [id, hash, wait, timeout], async s =>
            await Delivery.SubmitAsync(s, () => s.Client.ReaffirmTermsAsync(new ReaffirmTermsRequest { FightId = s.Get(id), TermsHash = s.Get(hash) }, s.Call).ResponseAsync, s.Get(wait), s.Get(timeout)));
    }

    private static Command DeclineAmendment()
    {
        var id = FightId();
        var reason = Text("--reason", "Why (optional)");
        var (wait, timeout) = CallOutCli.WaitOptions();
        return Cmd("decline-amendment", "Decline the amended terms: this network is released from the fight", [id, reason, wait, timeout], async s =>
            await Delivery.SubmitAsync(s, () => s.Client.DeclineAmendmentAsync(new DeclineAmendmentRequest { FightId = s.Get(id), Reason = s.Text(reason) }, s.Call).ResponseAsync, s.Get(wait), s.Get(timeout)));
    }

    private static Command RequestRelease()
    {
        var id = FightId();
        var reason = Text("--reason", "Why this network asks to leave", required: true);
        var (wait, timeout) = CallOutCli.WaitOptions();
        return Cmd("release-request", "Ask the initiator to release this network (there is no unilateral withdrawal)", [id, reason, wait, timeout], async s =>
            await Delivery.SubmitAsync(s, () => s.Client.RequestReleaseAsync(new RequestReleaseRequest { FightId = s.Get(id), Reason = s.Text(reason) }, s.Call).ResponseAsync, s.Get(wait), s.Get(timeout)));
    }

    private static Command GrantRelease()
    {
        var id = FightId();
        var network = Ids.Arg(IdKind.Peer, "FINGERPRINT", "The network to release: its fingerprint or its name");
        var reason = Text("--reason", "Why (optional)");
        return Cmd("release", "Release a committed network from the fight (organiser, initiator only)", [id, network, reason], async s =>
            s.Out.Print(await s.Client.GrantReleaseAsync(new GrantReleaseRequest { FightId = s.Get(id), Network = s.Get(network), Reason = s.Text(reason) }, s.Call), shown => Format.Fight(shown, s.Networks)));
    }

    private static Command DeliverDemand()
    {
        var id = FightId();
        var deadline = When("--deadline", "The deadline given to the target");
        var note = Text("--note", "How it was delivered");
        return Cmd("demand", "Record that the demand was delivered to the target (organiser, initiator only)", [id, deadline, note], async s =>
            s.Out.Print(await s.Client.DeliverDemandAsync(new DeliverDemandRequest { FightId = s.Get(id), Deadline = s.Get(deadline), Note = s.Text(note) }, s.Call), shown => Format.Fight(shown, s.Networks)));
    }

    private static Command Communication()
    {
        var id = FightId();
        var kind = Choice("KIND", "What the target did", "reply", "negotiation", "settlement-offer", "other");
        var summary = Text("--summary", "What was said", required: true);
        return Cmd("communication", "Record a communication with the target (organiser, initiator only: one voice to the target)", [id, kind, summary], async s =>
            s.Out.Print(await s.Client.RecordCommunicationAsync(new RecordCommunicationRequest
            {
                FightId = s.Get(id),
                Kind = s.Get(kind) switch
                {
                    "reply" => CommunicationKind.Reply,
                    "negotiation" => CommunicationKind.Negotiation,
                    "settlement-offer" => CommunicationKind.SettlementOffer,
                    _ => CommunicationKind.Other,
                },
                Summary = s.Text(summary),
            }, s.Call), shown => Format.Fight(shown, s.Networks)));
    }

    private static Command Calendar()
    {
        var id = FightId();
        var file = Text("--out", "Write the .ics to this file instead of standard output", "FILE");
        return Cmd("calendar", "The fight's shared action calendar as an iCalendar (.ics) file", [id, file], async s =>
        {
            var ics = await s.Client.ExportFightCalendarAsync(new GetObjectRequest { Id = s.Get(id) }, s.Call);
            if (s.Out.Quiet)
            {
                s.Out.Print(ics, _ => "");
            }
            else if (s.Has(file))
            {
                await PrivateFile.WriteAllTextAsync(s.Text(file), ics.Content, s.Cancel);
                s.Out.Line($"Wrote {s.Text(file)}");
            }
            else
            {
                Console.Write(ics.Content);
            }
        });
    }

    private static Command Brief()
    {
        var id = FightId();
        var text = Text("--text", "The briefing", required: true);
        return Cmd("brief", "Post a participants-only briefing (organiser, initiator only)", [id, text], async s =>
            s.Out.Print(await s.Client.PostBriefingAsync(new PostBriefingRequest { FightId = s.Get(id), Text = s.Text(text) }, s.Call), Format.Briefings));
    }

    private static Command Local()
    {
        var id = FightId();
        var person = Text("--person", "The affected worker or tenant", "NAME");
        var contact = Text("--contact", "How to reach them");
        var notes = Text("--notes", "Anything else");
        return Cmd("local", "Keep details that never leave this node (organiser, initiator only)", [id, person, contact, notes], async s =>
            s.Out.Print(await s.Client.SetLocalDetailsAsync(new SetLocalDetailsRequest
            {
                FightId = s.Get(id),
                Details = new LocalDetails { AffectedPerson = s.Text(person), Contact = s.Text(contact), Notes = s.Text(notes) },
            }, s.Call), Format.Local));
    }

    private static Command Fights() => Cmd("fights", "Every fight this node holds, initiated and joined (same as `fight list`)", [], ListAsync);

    private static async Task ListAsync(Session s) =>
        s.Out.List((await s.Client.ListFightsAsync(new ListFightsRequest(), s.Call)).Fights, "No fights.",
            new Column<FightState>("Id", f => Ids.Shown(f.Id)),
            new Column<FightState>("Status", f => Format.Status(f.Status)),
            new Column<FightState>("Initiator", f => s.Networks.Who(f.OriginNode)),
            new Column<FightState>("Title", f => f.Title),
            new Column<FightState>("Target", f => f.Target?.Name ?? ""),
            new Column<FightState>("Networks", f => $"{f.Participants.Count(p => p.State is ParticipantState.Committed or ParticipantState.AwaitingReaffirmation)} committed"));

    private static Command Balance() => Cmd("balance", "Your network's own picture: fights initiated and joined, call-outs answered (never shared, never a score)", [], async s =>
        s.Out.Print(await s.Client.GetBalanceAsync(new GetBalanceRequest(), s.Call), Format.Balance));

    /// <summary>Each network's commitment in a fight or call-out, and whether its own signature proves it here.</summary>
    private static Command Commitments()
    {
        var id = Arg("ID", "The fight's or call-out's id");
        return Cmd("commitments", "Who committed to what in a fight or call-out, each proven by that network's own signature or marked as resting on the origin's word",
            [id], async s =>
                s.Out.List((await s.Client.ListCommitmentsAsync(new GetObjectRequest { Id = s.Get(id) }, s.Call)).Commitments, "No commitments yet.",
                    new Column<Commitment>("At", c => Format.When(c.OccurredAt)),
                    new Column<Commitment>("Network", c => Format.Short(c.Network)),
                    new Column<Commitment>("What", c => c.TermsHash.Length > 0 ? $"{c.What} {c.TermsHash[..Math.Min(12, c.TermsHash.Length)]}" : c.What),
                    new Column<Commitment>("Proof", c => c.Proven ? "signed by the network" : $"unproven: {c.WhyUnproven}")));
    }

    private static FightStatus FightStatusOf(string name) => name switch
    {
        "escalating" => FightStatus.Escalating,
        "paused" => FightStatus.Paused,
        "won" => FightStatus.Won,
        "settled" => FightStatus.Settled,
        "lost" => FightStatus.Lost,
        _ => FightStatus.CalledOff,
    };
}
