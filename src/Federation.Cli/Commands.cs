using Federation.Contracts.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federation.Cli;

/// <summary>The solnet commands: each maps to one delegate-service call.</summary>
public sealed class Commands(Args a)
{
    public const string Usage = """
        solnet — talk to your network's federation node

        Connection (flags, or SOLNET_DATA / SOLNET_NODE / SOLNET_TOKEN / SOLNET_FINGERPRINT, or the config file):
          --data DIR        the node's data folder (reads its address, fingerprint and operator.token)
          --node URL        the node's address, e.g. http://127.0.0.1:5001
          --fingerprint FP  with --node https://…: the node's fingerprint; its TLS certificate
                            must carry that key (--data reads it from the data folder)
          --token TOKEN     a delegate token
          --config FILE     settings file (default ~/.config/solnet/config; see `solnet config`)
          --json            print results as JSON
          --field NAME      print one field of the result (e.g. id, fingerprint, terms_hash)

        Settings and tokens:
          config set node|token|data|fingerprint VALUE   remember a setting in the config file
          config show
          token create --holder NAME --role delegate|organiser|operator   (operator; shown once)
          token list
          token revoke ID

        Node and peers:
          info
          peer add ADDRESS FINGERPRINT
          peer suspend|revoke|resume FINGERPRINT     (operator; takes effect at once)
          peers             health of each peer: healthy or failing since when, how far behind
          deadletters [--peer FINGERPRINT]
                            items peers refused for good (not retried)
          deadletter replay ID | deadletter replay --peer FINGERPRINT
                            send them again once the cause is fixed

        Call-outs:
          callout publish --title T --target NAME --demand TEXT [--parent COMPANY]
                          [--place "CITY|ADDRESS"]... [--action picket|blockade|leafleting|noise-demo|call-in|online]...
                          [--start ISO] [--end ISO] [--tz ZONE] [--talking-points T] [--safety T]
                          [--expires ISO] [--fight ID] [--to FINGERPRINT]... [--region REGION]...
                          (no --to and no --region: every peer)
          callout update ID [any publish flag: only those given change; --place/--action replace the list]
          callouts
          callout show ID
          callout respond ID pledge --date D [--place P]
          callout respond ID decline|unable [--reason R]
          callout respond ID report --report TEXT [--turnout N] [--target-response T] [--incidents T]
          callout close ID [--cancel] [--reason R]
          callout cancel ID [--reason R]
          callout calendar [--all] [--out FILE]      pledged actions as .ics (--all: every network's)

        Inbox (call-outs sent to this node; soonest window first):
          inbox [--open | --closed] [--city C] [--region R] [--action A]... [--from ISO] [--until ISO]
                [--fight ID] [--issued]
          inbox watch [--after CURSOR]               stream new and changed call-outs until Ctrl-C

        Notifications:
          notify webhook URL --secret SECRET         POSTs signed JSON (X-Solnet-Signature)
          notify email ADDRESS                       needs Node:Smtp:Host and Node:Smtp:From
          notify list
          notify remove CHANNEL-ID
          notify deliveries [CHANNEL-ID] [--limit N]

        Joint fights:
          fight draft --title T --target NAME [--parent COMPANY] [--demand D]... [--strategy S]
                      [--facts F] [--end-conditions E] [--materials M]
          fight terms ID [--demand D]... [--strategy S] [--facts F] [--end-conditions E] [--materials M]
          fight open ID
          fight invite ID FINGERPRINT...
          fight accept ID TERMS-HASH
          fight decline ID [--reason R] [--offer O]
          fight status ID escalating|paused|won|settled|lost|called-off [--note N]
          fight show ID
          fights
          fight amend ID --demand D... --strategy S --facts F --end-conditions E [--materials M] [--note N]
          fight diff ID                      what the latest amendment changed
          fight reaffirm ID TERMS-HASH
          fight decline-amendment ID [--reason R]
          fight release-request ID --reason R
          fight release ID FINGERPRINT [--reason R]        (initiator)
          fight demand ID [--deadline ISO] [--note N]      (initiator: demand delivered)
          fight communication ID reply|negotiation|settlement-offer|other --summary S   (initiator)
          fight report ID referral|police|lawsuit|retaliation|infiltrator|other --summary S
          fight reports ID                                 (initiator)
          fight action plan ID --what W --start ISO [--end ISO] [--place P] [--public]
          fight action update ID ACTION-ID --what W --start ISO [--end ISO] [--place P] [--public]
          fight action cancel ID ACTION-ID [--reason R]
          fight action report ID ACTION-ID --report TEXT [--turnout N]
          fight ack ID                                     acknowledge the stand-down
          fight calendar ID [--out FILE]                   the shared action calendar (.ics)
          fight brief ID --text T                          (initiator) a participants-only briefing
          fight briefings ID                               briefings, where this network may see them
          fight local ID [--person P] [--contact C] [--notes N]   (initiator) details that never leave this node
          fight local-show ID                              (initiator)
          fight purge ID                                   (operator) delete this node's confidential details of the fight
          balance                                          your network's own picture

        Exit codes: 0 done, 2 usage, 3 refused by the node, 4 node unreachable or failed.
        """;

