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

        Connection (or set SOLNET_DATA / SOLNET_NODE / SOLNET_TOKEN):
          --data DIR        the node's data folder (reads its address and operator.token)
          --node URL        the node's address, e.g. http://127.0.0.1:5001
          --token TOKEN     a delegate token
          --json            print results as JSON
          --field NAME      print one field of the result (e.g. id, fingerprint, terms_hash)

        Node and peers:
          info
          peer add ADDRESS FINGERPRINT
          peers             health of each peer: healthy or failing since when, how far behind
          deadletters [--peer FINGERPRINT]
                            items peers refused for good (not retried)
          deadletter replay ID | deadletter replay --peer FINGERPRINT
                            send them again once the cause is fixed

        Call-outs:
          callout publish --title T --target NAME --demand TEXT [--parent COMPANY]
                          [--place "CITY|ADDRESS"]... [--action picket|blockade|leafleting|noise-demo|call-in|online]...
                          [--start ISO] [--end ISO] [--tz ZONE] [--talking-points T] [--safety T]
                          [--expires ISO] [--fight ID] [--to FINGERPRINT]...
          callouts
          callout show ID
          callout respond ID pledge --date D [--place P]
          callout respond ID decline|unable [--reason R]
          callout respond ID report --report TEXT [--turnout N] [--target-response T]
          callout close ID [--cancel] [--reason R]

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

        Exit codes: 0 done, 2 usage, 3 refused by the node, 4 node unreachable or failed.
        """;

    private DelegateService.DelegateServiceClient? _client;
    private Metadata? _headers;

    public async Task<int> RunAsync()
    {
        var w = a.Words;
        switch (w[0], w.Count > 1 ? w[1] : "")
        {
            case ("info", _):
                Print(await Client.GetNodeInfoAsync(new GetNodeInfoRequest(), Headers), Format.Node);
                break;
            case ("peer", "add"):
                Print(await Client.AddPeerAsync(new AddPeerRequest { Address = a.Word(2, "ADDRESS"), Fingerprint = a.Word(3, "FINGERPRINT") }, Headers), Format.Peer);
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
            case ("fights", _):
                PrintList((await Client.ListFightsAsync(new ListFightsRequest(), Headers)).Fights, Format.FightLine, "No fights.");
                break;
            default:
                throw new UsageException($"Unknown command '{string.Join(' ', w.Take(2))}'.");
        }
        return 0;
    }

    private DelegateService.DelegateServiceClient Client => _client ??= Connect();

    private Metadata Headers => _headers ??= new Metadata { { "authorization", $"Bearer {Token()}" } };

    private DelegateService.DelegateServiceClient Connect()
    {
        var address = a.Get("--node") ?? Environment.GetEnvironmentVariable("SOLNET_NODE") ?? ReadDataFile("address")
            ?? throw new UsageException("Which node? Pass --data DIR (the node's data folder) or --node URL.");
        return new DelegateService.DelegateServiceClient(GrpcChannel.ForAddress(address));
    }

    private string Token() => a.Get("--token") ?? Environment.GetEnvironmentVariable("SOLNET_TOKEN") ?? ReadDataFile("operator.token")
        ?? throw new UsageException("No token: pass --data DIR (the node's data folder) or --token TOKEN.");

    private string? ReadDataFile(string name)
    {
        var dir = a.Get("--data") ?? Environment.GetEnvironmentVariable("SOLNET_DATA");
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
        request.Recipients.AddRange(a.All("--to").Select(f => new string(f.Where(char.IsAsciiHexDigit).ToArray()).ToLowerInvariant()));
        return request;
    }

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
