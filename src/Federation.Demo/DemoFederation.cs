using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Commands;
using Federation.Core.Identity;
using Federation.Node.Hosting;
using Federation.Node.Peering;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Federation.Demo;

/// <summary>
/// Three networks on loopback, peered with each other, with a little history: enough
/// for a newcomer to click through the dashboard and see the federation at work.
/// Everything is seeded through the same Application layer the dashboard and solnet use.
/// </summary>
public sealed class DemoFederation(string root, int basePort) : IAsyncDisposable
{
    private static readonly string[] Names = ["leeds", "bristol", "glasgow"];
    private readonly List<WebApplication> _apps = [];

    private WebApplication Leeds => _apps[0];
    private WebApplication Bristol => _apps[1];
    private WebApplication Glasgow => _apps[2];

    public async Task StartAsync()
    {
        // A fresh federation every run: demo data is throwaway, and old keys would not match.
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
        for (var i = 0; i < Names.Length; i++)
        {
            var app = NodeHost.Build(
            [
                "--name", Names[i], "--port", (basePort + i).ToString(), "--data", Path.Combine(root, Names[i]),
                // Three nodes share one console: keep it to warnings.
                "--Logging:LogLevel:Default=Warning",
            ], o =>
            {
                o.DispatchInterval = TimeSpan.FromMilliseconds(250);
                o.RetryBaseDelay = TimeSpan.FromMilliseconds(250);
                o.RetryMaxDelay = TimeSpan.FromSeconds(5);
            });
            _apps.Add(app);
            await app.StartAsync();
        }
    }

    /// <summary>Demo only: a real network keeps its storage passphrase apart from the server (docs/operators.md).</summary>
    public const string StoragePassphrase = "solidarity forever demo";