    private DelegateService.DelegateServiceClient? _client;
    private Metadata? _headers;

    public async Task<int> RunAsync()
    {
        var w = a.Words;
        switch (w[0], w.Count > 1 ? w[1] : "")
        {
            case ("config", "set"):
                Settings.Set(a.Word(2, "node|token|data"), a.Word(3, "VALUE"));
                Console.WriteLine($"Saved in {Settings.Path}.");
                break;
            case ("config", "show"):
                Console.WriteLine($"{Settings.Path}:\n" + string.Join("\n", Settings.Describe()));
                break;
            case ("token", "create"):
                var created = await Client.CreateTokenAsync(new CreateTokenRequest { Holder = a.Require("--holder"), Role = a.Require("--role") }, Headers);
                Print(created, t => $"Token for '{t.Info.Holder}' ({t.Info.Role}), id {t.Info.Id}:\n{t.Token}\nIt is shown only now: the node keeps only its hash. Give it to them over a safe channel.");
                break;
            case ("token", "list"):
                PrintList((await Client.ListTokensAsync(new ListTokensRequest(), Headers)).Tokens,
                    t => $"{t.Id}  {t.Role,-9}  {t.Holder}  created {t.CreatedAt.ToDateTimeOffset():u}{(t.RevokedAt is not null ? $", revoked {t.RevokedAt.ToDateTimeOffset():u}" : "")}", "No delegate tokens yet.");
                break;
            case ("token", "revoke"):
                Print(await Client.RevokeTokenAsync(new RevokeTokenRequest { Id = a.Word(2, "ID") }, Headers), t => $"Token {t.Id} ({t.Holder}) is revoked; it stops working at once.");
                break;
            case ("info", _):
                Print(await Client.GetNodeInfoAsync(new GetNodeInfoRequest(), Headers), Format.Node);
                break;
            case ("peer", "add"):
                Print(await Client.AddPeerAsync(new AddPeerRequest { Address = a.Word(2, "ADDRESS"), Fingerprint = a.Word(3, "FINGERPRINT") }, Headers), Format.Peer);
                break;
            case ("peer", "suspend" or "revoke" or "resume"):
                var state = w[1] switch { "suspend" => "suspended", "revoke" => "revoked", _ => "active" };
                Print(await Client.SetPeerStateAsync(new SetPeerStateRequest { Network = a.Word(2, "FINGERPRINT"), State = state }, Headers), Format.Peer);
                break;
            case ("peers", _):
                PrintList((await Client.ListPeersAsync(new ListPeersRequest(), Headers)).Peers, Format.Peer, "No peers yet.");
                break;
            case ("deadletters", _):
                PrintList((await Client.ListDeadLettersAsync(new ListDeadLettersRequest { Peer = a.Get("--peer") ?? "" }, Headers)).DeadLetters,
                    Format.DeadLetter, "No dead letters.");
                break;
            case ("deadletter", "replay"):
                Print(await Client.ReplayDeadLetterAsync(ReplayRequest(), Headers), r => $"Replayed {r.Replayed}: back in the peer's queue.");
                break;
            case ("callout", "publish"):
                Print(await Client.PublishCallOutAsync(PublishRequest(), Headers), Format.CallOut);
                break;
            case ("callouts", _):
                PrintList((await Client.ListCallOutsAsync(new ListCallOutsRequest(), Headers)).CallOuts, Format.CallOutLine, "No call-outs.");
                break;
            case ("callout", "show"):
                Print(await Client.GetCallOutAsync(new GetObjectRequest { Id = a.Word(2, "ID") }, Headers), Format.CallOut);
                break;
            case ("callout", "respond"):
                Print(await Client.RespondToCallOutAsync(new RespondToCallOutRequest { CallOutId = a.Word(2, "ID"), Response = Response(a.Word(3, "pledge|decline|unable|report")) }, Headers), Format.Receipt);
                break;
            case ("callout", "update"):
                Print(await Client.UpdateCallOutAsync(await UpdateRequestAsync(), Headers), Format.CallOut);
                break;
            case ("callout", "cancel"):
                Print(await Client.CloseCallOutAsync(new CloseCallOutRequest { CallOutId = a.Word(2, "ID"), Cancelled = true, Reason = a.Get("--reason") ?? "" }, Headers), Format.CallOut);
                break;
            case ("callout", "calendar"):
                await CalendarAsync();
                break;
            case ("inbox", "watch"):
                await WatchAsync();
                break;
            case ("inbox", _):
                PrintList((await Client.QueryInboxAsync(InboxQueryFromFlags(), Headers)).CallOuts, Format.CallOutLine, "Nothing in the inbox matches.");
                break;
            case ("notify", "webhook"):
                Print(await Client.AddWebhookAsync(new AddWebhookRequest { Url = a.Word(2, "URL"), Secret = a.Require("--secret") }, Headers), Format.Channel);
                break;
            case ("notify", "email"):
                Print(await Client.AddEmailRecipientAsync(new AddEmailRecipientRequest { Address = a.Word(2, "ADDRESS") }, Headers), Format.Channel);
                break;
            case ("notify", "list"):
                PrintList((await Client.ListNotificationChannelsAsync(new ListNotificationChannelsRequest(), Headers)).Channels, Format.Channel, "No notification channels.");
                break;
            case ("notify", "remove"):
                Print(await Client.RemoveNotificationChannelAsync(new RemoveNotificationChannelRequest { Id = a.Word(2, "CHANNEL-ID") }, Headers), Format.Channel);
                break;
            case ("notify", "deliveries"):
                var deliveries = new ListNotificationDeliveriesRequest { ChannelId = w.Count > 2 ? w[2] : "", Limit = Count("--limit") };
                PrintList((await Client.ListNotificationDeliveriesAsync(deliveries, Headers)).Deliveries, Format.Delivery, "No deliveries yet.");
                break;
            case ("callout", "close"):
                Print(await Client.CloseCallOutAsync(new CloseCallOutRequest { CallOutId = a.Word(2, "ID"), Cancelled = a.Has("--cancel"), Reason = a.Get("--reason") ?? "" }, Headers), Format.CallOut);
                break;
            case ("fight", "draft"):
                Print(await Client.DraftFightAsync(new DraftFightRequest { Title = a.Require("--title"), Target = Target(), Terms = TermsFromFlags() }, Headers), Format.Fight);
                break;
            case ("fight", "terms"):
                Print(await Client.UpdateDraftTermsAsync(new UpdateDraftTermsRequest { FightId = a.Word(2, "ID"), Terms = TermsFromFlags() }, Headers), Format.Fight);
                break;
            case ("fight", "open"):
                Print(await Client.OpenFightAsync(new GetObjectRequest { Id = a.Word(2, "ID") }, Headers), Format.Fight);
                break;
            case ("fight", "invite"):
                var invite = new InviteToFightRequest { FightId = a.Word(2, "ID") };
                invite.Networks.AddRange(w.Skip(3));
                Print(await Client.InviteToFightAsync(invite, Headers), Format.Fight);
                break;
            case ("fight", "accept"):
                Print(await Client.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = a.Word(2, "ID"), TermsHash = a.Word(3, "TERMS-HASH") }, Headers), Format.Receipt);
                break;
            case ("fight", "decline"):
                Print(await Client.DeclineInvitationAsync(new DeclineInvitationRequest { FightId = a.Word(2, "ID"), Reason = a.Get("--reason") ?? "", Offer = a.Get("--offer") ?? "" }, Headers), Format.Receipt);
                break;
            case ("fight", "status"):
                Print(await Client.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = a.Word(2, "ID"), Status = Status(a.Word(3, "STATUS")), Note = a.Get("--note") ?? "" }, Headers), Format.Fight);
                break;
            case ("fight", "show"):
                Print(await Client.GetFightAsync(new GetObjectRequest { Id = a.Word(2, "ID") }, Headers), Format.Fight);
                break;
            case ("fight", "amend"):
                Print(await Client.AmendTermsAsync(new AmendTermsRequest { FightId = a.Word(2, "ID"), Terms = TermsFromFlags(), Note = a.Get("--note") ?? "" }, Headers), Format.Fight);
                break;
            case ("fight", "diff"):
                var f = await Client.GetFightAsync(new GetObjectRequest { Id = a.Word(2, "ID") }, Headers);
                Console.WriteLine(f.Versions.Count <= 1 ? "The terms have not been amended." : string.Join("\n", f.AmendmentDiff));
                break;
            case ("fight", "reaffirm"):
                Print(await Client.ReaffirmTermsAsync(new ReaffirmTermsRequest { FightId = a.Word(2, "ID"), TermsHash = a.Word(3, "TERMS-HASH") }, Headers), Format.Receipt);
                break;
            case ("fight", "decline-amendment"):
                Print(await Client.DeclineAmendmentAsync(new DeclineAmendmentRequest { FightId = a.Word(2, "ID"), Reason = a.Get("--reason") ?? "" }, Headers), Format.Receipt);
                break;
            case ("fight", "release-request"):
                Print(await Client.RequestReleaseAsync(new RequestReleaseRequest { FightId = a.Word(2, "ID"), Reason = a.Require("--reason") }, Headers), Format.Receipt);
                break;
            case ("fight", "release"):
                Print(await Client.GrantReleaseAsync(new GrantReleaseRequest { FightId = a.Word(2, "ID"), Network = a.Word(3, "FINGERPRINT"), Reason = a.Get("--reason") ?? "" }, Headers), Format.Fight);
                break;
            case ("fight", "demand"):
                Print(await Client.DeliverDemandAsync(new DeliverDemandRequest { FightId = a.Word(2, "ID"), Deadline = Time("--deadline"), Note = a.Get("--note") ?? "" }, Headers), Format.Fight);
                break;
            case ("fight", "communication"):
                Print(await Client.RecordCommunicationAsync(new RecordCommunicationRequest { FightId = a.Word(2, "ID"), Kind = Communication(a.Word(3, "KIND")), Summary = a.Require("--summary") }, Headers), Format.Fight);
                break;
            case ("fight", "report"):
                Print(await Client.FileReportAsync(new FileReportRequest { FightId = a.Word(2, "ID"), Kind = Report(a.Word(3, "KIND")), Summary = a.Require("--summary") }, Headers), Format.Receipt);
                break;
            case ("fight", "reports"):
                PrintList((await Client.ListReportsAsync(new GetObjectRequest { Id = a.Word(2, "ID") }, Headers)).Reports, Format.Report, "No referrals or incidents.");
                break;
            case ("fight", "action"):
                await ActionAsync(a.Word(2, "plan|update|cancel|report"));
                break;
            case ("fight", "ack"):
                Print(await Client.AcknowledgeStandDownAsync(new GetObjectRequest { Id = a.Word(2, "ID") }, Headers), Format.Receipt);
                break;
            case ("fight", "calendar"):
                var ics = await Client.ExportFightCalendarAsync(new GetObjectRequest { Id = a.Word(2, "ID") }, Headers);
                if (a.Get("--out") is { } path)
                {
                    await File.WriteAllTextAsync(path, ics.Content);
                    Console.WriteLine($"Wrote {path}");
                }
                else
                {
                    Console.Write(ics.Content);
                }
                break;
            case ("fight", "brief"):
                Print(await Client.PostBriefingAsync(new PostBriefingRequest { FightId = a.Word(2, "ID"), Text = a.Require("--text") }, Headers), Format.Briefings);
                break;
            case ("fight", "briefings"):
                Print(await Client.GetBriefingsAsync(new GetObjectRequest { Id = a.Word(2, "ID") }, Headers), Format.Briefings);
                break;
            case ("fight", "local"):
                Print(await Client.SetLocalDetailsAsync(new SetLocalDetailsRequest
                {
                    FightId = a.Word(2, "ID"),
                    Details = new LocalDetails { AffectedPerson = a.Get("--person") ?? "", Contact = a.Get("--contact") ?? "", Notes = a.Get("--notes") ?? "" },
                }, Headers), Format.Local);
                break;
            case ("fight", "local-show"):
                Print(await Client.GetLocalDetailsAsync(new GetObjectRequest { Id = a.Word(2, "ID") }, Headers), Format.Local);
                break;
            case ("fight", "purge"):
                Print(await Client.PurgeFightAsync(new GetObjectRequest { Id = a.Word(2, "ID") }, Headers),
                    r => $"Purged here: local details {(r.LocalDetails ? "deleted" : "none")}, {r.Briefings} briefing(s), {r.Reports} referral(s)/incident(s).");
                break;
            case ("balance", _):
                Print(await Client.GetBalanceAsync(new GetBalanceRequest(), Headers), Format.Balance);
                break;
            case ("fights", _):
                PrintList((await Client.ListFightsAsync(new ListFightsRequest(), Headers)).Fights, Format.FightLine, "No fights.");
                break;
            default:
                throw new UsageException($"Unknown command '{string.Join(' ', w.Take(2))}'.");
        }
        return 0;
    }

    private async Task ActionAsync(string verb)
    {
        var fightId = a.Word(3, "ID");
        switch (verb)
        {
            case "plan":
                Print(await Client.PlanActionAsync(new PlanActionRequest { FightId = fightId, Plan = Plan() }, Headers), Format.Receipt);
                break;
            case "update":
                Print(await Client.UpdateActionAsync(new UpdateActionRequest { FightId = fightId, ActionId = a.Word(4, "ACTION-ID"), Plan = Plan() }, Headers), Format.Receipt);
                break;
            case "cancel":
                Print(await Client.CancelActionAsync(new CancelActionRequest { FightId = fightId, ActionId = a.Word(4, "ACTION-ID"), Reason = a.Get("--reason") ?? "" }, Headers), Format.Receipt);
                break;
            case "report":
                Print(await Client.ReportActionAsync(new ReportActionRequest
                {
                    FightId = fightId,
                    ActionId = a.Word(4, "ACTION-ID"),
                    Report = a.Require("--report"),
                    Turnout = uint.TryParse(a.Get("--turnout") ?? "0", out var n) ? n : throw new UsageException("--turnout must be a whole number."),
                }, Headers), Format.Receipt);
                break;
            default:
                throw new UsageException($"'{verb}' is not an action command: plan, update, cancel, report.");
        }
    }

    private ActionPlan Plan() => new()
    {
        What = a.Require("--what"),
        Place = a.Get("--place") ?? "",
        StartsAt = Time("--start") ?? throw new UsageException("--start is required."),
        EndsAt = Time("--end"),
        Visibility = a.Has("--public") ? ActionVisibility.Public : ActionVisibility.ParticipantsUntilStart,
    };

    private static CommunicationKind Communication(string name) => name switch
    {
        "reply" => CommunicationKind.Reply,
        "negotiation" => CommunicationKind.Negotiation,
        "settlement-offer" => CommunicationKind.SettlementOffer,
        "other" => CommunicationKind.Other,
        _ => throw new UsageException($"'{name}' is not a kind of communication: reply, negotiation, settlement-offer, other."),
    };

    private static ReportKind Report(string name) => name switch
    {
        "referral" => ReportKind.Referral,
        "police" => ReportKind.Police,
        "lawsuit" => ReportKind.Lawsuit,
        "retaliation" => ReportKind.Retaliation,
        "infiltrator" => ReportKind.SuspectedInfiltrator,
        "other" => ReportKind.Other,
        _ => throw new UsageException($"'{name}' is not a kind of report: referral, police, lawsuit, retaliation, infiltrator, other."),
    };

    private Config? _config;

    private Config Settings => _config ??= Config.Load(a.Get("--config"));

    private DelegateService.DelegateServiceClient Client => _client ??= Connect();

    private Metadata Headers => _headers ??= new Metadata { { "authorization", $"Bearer {Token()}" } };

    private DelegateService.DelegateServiceClient Connect()
    {
        var named = a.Get("--node") ?? Environment.GetEnvironmentVariable("SOLNET_NODE");
        var fromData = named is null ? ReadDataFile("address") : null;
        var address = named ?? fromData ?? Settings.Get("node")
            ?? throw new UsageException("Which node? Pass --data DIR (the node's data folder) or --node URL.");
        if (!address.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return new DelegateService.DelegateServiceClient(GrpcChannel.ForAddress(address));
        }
        // The node's certificate is self-signed over its key; no CA vouches for it, so the
        // node is recognised by its fingerprint. The data folder's fingerprint file names the
        // node that wrote it, so it is used only with the address from the same folder.
        var fingerprint = a.Get("--fingerprint") ?? Environment.GetEnvironmentVariable("SOLNET_FINGERPRINT")
            ?? (fromData is not null ? ReadDataFile("fingerprint") : null)
            ?? (named is null && fromData is null ? Settings.Get("fingerprint") : null)
            ?? throw new UsageException($"{address} uses TLS: pass --fingerprint FINGERPRINT (shown when the node starts) so solnet can check it is talking to that node.");
        return new DelegateService.DelegateServiceClient(ServerPin.Channel(address, fingerprint));
    }

    private string Token() => a.Get("--token") ?? Environment.GetEnvironmentVariable("SOLNET_TOKEN") ?? ReadDataFile("operator.token") ?? Settings.Get("token")
        ?? throw new UsageException("No token: pass --data DIR (the node's data folder) or --token TOKEN.");

    private string? ReadDataFile(string name)
    {
        var dir = a.Get("--data") ?? Environment.GetEnvironmentVariable("SOLNET_DATA") ?? Settings.Get("data");
        if (dir is null)
        {
            return null;
        }
        var path = Path.Combine(dir, name);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : throw new UsageException($"{path} does not exist. Has the node in {dir} been started?");
    }

    private void Print<T>(T message, Func<T, string> human) where T : IMessage
    {
        if (a.Get("--field") is { } name)
        {
            var field = message.Descriptor.FindFieldByName(name)
                ?? throw new UsageException($"{message.Descriptor.Name} has no field '{name}'; fields: {string.Join(", ", message.Descriptor.Fields.InFieldNumberOrder().Select(f => f.Name))}.");
            Console.WriteLine(field.Accessor.GetValue(message));
            return;
        }
        Console.WriteLine(a.Has("--json") ? JsonFormatter.Default.Format(message) : human(message));
    }

    private void PrintList<T>(IReadOnlyList<T> items, Func<T, string> human, string empty) where T : IMessage
    {
        if (a.Has("--json"))
        {
            Console.WriteLine("[" + string.Join(",", items.Select(i => JsonFormatter.Default.Format(i))) + "]");
            return;
        }
        Console.WriteLine(items.Count == 0 ? empty : string.Join("\n", items.Select(human)));
    }

    private ReplayDeadLetterRequest ReplayRequest()
    {
        if (a.Get("--peer") is { } peer)
        {
            return new ReplayDeadLetterRequest { Peer = peer };
        }
        var id = a.Word(2, "ID (or --peer FINGERPRINT)");
        return long.TryParse(id, out var n) && n > 0
            ? new ReplayDeadLetterRequest { Id = n }
            : throw new UsageException($"'{id}' is not a dead letter id; 'solnet deadletters' lists them.");
    }

    private Target Target() => new() { Name = a.Require("--target"), ParentCompany = a.Get("--parent") ?? "" };

    private FightTerms TermsFromFlags()
    {
        var t = new FightTerms
        {
            Strategy = a.Get("--strategy") ?? "",
            Facts = a.Get("--facts") ?? "",
            EndConditions = a.Get("--end-conditions") ?? "",
            Materials = a.Get("--materials") ?? "",
        };
        t.Demands.AddRange(a.All("--demand"));
        return t;
    }

    private PublishCallOutRequest PublishRequest()
    {
        var c = new CallOutContent
        {
            Title = a.Require("--title"),
            Target = Target(),
            DemandSummary = a.Require("--demand"),
            TalkingPoints = a.Get("--talking-points") ?? "",
            SafetyNotes = a.Get("--safety") ?? "",
            TimeZone = a.Get("--tz") ?? "",
            FightId = a.Get("--fight") ?? "",
            WindowStart = Time("--start"),
            WindowEnd = Time("--end"),
            ExpiresAt = Time("--expires"),
        };
        foreach (var place in a.All("--place"))
        {
            var parts = place.Split('|', 2);
            c.Places.Add(new Place { City = parts[0].Trim(), Address = parts.Length > 1 ? parts[1].Trim() : "" });
        }
        c.ActionTypes.AddRange(a.All("--action").Select(Action));
        var request = new PublishCallOutRequest { Content = c };
        if (a.Has("--to") && a.Has("--region"))
        {
            throw new UsageException("Send the call-out to chosen peers (--to) or to peers in regions (--region), not both.");
        }
        if (a.Has("--region"))
        {
            request.Audience = new CallOutAudience { Kind = AudienceKind.Regions, Regions = { a.All("--region") } };
        }
        request.Recipients.AddRange(a.All("--to").Select(f => new string(f.Where(char.IsAsciiHexDigit).ToArray()).ToLowerInvariant()));
        return request;
    }

    /// <summary>Starts from the call-out as it is and changes only what the flags name.</summary>
    private async Task<UpdateCallOutRequest> UpdateRequestAsync()
    {
        var id = a.Word(2, "ID");
        var c = (await Client.GetCallOutAsync(new GetObjectRequest { Id = id }, Headers)).Content.Clone();
        c.Target ??= new Target();
        void Set(string flag, Action<string> apply)
        {
            if (a.Get(flag) is { } value)
            {
                apply(value);
            }
        }
        Set("--title", v => c.Title = v);
        Set("--target", v => c.Target.Name = v);
        Set("--parent", v => c.Target.ParentCompany = v);
        Set("--demand", v => c.DemandSummary = v);
        Set("--talking-points", v => c.TalkingPoints = v);
        Set("--safety", v => c.SafetyNotes = v);
        Set("--tz", v => c.TimeZone = v);
        Set("--fight", v => c.FightId = v);
        Set("--start", _ => c.WindowStart = Time("--start"));
        Set("--end", _ => c.WindowEnd = Time("--end"));
        Set("--expires", _ => c.ExpiresAt = Time("--expires"));
        if (a.Has("--place"))
        {
            c.Places.Clear();
            foreach (var place in a.All("--place"))
            {
                var parts = place.Split('|', 2);
                c.Places.Add(new Place { City = parts[0].Trim(), Address = parts.Length > 1 ? parts[1].Trim() : "" });
            }
        }
        if (a.Has("--action"))
        {
            c.ActionTypes.Clear();
            c.ActionTypes.AddRange(a.All("--action").Select(Action));
        }
        return new UpdateCallOutRequest { CallOutId = id, Content = c };
    }

    private InboxQuery InboxQueryFromFlags()
    {
        if (a.Has("--open") && a.Has("--closed"))
        {
            throw new UsageException("Choose --open or --closed, or neither for both.");
        }
        var q = new InboxQuery
        {
            State = a.Has("--open") ? InboxStateFilter.Open : a.Has("--closed") ? InboxStateFilter.Closed : InboxStateFilter.Any,
            City = a.Get("--city") ?? "",
            Region = a.Get("--region") ?? "",
            WindowFrom = Time("--from"),
            WindowTo = Time("--until"),
            FightId = a.Get("--fight") ?? "",
            IncludeIssued = a.Has("--issued"),
        };
        q.ActionTypes.AddRange(a.All("--action").Select(Action));
        return q;
    }

    private async Task WatchAsync()
    {
        var after = a.Get("--after") is { } v
            ? ulong.TryParse(v, out var n) ? n : throw new UsageException("--after must be a cursor number, as printed by an earlier watch.")
            : 0;
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        using var call = Client.SubscribeInbox(new SubscribeInboxRequest { AfterCursor = after }, Headers, cancellationToken: stop.Token);
        var from = (await call.ResponseHeadersAsync).GetValue("x-feed-cursor");
        Console.Error.WriteLine($"Watching for new and changed call-outs after cursor {from}. Ctrl-C stops.");
        try
        {
            while (await call.ResponseStream.MoveNext(stop.Token))
            {
                var item = call.ResponseStream.Current;
                Console.WriteLine(a.Has("--json") ? JsonFormatter.Default.Format(item) : Format.Item(item));
            }
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && stop.IsCancellationRequested)
        {
            // Ctrl-C.
        }
    }

    private async Task CalendarAsync()
    {
        var export = await Client.ExportPledgesAsync(new ExportPledgesRequest { AllNetworks = a.Has("--all") }, Headers);
        foreach (var skipped in export.Skipped)
        {
            Console.Error.WriteLine($"solnet: skipped {skipped}");
        }
        if (a.Get("--out") is { } path)
        {
            // The .ics already has CRLF line ends (RFC 5545); write the text as it is.
            await File.WriteAllTextAsync(path, export.Ics, new System.Text.UTF8Encoding(false));
            Console.WriteLine($"Wrote {export.Events} pledged action(s) to {path}.");
        }
        else
        {
            Console.Write(export.Ics);
        }
    }

    private uint Count(string flag) => a.Get(flag) is { } v
        ? uint.TryParse(v, out var n) ? n : throw new UsageException($"{flag} must be a whole number.")
        : 0;

    private Timestamp? Time(string flag) => a.Get(flag) is { } v
        ? DateTimeOffset.TryParse(v, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t)
            ? Timestamp.FromDateTimeOffset(t)
            : throw new UsageException($"{flag} '{v}' is not a date/time (try 2026-12-01T17:00:00Z).")
        : null;

    private CallOutResponse Response(string kind) => kind switch
    {
        "pledge" => new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = a.Require("--date"), Place = a.Get("--place") ?? "" },
        "decline" => new CallOutResponse { Kind = ResponseKind.Decline, Reason = a.Get("--reason") ?? "" },
        "unable" => new CallOutResponse { Kind = ResponseKind.Unable, Reason = a.Get("--reason") ?? "" },
        "report" => new CallOutResponse
        {
            Kind = ResponseKind.ReportBack,
            Report = a.Require("--report"),
            Turnout = uint.TryParse(a.Get("--turnout") ?? "0", out var n) ? n : throw new UsageException("--turnout must be a whole number."),
            TargetResponse = a.Get("--target-response") ?? "",
            Incidents = a.Get("--incidents") ?? "",
        },
        _ => throw new UsageException($"'{kind}' is not a response: pledge, decline, unable or report."),
    };

    private static ActionType Action(string name) => name switch
    {
        "picket" => ActionType.Picket,
        "blockade" => ActionType.PhoneEmailBlockade,
        "leafleting" => ActionType.Leafleting,
        "noise-demo" => ActionType.NoiseDemo,
        "call-in" => ActionType.CallInDay,
        "online" => ActionType.Online,
        _ => throw new UsageException($"'{name}' is not an action type: picket, blockade, leafleting, noise-demo, call-in, online."),
    };

    private static FightStatus Status(string name) => name switch
    {
        "escalating" => FightStatus.Escalating,
        "paused" => FightStatus.Paused,
        "won" => FightStatus.Won,
        "settled" => FightStatus.Settled,
        "lost" => FightStatus.Lost,
        "called-off" => FightStatus.CalledOff,
        _ => throw new UsageException($"'{name}' is not a status: escalating, paused, won, settled, lost, called-off."),
    };
}
