using System.CommandLine;
using Federation.Contracts.V1;
using Google.Protobuf;
using Grpc.Core;
using static Federation.Cli.Cli;

namespace Federation.Cli;

/// <summary>Call-outs: publishing and answering them, the inbox, and notifications.</summary>
public static class CallOutCli
{
    private static readonly string[] ActionNames = ["picket", "blockade", "leafleting", "noise-demo", "call-in", "online"];

    public static IEnumerable<Command> Commands() => [CallOutCommands(), CallOuts(), Inbox(), Notify()];

    /// <summary>The content flags shared by publish and update.</summary>
    private sealed class ContentOptions
    {
        public readonly Option<string> File = Text("--file", "Read the call-out from a JSON file (- for standard input), shaped like the \"content\" of `solnet callout show ID --json`; flags given as well override it", "FILE");
        public readonly Option<string> Title = Text("--title", "A short title");
        public readonly Option<string> Target = Text("--target", "The boss or landlord", "NAME");
        public readonly Option<string> Parent = Text("--parent", "The target's parent company", "COMPANY");
        public readonly Option<string> Demand = Text("--demand", "What the target must do");
        public readonly Option<string[]> Place = Many("--place", "Where: \"CITY|ADDRESS\"", "PLACE");
        public readonly Option<string[]> Action = ManyChoices("--action", "What kind of action", ActionNames);
        public readonly Option<Google.Protobuf.WellKnownTypes.Timestamp?> Start = When("--start", "When the action window starts (e.g. 2026-12-05T10:00:00Z)");
        public readonly Option<Google.Protobuf.WellKnownTypes.Timestamp?> End = When("--end", "When the action window ends");
        public readonly Option<string> Tz = Text("--tz", "The time zone people act in (e.g. Europe/London)", "ZONE");
        public readonly Option<string> TalkingPoints = Text("--talking-points", "What to say");
        public readonly Option<string> Safety = Text("--safety", "Safety and legal notes");
        public readonly Option<Google.Protobuf.WellKnownTypes.Timestamp?> Expires = When("--expires", "When the call-out closes by itself");
        public readonly Option<string> Fight = Text("--fight", "The joint fight this call-out belongs to", "ID");

        public Symbol[] All => [File, Title, Target, Parent, Demand, Place, Action, Start, End, Tz, TalkingPoints, Safety, Expires, Fight];

        /// <summary>Changes only what the flags name; --place and --action replace their lists.</summary>
        public void Apply(Session s, CallOutContent c)
        {
            c.Target ??= new Target();
            void Set(Option<string> option, Action<string> apply)
            {
                if (s.Has(option))
                {
                    apply(s.Text(option));
                }
            }
            Set(Title, v => c.Title = v);
            Set(Target, v => c.Target.Name = v);
            Set(Parent, v => c.Target.ParentCompany = v);
            Set(Demand, v => c.DemandSummary = v);
            Set(TalkingPoints, v => c.TalkingPoints = v);
            Set(Safety, v => c.SafetyNotes = v);
            Set(Tz, v => c.TimeZone = v);
            Set(Fight, v => c.FightId = v);
            if (s.Has(Start)) c.WindowStart = s.Get(Start);
            if (s.Has(End)) c.WindowEnd = s.Get(End);
            if (s.Has(Expires)) c.ExpiresAt = s.Get(Expires);
            if (s.Has(Place))
            {
                c.Places.Clear();
                foreach (var place in s.All(Place))
                {
                    var parts = place.Split('|', 2);
                    c.Places.Add(new Place { City = parts[0].Trim(), Address = parts.Length > 1 ? parts[1].Trim() : "" });
                }
            }
            if (s.Has(Action))
            {
                c.ActionTypes.Clear();
                c.ActionTypes.AddRange(s.All(Action).Select(ActionType));
            }
        }

        public async Task<CallOutContent?> FromFileAsync(Session s)
        {
            if (!s.Has(File))
            {
                return null;
            }
            var path = s.Text(File);
            var text = path == "-" ? await Console.In.ReadToEndAsync(s.Cancel) : await System.IO.File.ReadAllTextAsync(path, s.Cancel);
            try
            {
                return JsonParser.Default.Parse<CallOutContent>(text);
            }
            catch (Exception ex) when (ex is InvalidProtocolBufferException or InvalidJsonException or FormatException)
            {
                throw new UsageException($"{path} is not a call-out: {ex.Message} (expected JSON like the \"content\" of `solnet callout show ID --json`).");
            }
        }
    }