    public async Task SeedAsync()
    {
        var ct = CancellationToken.None;
        // Sealed from the start, as a real network should be: the tenant's details leeds keeps rest sealed.
        foreach (var app in _apps)
        {
            await Get<StorageLock>(app).UnlockAsync(StoragePassphrase, create: true, ct);
        }
        foreach (var a in _apps)
        {
            foreach (var b in _apps.Where(b => b != a))
            {
                await Get<PeerDirectory>(a).AddAsync(Options(b).ResolvedPublicAddress, Get<NodeIdentity>(b).Fingerprint, ct);
            }
        }

        // Leeds asks everyone for a picket; Bristol pledges, Glasgow has not answered yet.
        var picket = await Get<CallOutCommands>(Leeds).PublishAsync(new CallOutContent
        {
            Title = "Picket Bistro Co's Leeds branch",
            Target = new Target { Name = "Bistro Co", ParentCompany = "Bistro Holdings" },
            DemandSummary = "Pay the £2,400 in wages stolen from two kitchen workers",
            Places = { new Place { City = "Leeds", Address = "1 High St" }, new Place { City = "Bristol", Address = "22 Harbour Rd" } },
            ActionTypes = { ActionType.Picket, ActionType.Leafleting },
            TalkingPoints = "Bistro Co kept the last two months' pay of workers it let go.",
            SafetyNotes = "Do not name the workers. Stay on the public pavement.",
        }, [], audience: null, ct);
        await ArrivedAsync(Bristol, picket.Id);
        await ArrivedAsync(Glasgow, picket.Id);
        await Get<CallOutCommands>(Bristol).RespondAsync(picket.Id, new CallOutResponse
        {
            Kind = ResponseKind.Pledge,
            PlannedDate = DateTime.UtcNow.AddDays(9).ToString("yyyy-MM-dd"),
            Place = "Bristol, 22 Harbour Rd",
        }, ct);

        // Bristol asks for a phone blockade; nobody has answered yet.
        var blockade = await Get<CallOutCommands>(Bristol).PublishAsync(new CallOutContent
        {
            Title = "Phone blockade of Harbour Estates",
            Target = new Target { Name = "Harbour Estates" },
            DemandSummary = "Fix the broken heating at 14 Quay St before winter",
            ActionTypes = { ActionType.PhoneEmailBlockade, ActionType.CallInDay },
            WindowStart = Timestamp.FromDateTime(DateTime.UtcNow.Date.AddDays(5).AddHours(9)),
            WindowEnd = Timestamp.FromDateTime(DateTime.UtcNow.Date.AddDays(5).AddHours(17)),
            TimeZone = "Europe/London",
        }, [], audience: null, ct);
        await ArrivedAsync(Leeds, blockade.Id);
        await ArrivedAsync(Glasgow, blockade.Id);

        // Leeds runs a joint fight: Bristol is in, Glasgow's invitation waits in its inbox.
        var fights = Get<FightCommands>(Leeds);
        var fight = await fights.DraftAsync("Acme deposit fight", new Target { Name = "Acme Lettings" }, new FightTerms
        {
            Demands = { "Return the £900 deposit in full", "Fix the damp in the back bedroom" },
            Strategy = "Demand letter with a two-week deadline, then weekly pickets at the letting office and its other branches",
            Facts = "The tenant moved out in September; Acme kept the whole deposit without giving a reason",
            EndConditions = "The deposit is returned in full",
        }, ct);
        await fights.OpenAsync(fight.Id, ct);
        await fights.InviteAsync(fight.Id, [Get<NodeIdentity>(Bristol).NodeId, Get<NodeIdentity>(Glasgow).NodeId], ct);
        await ArrivedAsync(Bristol, fight.Id);
        await ArrivedAsync(Glasgow, fight.Id);
        var bristolFights = Get<FightCommands>(Bristol);
        await bristolFights.AcceptAsync(fight.Id, bristolFights.Get(fight.Id).TermsHash, ct);
        await Eventually(() => fights.Get(fight.Id).Participants.Any(p => p.State == ParticipantState.Committed), "Bristol's acceptance to reach Leeds");
        await fights.DeliverDemandAsync(fight.Id, Timestamp.FromDateTime(DateTime.UtcNow.Date.AddDays(14).AddHours(17)), "Hand-delivered to the letting office", ct);
        await fights.ChangeStatusAsync(fight.Id, FightStatus.Escalating, "No answer to the letter", ct);
        await Eventually(() => bristolFights.Get(fight.Id).Status == FightStatus.Escalating, "the new status to reach Bristol");
        await bristolFights.PlanActionAsync(fight.Id, new ActionPlan
        {
            What = "Picket Acme's Bristol branch",
            Place = "Acme Lettings, 8 Park Row, Bristol",
            StartsAt = Timestamp.FromDateTime(DateTime.UtcNow.Date.AddDays(6).AddHours(11)),
            EndsAt = Timestamp.FromDateTime(DateTime.UtcNow.Date.AddDays(6).AddHours(13)),
            Visibility = ActionVisibility.ParticipantsUntilStart,
        }, ct);

        // Leeds briefs the networks in the fight (participants only) and keeps the tenant's
        // details to itself (never federated): both show on the fight's page.
        var confidential = Get<Confidential>(Leeds);
        await confidential.PostBriefingAsync(fight.Id, "The letting agent's staff have been told not to talk to us. Leaflet customers, not staff.", ct);
        await confidential.SetLocalDetailsAsync(fight.Id, new LocalDetails
        {
            AffectedPerson = "(the tenant's name: kept on leeds's node only)",
            Notes = "Prefers contact by text after 6pm.",
        }, ct);

        // Leeds changes its picket call-out: recipients see what changed.
        var updated = Get<CallOutCommands>(Leeds).Get(picket.Id).Content.Clone();
        updated.TalkingPoints = "Bistro Co kept the last two months' pay of workers it let go. Ask customers to phone head office.";
        await Get<CallOutCommands>(Leeds).UpdateAsync(picket.Id, updated, ct);

        // And a draft Leeds has not finished: its page shows what the terms still lack.
        await fights.DraftAsync("Bistro Co wage theft", new Target { Name = "Bistro Co" }, new FightTerms { Demands = { "Pay the £2,400 in stolen wages" } }, ct);

        await Eventually(() => Get<CallOutCommands>(Leeds).Get(picket.Id).Responses.Count == 1, "Bristol's pledge to reach Leeds");
        await Eventually(() => fights.Get(fight.Id).Actions.Count == 1, "Bristol's action to reach Leeds");
        await Eventually(() => Get<CallOutCommands>(Glasgow).Get(picket.Id).Revisions.Count == 1, "the call-out's update to reach Glasgow");
    }

    public string Describe()
    {
        var lines = new List<string> { "", "A local federation of three networks is running. Open a dashboard and sign in with its token:", "" };
        foreach (var app in _apps)
        {
            var o = Options(app);
            var token = File.ReadAllText(Path.Combine(o.ResolvedDataDir, "operator.token")).Trim();
            lines.Add($"  {o.Name,-8} http://{o.Host}:{o.ResolvedDashboardPort}/   token {token}");
        }
        lines.Add("");
        lines.Add("leeds has a joint fight under way with bristol; glasgow has an invitation and call-outs waiting in its inbox.");
        lines.Add($"Confidential details rest sealed; the storage passphrase (demo only) is \"{StoragePassphrase}\": try Storage, then Lock now.");
        lines.Add($"The command line works too, e.g.: dotnet run --project src/Federation.Cli -- --data {Path.Combine(root, "glasgow")} callouts");
        lines.Add($"Data (thrown away at the next start): {Path.GetFullPath(root)}");
        lines.Add("Press Ctrl+C to stop.");
        return string.Join(Environment.NewLine, lines);
    }

    private static T Get<T>(WebApplication app) where T : notnull => app.Services.GetRequiredService<T>();

    private static NodeOptions Options(WebApplication app) => Get<IOptions<NodeOptions>>(app).Value;

    private static Task ArrivedAsync(WebApplication app, string objectId) =>
        Eventually(() => Get<Federation.Core.Storage.IFederationStore>(app).GetObject(objectId) is not null, $"{objectId} to reach {Options(app).Name}");

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"waited 30 s for {what}.");
            }
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
