using System.Globalization;
using System.Security.Claims;
using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Identity;
using Federation.Core.Storage;
using Federation.Domain;
using Federation.Node.Peering;
using Federation.Node.Security;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Federation.Node.Dashboard;

/// <summary>Who this node is and what its peers are called, so pages show names rather than hashes.</summary>
public sealed class DashboardContext(NodeIdentity identity, PeerDirectory peers, IOptions<NodeOptions> options, DelegateGate gate, DelegateTokens tokens,
    Notifications.WhatsNewView news)
{
    public DelegateGate Gate => gate;
    public DelegateTokens Tokens => tokens;
    public Notifications.WhatsNewView News => news;

    private IReadOnlyList<PeerInfo>? _peers;

    public string Me => identity.NodeId;
    public string MyName => options.Value.Name;
    public string MyFingerprint => identity.Fingerprint;
    public string MyAddress => options.Value.ResolvedPublicAddress;
    public string MyRegion => options.Value.Region ?? "";
    public IReadOnlyList<PeerInfo> Peers => _peers ??= peers.List();

    /// <summary>Node:TimeZone, in which pages show and take times (issue 17, item 5).</summary>
    public TimeZoneInfo Zone => _zone ??= options.Value.FindZone();

    private TimeZoneInfo? _zone;

    /// <summary>How a page names the zone beside a time: "UTC", or the IANA id people chose ("Europe/London").</summary>
    public string ZoneName => Zone.BaseUtcOffset == TimeSpan.Zero && !Zone.SupportsDaylightSavingTime ? "UTC" : options.Value.TimeZone;

    /// <summary>A network as people know it: its name and the start of its fingerprint.</summary>
    public string Who(string nodeId) =>
        Contracts.NetworkText.Who(nodeId, Me, MyName, Peers.FirstOrDefault(p => p.NodeId == nodeId)?.Name, Identifiers.ShortFingerprint(nodeId));
}

/// <summary>
/// What every dashboard page shares: one way to run a command, show the domain's own
/// refusal message when it says no, and redirect after a success so a reload does not
/// repeat it.
/// </summary>
public abstract class DashboardPage(DashboardContext context) : PageModel
{
    public DashboardContext Node => context;

    /// <summary>Loads what the page shows; called for GET and again after a refused POST.</summary>
    protected abstract void Load();

    public virtual IActionResult OnGet()
    {
        return Show();
    }

    protected IActionResult Show()
    {
        try
        {
            Load();
        }
        catch (RuleViolation v)
        {
            Refuse(v.Message);
        }
        catch (RpcException ex)
        {
            // A role the page's reads need (DelegateGate.RequireRole), or a peer's status.
            Refuse(ex.Status.Detail);
        }
        return Page();
    }

    /// <summary>
    /// Whether the signed-in token's role may call <paramref name="method"/>: the same
    /// table the gRPC delegate service and the gate use, so a page offers only what will
    /// be allowed. The gate still checks again when the form is posted.
    /// </summary>
    public bool Can(string method) => Caller.Role >= DelegateRoles.For(method);

    public bool IsOperator => Caller.Role >= Role.Operator;

    /// <summary>
    /// Why the signed-in token may not call <paramref name="method"/>, or null when it may:
    /// a page shows this in place of a form the gate would refuse once filled in (issue 17,
    /// item 4), so a delegate is never offered an organiser's tool.
    /// </summary>
    public string? WhyNot(string method) => Can(method) ? null : DelegateRoles.For(method) switch
    {
        Role.Operator => $"Operators only: you are signed in as a {DelegateRoles.Name(Caller.Role)}.",
        _ => $"Organisers only: you are signed in as a {DelegateRoles.Name(Caller.Role)}. Ask an organiser of your network.",
    };

    /// <summary>
    /// A read the delegate service guards by role (dead letters, reports, local details):
    /// the gate's own check, so the dashboard cannot show what gRPC would refuse.
    /// </summary>
    protected static T Read<T>(Caller caller, string method, Func<T> read)
    {
        DelegateGate.RequireRole(caller, method);
        return read();
    }

    /// <summary>
    /// A guarded read for the signed-in delegate; reads of confidential details are
    /// audited, as over gRPC, once the page has been handled.
    /// </summary>
    protected T Read<T>(string method, Func<T> read)
    {
        var result = Read(Caller, method, read);
        if (DelegateRoles.Audited(method))
        {
            _auditedReads.Add((method, RouteData.Values["id"] as string));
        }
        return result;
    }