    private static Command CallOutCommands()
    {
        var id = Ids.Arg(IdKind.CallOut, "ID", "The call-out's id");
        return Group("callout", "Call-outs: one-off actions asked of other networks, and the answers",
            Publish(), Update(id),
            Cmd("list", "Every call-out this node holds (same as `callouts`)", [], ListAsync),
            Cmd("show", "One call-out in full: content, audience, revisions and every network's latest answer", [id], async s =>
                s.Out.Print(await s.Client.GetCallOutAsync(new GetObjectRequest { Id = s.Get(id) }, s.Call), shown => Format.CallOut(shown, s.Networks))),
            Respond(),
            Close(id), Cancel(id), Calendar());
    }

    private static Command Publish()
    {
        var content = new ContentOptions();
        var to = Many("--to", "Send it only to this peer", "FINGERPRINT");
        var region = Many("--region", "Send it to the peers in this region", "REGION");
        var fediverse = Switch("--public",
            "Also post it on the fediverse, to anyone following this network there: its title, target, demand, places, window and actions become public");
        return Cmd("publish", "Publish a call-out (organiser): from flags, or from a file with --file. No --to and no --region: every peer",
            [.. content.All, to, region, fediverse], async s =>
            {
                var c = await content.FromFileAsync(s) ?? new CallOutContent();
                content.Apply(s, c);
                if (c.Title.Length == 0 || (c.Target?.Name ?? "").Length == 0 || c.DemandSummary.Length == 0)
                {
                    throw new UsageException("A call-out needs --title, --target and --demand (or a --file that has them).");
                }
                if (s.Has(to) && s.Has(region))
                {
                    throw new UsageException("Send the call-out to chosen peers (--to) or to peers in regions (--region), not both.");
                }
                var request = new PublishCallOutRequest { Content = c, FediversePublic = s.Get(fediverse) };
                if (s.Has(region))
                {
                    request.Audience = new CallOutAudience { Kind = AudienceKind.Regions, Regions = { s.All(region) } };
                }
                request.Recipients.AddRange(s.All(to).Select(PeeringCode.Id));
                var published = await s.Client.PublishCallOutAsync(request, s.Call);
                s.Out.Print(published, shown => Format.CallOut(shown, s.Networks));
                Output.Warn(published.Warnings);
            });
    }

    private static Command Update(Argument<string> id)
    {
        var content = new ContentOptions();
        return Cmd("update", "Change a call-out you issued (organiser): only the flags given change (--file replaces the whole content first); every recipient is told what changed",
            [id, .. content.All], async s =>
            {
                var c = await content.FromFileAsync(s)
                    ?? (await s.Client.GetCallOutAsync(new GetObjectRequest { Id = s.Get(id) }, s.Call)).Content.Clone();
                content.Apply(s, c);
                s.Out.Print(await s.Client.UpdateCallOutAsync(new UpdateCallOutRequest { CallOutId = s.Get(id), Content = c }, s.Call), shown => Format.CallOut(shown, s.Networks));
            });
    }

