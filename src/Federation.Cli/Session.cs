using System.CommandLine;
using Federation.Contracts.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;

namespace Federation.Cli;

/// <summary>
/// One run of one command: its parsed values, the settings, the connection to the node
/// and the output. The connection is opened only when a command first calls the node,
/// so `config` and usage errors never need a node.
/// </summary>
public sealed class Session
{
    private readonly ParseResult parse;
    private readonly CancellationToken cancel;

    public Session(ParseResult parse, CancellationToken cancel)
    {
        this.parse = parse;
        this.cancel = cancel;
        // Times for people are the node's local time; asked of the node only if one is shown.
        Format.Zone = () => Zone;
    }

    /// <summary>Unary calls give up after this; a node that does not answer in time is reported as unreachable.</summary>
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(30);

    private Config? _config;
    private DelegateService.DelegateServiceClient? _client;
    private Metadata? _headers;
    private Output? _out;

    public CancellationToken Cancel => cancel;

    /// <summary>The node's address, once a command has connected to it.</summary>
    public string? Address { get; private set; }

    public T? Get<T>(Option<T> option) => parse.GetValue(option);

    /// <summary>
    /// A time option (<see cref="Cli.When"/>): with Z or an offset it is that instant; without,
    /// it is a time on the clocks of the node's zone (Node:TimeZone), as people say times.
    /// </summary>
    public Timestamp? Get(Option<Timestamp?> option)
    {
        var value = parse.GetValue(option);
        if (value is null || parse.GetResult(option)?.Tokens is not [{ } token] || Cli.NamesItsOffset(token.Value))
        {
            return value;
        }
        var wallClock = value.ToDateTime();
        var local = DateTime.SpecifyKind(wallClock, DateTimeKind.Unspecified);
        if (Zone.IsInvalidTime(local))
        {
            throw new UsageException($"{option.Name} '{token.Value}' does not exist in {Zone.Id}: the clocks go forward then. Choose a time an hour later.");
        }
        var offset = Zone.IsAmbiguousTime(local) ? Zone.GetAmbiguousTimeOffsets(local).Max() : Zone.GetUtcOffset(local);
        return Timestamp.FromDateTimeOffset(new DateTimeOffset(local, offset));
    }

    /// <summary>The node's zone (Node:TimeZone); UTC for a node too old to say, or a zone this machine does not know.</summary>
    public TimeZoneInfo Zone => _zone ??= FindZone(Info.TimeZone);

    private TimeZoneInfo? _zone;

    private static TimeZoneInfo FindZone(string id)
    {
        try
        {
            return id.Length == 0 ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return TimeZoneInfo.Utc;
        }
    }

    /// <summary>The node's name, id and zone, asked once per run.</summary>
    public NodeInfo Info => _info ??= Client.GetNodeInfo(new GetNodeInfoRequest(), Call);

    private NodeInfo? _info;

    public T? Get<T>(Argument<T> argument) => parse.GetValue(argument);

    /// <summary>An argument's value; an id argument (<see cref="Ids.Arg"/>) comes back whole, found from the prefix typed.</summary>
    public string Get(Argument<string> argument)
    {
        var typed = parse.GetValue(argument) ?? "";
        if (!Ids.IsId(argument, out var kind, out var fight))
        {
            return typed;
        }
        if (!_resolved.TryGetValue(argument, out var id))
        {
            // Resolved once per run: Delivery.SubmitAsync may build its request more than once.
            id = _resolved[argument] = Resolve(kind, typed, () => fight is null ? "" : Get(fight));
        }
        return id;
    }

    private readonly Dictionary<Argument, string> _resolved = [];

    /// <summary>The whole id that <paramref name="typed"/> names (see <see cref="Ids"/>); a whole id is passed on unchecked, for the node to judge.</summary>
    public string Resolve(IdKind kind, string typed, Func<string>? fight = null) =>
        Ids.NeedsLookup(kind, typed) ? Ids.Match(kind, typed, Ids.Candidates(this, kind, fight ?? (() => ""))) : typed;

    /// <summary>This node's peers by name, for text meant for people; read from the node once, when first needed.</summary>
    public Networks Networks => _networks ??= Networks.Load(this);

    private Networks? _networks;

    public string Text(Option<string> option) => parse.GetValue(option) ?? "";

    public string[] All(Option<string[]> option) => parse.GetValue(option) ?? [];

    /// <summary>Whether the option was given on the command line.</summary>
    public bool Has(Option option) => parse.GetResult(option) is { Implicit: false };

    public string Require(Option<string> option) =>
        parse.GetValue(option) is { Length: > 0 } v ? v : throw new UsageException($"{option.Name} is required.");

    public Output Out => _out ??= new Output(Get(Global.Json), Get(Global.Field));

    public Config Settings => _config ??= Config.Load(Get(Global.Config));

    public DelegateService.DelegateServiceClient Client => _client ??= Connect();

    /// <summary>The token and a deadline on every unary call; Ctrl-C cancels it.</summary>
    public CallOptions Call => new(Headers, DateTime.UtcNow + CallDeadline, cancel);

    /// <summary>For streams that run until stopped: no deadline.</summary>
    public CallOptions Stream(CancellationToken stop) => new(Headers, cancellationToken: stop);

    private Metadata Headers => _headers ??= new Metadata { { "authorization", $"Bearer {Token()}" } };

    private DelegateService.DelegateServiceClient Connect()
    {
        var named = Get(Global.Node) ?? Environment.GetEnvironmentVariable("SOLNET_NODE");
        var fromData = named is null ? ReadDataFile("address") : null;
        var address = named ?? fromData ?? Settings.Get("node")
            ?? throw new UsageException("Which node? Pass --data DIR (the node's data folder) or --node URL, or run `solnet config set node URL`.");
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"'{address}' is not a node address: expected http://HOST:PORT or https://HOST:PORT.");
        }
        Address = address;
        if (uri.Scheme == "http")
        {
            return new DelegateService.DelegateServiceClient(GrpcChannel.ForAddress(address));
        }
        // The node's certificate is self-signed over its key; no CA vouches for it, so the
        // node is recognised by its fingerprint. The data folder's fingerprint file names the
        // node that wrote it, so it is used only with the address from the same folder.
        var fingerprint = Get(Global.Fingerprint) ?? Environment.GetEnvironmentVariable("SOLNET_FINGERPRINT")
            ?? (fromData is not null ? ReadDataFile("fingerprint") : null)
            ?? (named is null && fromData is null ? Settings.Get("fingerprint") : null)
            ?? throw new UsageException($"{address} uses TLS: pass --fingerprint FINGERPRINT (shown when the node starts) so solnet can check it is talking to that node.");
        return new DelegateService.DelegateServiceClient(ServerPin.Channel(address, fingerprint));
    }

    private string Token() => Get(Global.Token) ?? Environment.GetEnvironmentVariable("SOLNET_TOKEN") ?? ReadDataFile("operator.token") ?? Settings.Get("token")
        ?? throw new UsageException("No token: pass --data DIR (the node's data folder) or --token TOKEN, or run `solnet config set token TOKEN`.");

    private string? ReadDataFile(string name)
    {
        var dir = Get(Global.Data) ?? Environment.GetEnvironmentVariable("SOLNET_DATA") ?? Settings.Get("data");
        if (dir is null)
        {
            return null;
        }
        var path = Path.Combine(dir, name);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : throw new UsageException($"{path} does not exist. Has the node in {dir} been started?");
    }
}