    private readonly List<(string Method, string? ObjectId)> _auditedReads = [];

    /// <summary>Where a partial (its model is its own) finds the page, for times in the node's zone.</summary>
    public const string PageKey = "DashboardPage";

    /// <summary>Runs once the page's handler has run and before it is rendered (the layout included).</summary>
    protected virtual Task AfterHandlerAsync(CancellationToken ct) => Task.CompletedTask;

    private int? _newsCount;

    /// <summary>How many things are new in what this node started since the signed-in token last looked (the menu's count).</summary>
    public int NewsCount => _newsCount ??= Node.News.Count(Caller.TokenId);

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        ViewData[PageKey] = this;
        OnPageHandlerExecuting(context);
        if (context.Result is not null)
        {
            return;
        }
        OnPageHandlerExecuted(await next());
        await AfterHandlerAsync(HttpContext.RequestAborted);
        foreach (var (method, objectId) in _auditedReads)
        {
            await Node.Gate.AuditAsync(Caller.Name, DelegateRoles.Name(Caller.Role), method, objectId, "ok");
        }
    }

    /// <summary>The signed-in delegate, as the cookie names them.</summary>
    protected Caller Caller => new(
        User.FindFirstValue(TokenIdClaim) ?? "",
        User.Identity?.Name ?? "",
        System.Enum.TryParse<Role>(User.FindFirstValue(ClaimTypes.Role), ignoreCase: true, out var role) ? role : 0);

    public const string TokenIdClaim = DashboardSessions.TokenIdClaim;

    /// <summary>
    /// Runs a command as the delegate-service operation <paramref name="method"/> would:
    /// the same role check and audit entry, through the same gate.
    /// </summary>
    protected async Task<IActionResult> RunAsync(string method, Func<Task> command, string done, object? routeValues = null, string? pageName = null)
    {
        try
        {
            var caller = Caller;
            if (!Node.Tokens.IsValid(caller.TokenId))
            {
                await HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                Refuse("Your token has been revoked or no longer exists. Sign in again with a valid token.");
                Response.StatusCode = StatusCodes.Status401Unauthorized;
                return Page();
            }
            await Node.Gate.RunAsync(caller, method, RouteData.Values["id"] as string, async () =>
            {
                await command();
                return true;
            });
            TempData["Flash"] = done;
            return RedirectToPage(pageName, routeValues);
        }
        catch (RuleViolation v)
        {
            Refuse(v.Message);
        }
        catch (RpcException ex)
        {
            // PeerDirectory reports an unreachable or mismatched peer as a gRPC status.
            Refuse(ex.Status.Detail);
        }
        Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
        return Show();
    }

    protected void Refuse(string message) => ViewData["Refusal"] = message;

    /// <summary>Shown on the next page beside "Done.": the command succeeded, but something will not happen yet.</summary>
    protected void Warn(IReadOnlyCollection<string> warnings)
    {
        if (warnings.Count > 0)
        {
            TempData["Warning"] = string.Join(" ", warnings);
        }
    }

    /// <summary>A stored time for a page, in the node's zone and naming it; a bad stored value shows as "(invalid date)" and never fails the page.</summary>
    public string When(Timestamp? at)
    {
        var shown = Dates.ShowIn(at, Node.Zone, "yyyy-MM-dd HH:mm");
        return shown is "" or Dates.Invalid ? shown : $"{shown} {Node.ZoneName}";
    }

    /// <summary>A call-out's time window in the node's zone, or that it gives none.</summary>
    public string Window(CallOutState c) =>
        c.Content.WindowStart is null ? "no date given"
        : $"{When(c.Content.WindowStart)}{(c.Content.WindowEnd is not null ? $" – {When(c.Content.WindowEnd)}" : "")}";

    /// <summary>The node's zone, for the hints beside time fields.</summary>
    public string ZoneName => Node.ZoneName;

    /// <summary>
    /// The value a datetime-local field shows for a stored time, in the node's zone. Seconds
    /// are kept when there are any (a time set with solnet), so saving an edit form unchanged
    /// does not move the time by a few seconds.
    /// </summary>
    public string Local(Timestamp? at) =>
        at is null || !Dates.IsValid(at) ? "" : Dates.ShowIn(at, Node.Zone, at.Seconds % 60 == 0 && at.Nanos == 0 ? "yyyy-MM-dd'T'HH:mm" : "yyyy-MM-dd'T'HH:mm:ss");

    /// <summary>
    /// A bound of a date picker (min or max of a datetime-local field) in the node's zone, to
    /// the whole minute inside the range: the picker steps by minutes from its min, so a min
    /// with seconds would make every whole-minute choice invalid. Null (no attribute) for none.
    /// </summary>
    public string? PickerBound(Timestamp? at, bool isMin)
    {
        if (Dates.Read(at) is not { } t)
        {
            return null;
        }
        var minute = new DateTimeOffset(t.Ticks - t.Ticks % TimeSpan.TicksPerMinute, t.Offset);
        var bound = isMin && minute < t ? minute.AddMinutes(1) : minute;
        return TimeZoneInfo.ConvertTime(bound, Node.Zone).ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture);
    }

    /// <summary>Reads a datetime-local field, a time on the clocks of the node's zone, as the instant it names.</summary>
    protected Timestamp? ParseLocal(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        if (DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t))
        {
            return Dates.FromWallClock(t, Node.Zone, field);
        }
        throw RuleViolation.Invalid($"{field}: '{value}' is not a date and time (for example 2026-12-05T10:00).");
    }

    /// <summary>Text areas hold one item a line (demands, places).</summary>
    protected static IEnumerable<string> Lines(string? text) =>
        (text ?? "").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0);

    public static string Describe(FightStatus s) => Fights.Describe(s);

    public static string Short(string hash) => Terms.Short(hash);

    public static string Describe(ParticipantState s) => s switch
    {
        ParticipantState.AwaitingReaffirmation => "asked to reaffirm the amended terms",
        _ => s.ToString().ToLowerInvariant(),
    };

    public static string Describe(ResponseKind k) => k switch
    {
        ResponseKind.Pledge => "pledged",
        ResponseKind.Decline => "declined",
        ResponseKind.Unable => "unable after all",
        ResponseKind.ReportBack => "reported back",
        _ => "unknown",
    };

    /// <summary>An answer in words; a pledge's time (UTC, from the date picker) as the node's clocks read it.</summary>
    public string Describe(CallOutResponse r) => r.Kind switch
    {
        ResponseKind.Pledge => $"pledged {Planned(r.PlannedDate)} {r.Place}".TrimEnd(),
        ResponseKind.Decline or ResponseKind.Unable => $"{Describe(r.Kind)}{(r.Reason.Length > 0 ? $": {r.Reason}" : "")}",
        ResponseKind.ReportBack when r.Withheld => "reported back (to the issuing network only)",
        ResponseKind.ReportBack => $"reported back: {r.Report}{(r.Turnout > 0 ? $" (turnout {r.Turnout})" : "")}"
            + (r.TargetResponse.Length > 0 ? $"; the target: {r.TargetResponse}" : "")
            + (r.Incidents.Length > 0 ? $"; incidents: {r.Incidents}" : ""),
        _ => "unknown",
    };

    /// <summary>A pledge's planned time: a UTC time ("2026-12-05T17:00Z", what the date picker sends) in the node's zone; free text (solnet's --date) as typed.</summary>
    public string Planned(string planned) =>
        planned.EndsWith('Z') && DateTimeOffset.TryParse(planned, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? When(Timestamp.FromDateTimeOffset(at)) : planned;

    public static string Describe(CallOutState c) => c.Cancelled ? "cancelled" : c.Expired ? "expired" : c.Closed ? "closed" : "open";

    public static string Describe(ActionType a) => a switch
    {
        ActionType.PhoneEmailBlockade => "phone/e-mail blockade",
        ActionType.NoiseDemo => "noise demo",
        ActionType.CallInDay => "call-in day",
        _ => a.ToString().ToLowerInvariant(),
    };

    public static string Describe(CommunicationKind k) => k switch
    {
        CommunicationKind.SettlementOffer => "settlement offer",
        _ => k.ToString().ToLowerInvariant(),
    };

    public static string Describe(ReportKind k) => k switch
    {
        ReportKind.SuspectedInfiltrator => "suspected infiltrator",
        _ => k.ToString().ToLowerInvariant(),
    };

    /// <summary>The domain's diff lines ("+ demand: …") in words.</summary>
    public static string DiffLine(string line) => line switch
    {
        ['+', ' ', ..] => "added " + line[2..],
        ['-', ' ', ..] => "removed " + line[2..],
        ['~', ' ', ..] => "changed " + line[2..],
        _ => line,
    };

    public static string Describe(ActionStatus s) => s.ToString().ToLowerInvariant();
}