    private static Command Respond()
    {
        var id = Ids.Arg(IdKind.CallOut, "ID", "The call-out's id");
        var kind = Choice("KIND", "The answer", "pledge", "decline", "unable", "report");
        var date = Text("--date", "pledge: the day you will act (e.g. 2026-12-05)", "DATE");
        var place = Text("--place", "pledge: where", "PLACE");
        var reason = Text("--reason", "decline, unable: why (optional)", "TEXT");
        var report = Text("--report", "report: what you did", "TEXT");
        var turnout = Whole("--turnout", "report: how many people took part");
        var targetResponse = Text("--target-response", "report: how the target responded", "TEXT");
        var incidents = Text("--incidents", "report: police, arrests, threats…", "TEXT");
        var share = Switch("--share", "report: let the call-out's other recipients read it too (by default it reaches the issuer only)");
        var (wait, timeout) = WaitOptions();
        return Cmd("respond", "Answer a call-out: pledge an action, decline, say you are unable after all, or report back what you did",
            [id, kind, date, place, reason, report, turnout, targetResponse, incidents, share, wait, timeout], async s =>
            {
                var response = s.Get(kind) switch
                {
                    "pledge" => new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = s.Require(date), Place = s.Text(place) },
                    "decline" => new CallOutResponse { Kind = ResponseKind.Decline, Reason = s.Text(reason) },
                    "unable" => new CallOutResponse { Kind = ResponseKind.Unable, Reason = s.Text(reason) },
                    _ => new CallOutResponse
                    {
                        Kind = ResponseKind.ReportBack,
                        Report = s.Require(report),
                        Turnout = s.Get(turnout) ?? 0,
                        TargetResponse = s.Text(targetResponse),
                        Incidents = s.Text(incidents),
                        ShareWithRecipients = s.Get(share),
                    },
                };
                await Delivery.SubmitAsync(s, () => s.Client.RespondToCallOutAsync(new RespondToCallOutRequest { CallOutId = s.Get(id), Response = response }, s.Call).ResponseAsync,
                    s.Get(wait), s.Get(timeout));
            });
    }

    /// <summary>--wait and --timeout for commands whose change travels to another node.</summary>
    public static (Option<bool> Wait, Option<uint?> Timeout) WaitOptions() =>
        (Switch("--wait", "Wait until the origin node has received it, showing progress (exit code 5 if it has not by --timeout)"),
         Whole("--timeout", "With --wait: give up waiting after this many seconds (default 60)", "SECONDS"));

    private static Command Close(Argument<string> id)
    {
        var cancel = Switch("--cancel", "Cancel it rather than close it (it was called off)");
        var reason = Text("--reason", "Why, for the recipients");
        return Cmd("close", "Close a call-out you issued (organiser): no more answers are asked for", [id, cancel, reason], async s =>
            s.Out.Print(await s.Client.CloseCallOutAsync(new CloseCallOutRequest { CallOutId = s.Get(id), Cancelled = s.Get(cancel), Reason = s.Text(reason) }, s.Call), shown => Format.CallOut(shown, s.Networks)));
    }

    private static Command Cancel(Argument<string> id)
    {
        var reason = Text("--reason", "Why, for the recipients");
        return Cmd("cancel", "Cancel a call-out you issued (organiser): same as `close --cancel`", [id, reason], async s =>
            s.Out.Print(await s.Client.CloseCallOutAsync(new CloseCallOutRequest { CallOutId = s.Get(id), Cancelled = true, Reason = s.Text(reason) }, s.Call), shown => Format.CallOut(shown, s.Networks)));
    }

    private static Command Calendar()
    {
        var all = Switch("--all", "Every network's pledges this node holds, not only this network's");
        var file = Text("--out", "Write the .ics to this file instead of standard output", "FILE");
        return Cmd("calendar", "Pledged actions as an iCalendar (.ics) file", [all, file], async s =>
        {
            var export = await s.Client.ExportPledgesAsync(new ExportPledgesRequest { AllNetworks = s.Get(all) }, s.Call);
            foreach (var skipped in export.Skipped)
            {
                Console.Error.WriteLine($"solnet: skipped {skipped}");
            }
            if (s.Out.Quiet)
            {
                s.Out.Print(export, _ => "");
            }
            else if (s.Has(file))
            {
                // The .ics already has CRLF line ends (RFC 5545); write the text as it is.
                await PrivateFile.WriteAllTextAsync(s.Text(file), export.Ics, s.Cancel);
                s.Out.Line($"Wrote {export.Events} pledged action(s) to {s.Text(file)}.");
            }
            else
            {
                Console.Write(export.Ics);
            }
        });
    }

    private static Command CallOuts() => Cmd("callouts", "Every call-out this node holds, issued and received (same as `callout list`)", [], ListAsync);

    private static async Task ListAsync(Session s) =>
        s.Out.List((await s.Client.ListCallOutsAsync(new ListCallOutsRequest(), s.Call)).CallOuts, "No call-outs.", CallOutColumns(s));

    private static Column<CallOutState>[] CallOutColumns(Session s) =>
    [
        new("Id", c => Ids.Shown(c.Id)),
        new("State", Format.State),
        new("Window", c => Format.When(c.Content.WindowStart, "yyyy-MM-dd HH:mm'Z'")),
        new("From", c => s.Networks.Who(c.OriginNode)),
        new("Title", c => c.Content.Title),
        new("Target", c => c.Content.Target?.Name ?? ""),
        new("Places", c => string.Join("; ", c.Content.Places.Select(p => $"{p.City} {p.Address}".Trim())), Drop: 1),
        new("Responses", c => $"{c.Responses.Count}"),
    ];

    private static Command Inbox()
    {
        var open = Switch("--open", "Only call-outs still open");
        var closed = Switch("--closed", "Only closed, cancelled or expired ones");
        var city = Text("--city", "Only those with a place in this city", "CITY");
        var region = Text("--region", "Only those from networks in this region", "REGION");
        var action = ManyChoices("--action", "Only these kinds of action", ActionNames);
        var from = When("--from", "Only those whose window ends after this");
        var until = When("--until", "Only those whose window starts before this");
        var fight = Text("--fight", "Only those linked to this fight", "ID");
        var issued = Switch("--issued", "Include the call-outs this node issued");
        var keepNew = Switch("--keep-new", "Leave what's new marked new (showing it otherwise marks it seen for your token)");
        var inbox = Cmd("inbox", "What waits for your answer, what's new in what you started since your token last looked, and the call-outs sent to this node (soonest window first, with filters)",
            [open, closed, city, region, action, from, until, fight, issued, keepNew], async s =>
        {
            if (s.Get(open) && s.Get(closed))
            {
                throw new UsageException("Choose --open or --closed, or neither for both.");
            }
            var q = new InboxQuery
            {
                State = s.Get(open) ? InboxStateFilter.Open : s.Get(closed) ? InboxStateFilter.Closed : InboxStateFilter.Any,
                City = s.Text(city),
                Region = s.Text(region),
                WindowFrom = s.Get(from),
                WindowTo = s.Get(until),
                FightId = s.Text(fight),
                IncludeIssued = s.Get(issued),
            };
            q.ActionTypes.AddRange(s.All(action).Select(ActionType));
            var callOuts = (await s.Client.QueryInboxAsync(q, s.Call)).CallOuts;
            // A filter narrows the call-outs; what waits and what's new are not call-out lists to filter,
            // and --field names a call-out's field: both print the call-outs alone, as before issue 17 #2.
            var filtered = s.Get(open) || s.Get(closed) || q.City.Length > 0 || q.Region.Length > 0 || q.ActionTypes.Count > 0
                || q.WindowFrom is not null || q.WindowTo is not null || q.FightId.Length > 0 || s.Out.Field is not null;
            if (filtered)
            {
                s.Out.List(callOuts, "Nothing in the inbox matches.", CallOutColumns(s));
                return;
            }
            var news = await s.Client.GetWhatsNewAsync(new GetWhatsNewRequest(), s.Call);
            if (s.Out.Json)
            {
                s.Out.Line($"{{\"whatsNew\":{Output.ToJson(news)},\"callOuts\":[{string.Join(",", callOuts.Select(Output.ToJson))}]}}");
            }
            else
            {
                s.Out.Line(news.Waiting.Count == 0 ? "Nothing waits for your answer." : $"Waiting for your answer ({news.Waiting.Count}):");
                foreach (var item in news.Waiting)
                {
                    s.Out.Line("  " + Format.Waiting(item).Replace("\n", "\n  ", StringComparison.Ordinal));
                }
                var since = news.LastLooked is null ? "" : $" since you last looked ({Format.When(news.LastLooked)})";
                s.Out.Line(news.News.Count == 0 ? $"\nNothing new in what you started{since}." : $"\nNew in what you started{since} ({news.News.Count}):");
                foreach (var item in news.News)
                {
                    s.Out.Line("  " + Format.Item(item).Replace("\n", "\n  ", StringComparison.Ordinal));
                }
                s.Out.Line("\nCall-outs sent to this node:");
                s.Out.List(callOuts, "None.", CallOutColumns(s));
            }
            if (!s.Get(keepNew) && news.UpTo > 0)
            {
                await s.Client.MarkNewsSeenAsync(new MarkNewsSeenRequest { UpTo = news.UpTo }, s.Call);
            }
        });
        inbox.Subcommands.Add(Watch());
        return inbox;
    }

    private static Command Watch()
    {
        var after = new Option<ulong>("--after") { Description = "Resume after this cursor, as printed by an earlier watch (default: only what happens from now on)", HelpName = "CURSOR" };
        return Cmd("watch", "Stream new and changed call-outs, and fight events this network must act on, as they arrive, until Ctrl-C (--json: one object per line)", [after], async s =>
        {
            using var call = s.Client.SubscribeInbox(new SubscribeInboxRequest { AfterCursor = s.Get(after) }, s.Stream(s.Cancel));
            var write = s.Out.LinesDuringWait;
            try
            {
                // Inside the try: Ctrl-C before the node has answered ends the watch as quietly as after.
                var from = (await call.ResponseHeadersAsync).GetValue("x-feed-cursor");
                await s.Out.WaitAsync($"Watching for call-outs and fight events after cursor {from}. Ctrl-C stops.", async status =>
                {
                    var seen = 0;
                    while (await call.ResponseStream.MoveNext(s.Cancel))
                    {
                        var item = call.ResponseStream.Current;
                        write(s.Out.Json ? Output.ToJson(item) : Format.Item(item));
                        status($"Watching: {++seen} change(s) so far, last cursor {item.Cursor}. Ctrl-C stops.");
                    }
                    return seen;
                });
            }
            catch (Exception ex) when (s.Cancel.IsCancellationRequested && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                // Ctrl-C: the way a watch ends.
            }
        });
    }

    private static Command Notify()
    {
        var url = Arg("URL", "Where to POST (https://…)");
        var secret = Text("--secret", "A shared secret that signs every delivery (X-Solnet-Signature, HMAC-SHA256)", "SECRET", required: true);
        var address = Arg("ADDRESS", "An e-mail address");
        var channel = Ids.Arg(IdKind.Channel, "CHANNEL-ID", "The channel's id (`solnet notify list`)");
        var only = new Argument<string>("CHANNEL-ID") { Description = "Only this channel's deliveries", Arity = ArgumentArity.ZeroOrOne };
        var limit = Whole("--limit", "How many, newest first (default 50)");
        // The node checks the names and its refusal lists the known ones, so the list is written once (NotificationKinds).
        var kinds = Text("--kinds", "Only these kinds of notification, comma-separated, e.g. invitation,amendment,stand-down (default: all; a wrong name is refused with the list)", "KINDS");
        return Group("notify", "Tell people by webhook or e-mail of call-outs and of the fight events their network must act on (operator)",
            Cmd("webhook", "POST signed JSON to a URL for each notification", [url, secret, kinds], async s =>
                s.Out.Print(await s.Client.AddWebhookAsync(new AddWebhookRequest { Url = s.Get(url), Secret = s.Text(secret), Kinds = { s.Text(kinds) } }, s.Call), Format.Channel)),
            Cmd("email", "E-mail an address for each notification (needs Node:Smtp:Host and Node:Smtp:From)", [address, kinds], async s =>
                s.Out.Print(await s.Client.AddEmailRecipientAsync(new AddEmailRecipientRequest { Address = s.Get(address), Kinds = { s.Text(kinds) } }, s.Call), Format.Channel)),
            Cmd("list", "The notification channels", [], async s =>
                s.Out.List((await s.Client.ListNotificationChannelsAsync(new ListNotificationChannelsRequest(), s.Call)).Channels, "No notification channels.",
                    new Column<NotificationChannel>("Id", c => c.Id),
                    new Column<NotificationChannel>("Kind", c => c.Kind),
                    new Column<NotificationChannel>("Target", c => c.Target),
                    new Column<NotificationChannel>("Kinds", c => c.Kinds.Count == 0 ? "all" : string.Join(",", c.Kinds)),
                    new Column<NotificationChannel>("Created", c => Format.When(c.CreatedAt)),
                    new Column<NotificationChannel>("Active", c => c.Active ? "yes" : "removed"))),
            Cmd("remove", "Stop a channel", [channel], async s =>
                s.Out.Print(await s.Client.RemoveNotificationChannelAsync(new RemoveNotificationChannelRequest { Id = s.Get(channel) }, s.Call), Format.Channel)),
            Cmd("deliveries", "What was sent to each channel, and what failed and why", [only, limit], async s =>
                s.Out.List((await s.Client.ListNotificationDeliveriesAsync(new ListNotificationDeliveriesRequest { ChannelId = s.Get(only) ?? "", Limit = s.Get(limit) ?? 0 }, s.Call)).Deliveries,
                    "No deliveries yet.",
                    new Column<NotificationDelivery>("Id", d => $"#{d.Id}"),
                    new Column<NotificationDelivery>("State", d => d.State),
                    new Column<NotificationDelivery>("Channel", d => $"{d.Kind} {d.Target}"),
                    new Column<NotificationDelivery>("Change", d => $"{d.Change.ToString().ToLowerInvariant()} {(d.FightId.Length > 0 ? d.FightId : d.CallOutId)}"),
                    new Column<NotificationDelivery>("Attempts", d => $"{d.Attempts}"),
                    new Column<NotificationDelivery>("When", d => d.State switch
                    {
                        "delivered" => $"at {Format.When(d.DeliveredAt)}",
                        "pending" when d.Attempts > 0 => $"next try {Format.When(d.NextAttemptAt)}",
                        _ => "",
                    }),
                    new Column<NotificationDelivery>("Last error", d => d.LastError))));
    }

    public static ActionType ActionType(string name) => name switch
    {
        "picket" => Contracts.V1.ActionType.Picket,
        "blockade" => Contracts.V1.ActionType.PhoneEmailBlockade,
        "leafleting" => Contracts.V1.ActionType.Leafleting,
        "noise-demo" => Contracts.V1.ActionType.NoiseDemo,
        "call-in" => Contracts.V1.ActionType.CallInDay,
        "online" => Contracts.V1.ActionType.Online,
        _ => throw new UsageException($"'{name}' is not an action type: {string.Join(", ", ActionNames)}."),
    };
}
