using System.Diagnostics;
using System.Text;
using Federation.Contracts.V1;
using Federation.Testing;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Federation.Node.Tests;

/// <summary>
/// <c>solnet backup</c> and <c>solnet restore</c> (issue 16, item 5; adr/0015) on real node
/// processes: a node restored from its backup is the same node to its peers, the file
/// shows nothing in clear, and every refusal leaves everything as it was.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // checks Unix file modes, as FilePermissionTests does
public sealed class BackupTests(ITestOutputHelper output)
{
    private const string Worker = "Philippa Oyelaran-Brannigan";
    private const string Phone = "+44 7700 900734";
    private const string Notes = "Owed eleven weeks; lives above the Bistro Co kitchen";
    private const string Briefing = "Meet behind the library at 8am";
    private const string Passphrase = "tarpaulin lantern oboe meridian";

    /// <summary>Node processes on the in-memory bus with quick retries, so a restart is noticed in seconds.</summary>
    private static Dictionary<string, string> Fast() => new()
    {
        ["Node__DispatchInterval"] = "00:00:00.200",
        ["Node__RetryBaseDelay"] = "00:00:00.200",
        ["Node__RetryMaxDelay"] = "00:00:01",
        ["Node__PeerCallTimeout"] = "00:00:05",
        ["Node__PeerCircuitBreakDuration"] = "00:00:01",
        ["Node__DashboardPort"] = "0",
        ["Node__DelegateRequestsPerSecond"] = "10000",
    };

    private static async Task<NodeProcess> StartAsync(string name)
    {
        var node = new NodeProcess(name, Fast(), folderPrefix: "fedbk");
        await node.StartAgainAsync();
        return node;
    }

    private static string NewFolder() => Directory.CreateTempSubdirectory("fedbk-").FullName;

    private static string PassphraseFile(string folder, string passphrase)
    {
        var path = Path.Combine(folder, "passphrase");
        File.WriteAllText(path, passphrase + "\n");
        return path;
    }

    private static FightState Fight(NodeProcess n, string id) => n.Delegate.GetFight(new GetObjectRequest { Id = id }, n.Auth);

    /// <summary>alpha's fight with beta committed, its local details and a briefing, and a call-out to beta.</summary>
    private static async Task<(string Fight, string CallOut)> HistoryAsync(NodeProcess a, NodeProcess b)
    {
        var draft = await a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Bistro wages", Target = new Target { Name = "Bistro Co" }, Terms = Samples.Terms() }, a.Auth);
        await a.Delegate.SetLocalDetailsAsync(new SetLocalDetailsRequest
        {
            FightId = draft.Id,
            Details = new LocalDetails { AffectedPerson = Worker, Contact = Phone, Notes = Notes },
        }, a.Auth);
        await a.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, a.Auth);
        await a.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = draft.Id, Networks = { b.NodeId } }, a.Auth);
        await Eventually.UntilAsync(async () => (await b.Delegate.ListFightsAsync(new ListFightsRequest(), b.Auth)).Fights.Any(f => f.Id == draft.Id),
            TimeSpan.FromSeconds(60), "the invitation to reach beta", () => a.LogTail() + b.LogTail());
        await b.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = draft.Id, TermsHash = Fight(b, draft.Id).TermsHash }, b.Auth);
        await Eventually.UntilAsync(() => Fight(a, draft.Id).Participants.Any(p => p.Network == b.NodeId && p.State == ParticipantState.Committed),
            TimeSpan.FromSeconds(60), "beta's commitment to reach alpha", () => a.LogTail() + b.LogTail());
        await a.Delegate.PostBriefingAsync(new PostBriefingRequest { FightId = draft.Id, Text = Briefing }, a.Auth);
        var callOut = await a.PublishAsync(b);
        await Eventually.UntilAsync(async () => (await b.Delegate.ListCallOutsAsync(new ListCallOutsRequest(), b.Auth)).CallOuts.Any(c => c.Id == callOut.Id),
            TimeSpan.FromSeconds(60), "the call-out to reach beta", () => a.LogTail() + b.LogTail());
        return (draft.Id, callOut.Id);
    }

    private static async Task PlanAsync(NodeProcess b, string fightId, int n) =>
        await b.Delegate.PlanActionAsync(new PlanActionRequest
        {
            FightId = fightId,
            Plan = new ActionPlan { What = $"Picket {n}", StartsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(3)) },
        }, b.Auth);

    [Fact]
    public async Task ANodeRestoredFromABackupTakenUnderLoadIsTheSameNodeAndItsPeersCarryOn()
    {
        await using var a = await StartAsync("alpha");
        await using var b = await StartAsync("beta");
        await NodeProcess.PeerAsync(a, b);
        var (fightId, callOutId) = await HistoryAsync(a, b);
        var work = NewFolder();
        var file = Path.Combine(work, "alpha.backup");
        var passphrase = PassphraseFile(work, Passphrase);

        // beta keeps submitting to alpha while the backup runs: the snapshot must be whole.
        using var stop = new CancellationTokenSource();
        var planned = 0;
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await PlanAsync(b, fightId, planned);
                Interlocked.Increment(ref planned);
            }
        });
        await Eventually.UntilAsync(() => Fight(a, fightId).Actions.Count >= 5, TimeSpan.FromSeconds(60), "beta's first actions to reach alpha", () => a.LogTail() + b.LogTail());
        var actionsBefore = Fight(a, fightId).Actions.Count;
        var clock = Stopwatch.StartNew();
        var backup = await Solnet.RunAsync(a.DataDir, "backup", file, "--passphrase-file", passphrase);
        clock.Stop();
        var actionsAfter = Fight(a, fightId).Actions.Count;
        await stop.CancelAsync();
        await load;
        Assert.True(backup.ExitCode == 0, backup.Error);
        Assert.Contains(a.Fingerprint, backup.Out);
        Assert.True(actionsAfter > actionsBefore, "alpha took no submissions while the backup ran; the test proves nothing about a live node");
        output.WriteLine($"backup: {new FileInfo(file).Length:N0} bytes in {clock.Elapsed.TotalSeconds:0.00} s (solnet's whole run), "
            + $"while alpha went from {actionsBefore} to {actionsAfter} actions");

        // Nothing beta sent is left on its way when alpha goes down, so what the restored node
        // resends of the fight is what beta already has (a backup cannot hold what came after it).
        await Eventually.UntilAsync(() => Ledger.Pending(b.DbPath) == 0, TimeSpan.FromSeconds(60), "beta's outbox to drain", b.LogTail);
        var before = Fight(a, fightId);
        var callOutBefore = a.Delegate.GetCallOut(new GetObjectRequest { Id = callOutId }, a.Auth);
        a.Kill();

        var restoredDir = Path.Combine(NewFolder(), "alpha");
        var restore = await Solnet.RunAsync(restoredDir, "restore", file, "--passphrase-file", passphrase);
        Assert.True(restore.ExitCode == 0, restore.Error);
        Assert.Equal("ok", Scalar(Path.Combine(restoredDir, "node.db"), "PRAGMA integrity_check"));
        await using var restored = await NodeProcess.StartWithArgumentsAsync(
            ["--name", "alpha", "--port", a.Port.ToString(), "--data", restoredDir], work, Fast());

        // The same node: its key came back, so its id and fingerprint did.
        Assert.Equal(a.NodeId, restored.NodeId);
        Assert.Equal(a.Fingerprint, restored.Fingerprint);
        // The same objects, as of one instant during the backup.
        var fight = Fight(restored, fightId);
        Assert.Equal(before.TermsHash, fight.TermsHash);
        Assert.Contains(fight.Participants, p => p.Network == b.NodeId && p.State == ParticipantState.Committed);
        Assert.InRange(fight.Actions.Count, actionsBefore, actionsAfter);
        Assert.Equal(callOutBefore, restored.Delegate.GetCallOut(new GetObjectRequest { Id = callOutId }, restored.Auth));
        var details = await restored.Delegate.GetLocalDetailsAsync(new GetObjectRequest { Id = fightId }, restored.Auth);
        Assert.Equal(new LocalDetails { AffectedPerson = Worker, Contact = Phone, Notes = Notes }, details);
        var briefings = await restored.Delegate.GetBriefingsAsync(new GetObjectRequest { Id = fightId }, restored.Auth);
        Assert.Contains(briefings.Briefings, x => x.Text == Briefing);

        // Its peer carries on with it, both ways: beta's pledge to the old call-out reaches it,
        // and a new call-out from it reaches beta.
        await b.Delegate.RespondToCallOutAsync(new RespondToCallOutRequest
        {
            CallOutId = callOutId,
            Response = new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "Saturday" },
        }, b.Auth);
        await Eventually.UntilAsync(() => restored.Delegate.GetCallOut(new GetObjectRequest { Id = callOutId }, restored.Auth).Responses.Any(r => r.Network == b.NodeId),
            TimeSpan.FromSeconds(60), "beta's pledge to reach the restored alpha", () => restored.LogTail() + b.LogTail());
        var fresh = await restored.PublishAsync(b);
        await Eventually.UntilAsync(async () => (await b.Delegate.ListCallOutsAsync(new ListCallOutsRequest(), b.Auth)).CallOuts.Any(c => c.Id == fresh.Id),
            TimeSpan.FromSeconds(60), "the restored alpha's new call-out to reach beta", () => restored.LogTail() + b.LogTail());
        var peer = (await b.Delegate.ListPeersAsync(new ListPeersRequest(), b.Auth)).Peers.Single(p => p.NodeId == a.NodeId);
        Assert.Equal("active", peer.State);
    }

    [Fact]
    public async Task TheBackupFileHoldsNoLocalDetailInClear()
    {
        await using var a = await StartAsync("alpha");
        await using var b = await StartAsync("beta");
        await NodeProcess.PeerAsync(a, b);
        await HistoryAsync(a, b);
        var work = NewFolder();
        var file = Path.Combine(work, "alpha.backup");
        var passphrase = PassphraseFile(work, Passphrase);

        var backup = await Solnet.RunAsync(a.DataDir, "backup", file, "--passphrase-file", passphrase);
        Assert.True(backup.ExitCode == 0, backup.Error);
        var restoredDir = Path.Combine(work, "restored");
        var restore = await Solnet.RunAsync(restoredDir, "restore", file, "--passphrase-file", passphrase);
        Assert.True(restore.ExitCode == 0, restore.Error);

        var encrypted = File.ReadAllBytes(file);
        var clear = File.ReadAllBytes(Path.Combine(restoredDir, "node.db"));
        foreach (var secret in new[] { Worker, Phone, Notes, Briefing, File.ReadAllText(Path.Combine(a.DataDir, "operator.token")).Trim() })
        {
            foreach (var encoding in new Encoding[] { Encoding.UTF8, Encoding.Unicode })
            {
                var needle = encoding.GetBytes(secret);
                Assert.True(encrypted.AsSpan().IndexOf(needle) < 0, $"the backup holds '{secret}' in clear ({encoding.WebName})");
            }
        }
        // The scan finds the name where it is in clear (the restored database), so its silence above means something.
        Assert.True(clear.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Worker)) >= 0, "the restored database lacks the worker's name");
        Assert.Equal(File.ReadAllBytes(Path.Combine(a.DataDir, "node.key")), File.ReadAllBytes(Path.Combine(restoredDir, "node.key")));
        // Owner-only from the moment they exist, like the node's own files.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(restoredDir));
        Assert.All(Directory.GetFiles(restoredDir), f => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f)));
        // Taking a copy of everything is audited, as reading local details is.
        var audit = await a.Delegate.ListAuditAsync(new ListAuditRequest(), a.Auth);
        Assert.Contains(audit.Entries, e => e.Action == "TakeBackup" && e.Role == "operator");
    }

    [Fact]
    public async Task AWrongPassphraseADamagedFileAndAFolderInUseAreEachRefusedAndNothingIsWritten()
    {
        await using var a = await StartAsync("alpha");
        var work = NewFolder();
        var file = Path.Combine(work, "alpha.backup");
        var passphrase = PassphraseFile(work, Passphrase);
        var backup = await Solnet.RunAsync(a.DataDir, "backup", file, "--passphrase-file", passphrase);
        Assert.True(backup.ExitCode == 0, backup.Error);
        var good = File.ReadAllBytes(file);

        async Task RefusedAsync(string backupFile, string passphraseFile, string message)
        {
            var target = Path.Combine(work, "target-" + Guid.NewGuid().ToString("N")[..8]);
            var result = await Solnet.RunAsync(target, "restore", backupFile, "--passphrase-file", passphraseFile);
            Assert.Equal(3, result.ExitCode);
            Assert.Contains(message, result.Error);
            Assert.Single(result.Error.Trim().Split('\n'));
            Assert.False(Directory.Exists(target), $"{target} was written although the restore was refused");
        }

        var wrong = Path.Combine(work, "wrong");
        File.WriteAllText(wrong, "tarpaulin lantern oboe meridiam\n");
        await RefusedAsync(file, wrong, "Wrong passphrase for");

        var damaged = Path.Combine(work, "damaged.backup");
        var bytes = (byte[])good.Clone();
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(damaged, bytes);
        await RefusedAsync(damaged, passphrase, "is damaged: the passphrase is right but its contents do not check out");

        var truncated = Path.Combine(work, "truncated.backup");
        File.WriteAllBytes(truncated, good[..40]);
        await RefusedAsync(truncated, passphrase, "is not a solnet backup");

        // A restore never writes over a node: the folder keeps exactly what it had.
        var inUse = Path.Combine(work, "in-use");
        Directory.CreateDirectory(inUse);
        File.WriteAllText(Path.Combine(inUse, "node.key"), "someone else's key");
        var refused = await Solnet.RunAsync(inUse, "restore", file, "--passphrase-file", passphrase);
        Assert.Equal(3, refused.ExitCode);
        Assert.Equal($"solnet: {inUse} is not empty: restore into a new or empty folder (a restore never overwrites a node's data); nothing was written.", refused.Error.Trim());
        Assert.Equal(["node.key"], Directory.GetFileSystemEntries(inUse).Select(Path.GetFileName));
        Assert.Equal("someone else's key", File.ReadAllText(Path.Combine(inUse, "node.key")));
        // Nothing was staged beside the targets either.
        Assert.DoesNotContain(Directory.GetFileSystemEntries(work), e => Path.GetFileName(e).Contains(".restoring-"));
    }

    [Fact]
    public async Task ABackupNeedsTheOperatorAGoodPassphraseAndANewFile()
    {
        await using var a = await StartAsync("alpha");
        var work = NewFolder();
        var file = Path.Combine(work, "alpha.backup");
        var organiser = await a.Delegate.CreateTokenAsync(new CreateTokenRequest { Holder = "Sam", Role = "organiser" }, a.Auth);

        var denied = await Solnet.RunWithoutDataAsync(["--node", a.Address, "--token", organiser.Token, "backup", file, "--passphrase-file", PassphraseFile(work, Passphrase)]);
        Assert.Equal(3, denied.ExitCode);
        Assert.Contains("(PermissionDenied)", denied.Error);

        var weak = await Solnet.RunAsync(a.DataDir, "backup", file, "--passphrase-file", PassphraseFile(work, "short"));
        Assert.Equal(2, weak.ExitCode);
        Assert.Contains("use at least 12", weak.Error);

        File.WriteAllText(file, "yesterday's backup");
        var exists = await Solnet.RunAsync(a.DataDir, "backup", file, "--passphrase-file", PassphraseFile(work, Passphrase));
        Assert.Equal(2, exists.ExitCode);
        Assert.Contains("already exists", exists.Error);
        Assert.Equal("yesterday's backup", File.ReadAllText(file));
        Assert.Equal(["alpha.backup", "passphrase"], Directory.GetFileSystemEntries(work).Select(Path.GetFileName).Order());
    }

    private static string Scalar(string db, string sql)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToString(cmd.ExecuteScalar())!;
    }
}

/// <summary>
/// A node on PostgreSQL, backed up the documented way (docs/operators.md, "Backups and
/// restore"): solnet backup for the key and the folder's files, pg_dump for the database;
/// restored with solnet restore and pg_restore into a new database.
/// </summary>
public sealed class PostgresBackupTests
{
    private const string Worker = "Philippa Oyelaran-Brannigan";
    private const string Passphrase = "tarpaulin lantern oboe meridian";

    /// <summary>PostgreSQL's own tools, from the same installation as the test server's initdb.</summary>
    private static string Tool(string name) =>
        Directory.GetDirectories("/usr/lib/postgresql").Order(StringComparer.Ordinal)
            .Select(d => Path.Combine(d, "bin", name)).LastOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"PostgreSQL's {name} was not found under /usr/lib/postgresql/*/bin (apt-get install postgresql).");

    /// <summary>The libpq form of an Npgsql connection string, as an operator passes it to pg_dump and pg_restore.</summary>
    private static string LibPq(string connectionString)
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        return $"host={b.Host} port={b.Port} user={b.Username} dbname={b.Database}";
    }

    private static async Task RunAsync(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(Tool(tool)) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var error = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"{tool} failed: {await error}");
    }

    private static Dictionary<string, string> OnPostgres(string connectionString) => new()
    {
        ["Node__Database"] = "postgres",
        ["Node__Postgres__ConnectionString"] = connectionString,
        ["Node__DashboardPort"] = "0",
    };

    [Fact]
    public async Task ANodeOnPostgresComesBackFromSolnetBackupAndPgDump()
    {
        using var original = new TestPostgresDatabase();
        using var replacement = new TestPostgresDatabase();
        await using var a = new NodeProcess("alpha", OnPostgres(original.ConnectionString), folderPrefix: "fedbk");
        await a.StartAgainAsync();
        var draft = await a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Bistro wages", Target = new Target { Name = "Bistro Co" }, Terms = Samples.Terms() }, a.Auth);
        await a.Delegate.SetLocalDetailsAsync(new SetLocalDetailsRequest { FightId = draft.Id, Details = new LocalDetails { AffectedPerson = Worker } }, a.Auth);

        var work = Directory.CreateTempSubdirectory("fedbk-").FullName;
        var passphrase = Path.Combine(work, "passphrase");
        File.WriteAllText(passphrase, Passphrase + "\n");
        var file = Path.Combine(work, "alpha.backup");
        var dump = Path.Combine(work, "alpha.pgdump");
        var backup = await Solnet.RunAsync(a.DataDir, "backup", file, "--passphrase-file", passphrase);
        Assert.True(backup.ExitCode == 0, backup.Error);
        Assert.Contains("is NOT in this file: dump it with pg_dump", backup.Out);
        // The commands docs/operators.md gives.
        await RunAsync("pg_dump", "--format=custom", "--file=" + dump, "--dbname=" + LibPq(original.ConnectionString));
        a.Kill();

        var restoredDir = Path.Combine(work, "alpha");
        var restore = await Solnet.RunAsync(restoredDir, "restore", file, "--passphrase-file", passphrase);
        Assert.True(restore.ExitCode == 0, restore.Error);
        Assert.Contains("restore it with pg_restore", restore.Out);
        Assert.False(File.Exists(Path.Combine(restoredDir, "node.db")));
        await RunAsync("pg_restore", "--no-owner", "--exit-on-error", "--dbname=" + LibPq(replacement.ConnectionString), dump);

        await using var restored = await NodeProcess.StartWithArgumentsAsync(
            ["--name", "alpha", "--port", a.Port.ToString(), "--data", restoredDir], work, OnPostgres(replacement.ConnectionString));
        Assert.Equal(a.NodeId, restored.NodeId);
        var details = await restored.Delegate.GetLocalDetailsAsync(new GetObjectRequest { Id = draft.Id }, restored.Auth);
        Assert.Equal(Worker, details.AffectedPerson);
        Assert.Equal("Bistro wages", restored.Delegate.GetFight(new GetObjectRequest { Id = draft.Id }, restored.Auth).Title);
    }

    /// <summary>Issue 24 on PostgreSQL: the table data, read through a plain dump, holds no sealed text.</summary>
    [Fact]
    public async Task OnPostgresTheTableDataHoldsTheLocalDetailsBriefingsAndAPartnersParticipantsOnlyPlanOnlySealed()
    {
        const string briefing = "The shop steward's flat above the launderette is the safe house";
        const string plan = "Unlock the loading-bay side door at 05:40";
        using var database = new TestPostgresDatabase();
        var work = Directory.CreateTempSubdirectory("fedseal-").FullName;
        var passphrase = Path.Combine(work, "storage-passphrase");
        File.WriteAllText(passphrase, Passphrase + "\n");
        var settings = OnPostgres(database.ConnectionString);
        settings["Node__StoragePassphraseFile"] = passphrase;
        await using var a = new NodeProcess("alpha", settings, folderPrefix: "fedseal");
        await using var b = new NodeProcess("beta", new() { ["Node__DashboardPort"] = "0" }, folderPrefix: "fedseal");
        await a.StartAgainAsync();
        await b.StartAgainAsync();
        await NodeProcess.PeerAsync(a, b);
        var draft = await a.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Bistro wages", Target = new Target { Name = "Bistro Co" }, Terms = Samples.Terms() }, a.Auth);
        await a.Delegate.SetLocalDetailsAsync(new SetLocalDetailsRequest { FightId = draft.Id, Details = new LocalDetails { AffectedPerson = Worker, Contact = "07700 900318" } }, a.Auth);
        Assert.Equal(Worker, (await a.Delegate.GetLocalDetailsAsync(new GetObjectRequest { Id = draft.Id }, a.Auth)).AffectedPerson);
        // beta commits, alpha briefs, and beta plans an action for the participants only.
        await a.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, a.Auth);
        await a.Delegate.InviteToFightAsync(new InviteToFightRequest { FightId = draft.Id, Networks = { b.NodeId } }, a.Auth);
        FightState Fight(NodeProcess n) => n.Delegate.GetFight(new GetObjectRequest { Id = draft.Id }, n.Auth);
        await Eventually.TrueAsync(() => Fight(b).TermsHash.Length > 0, "the invitation to reach beta");
        await b.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = draft.Id, TermsHash = Fight(b).TermsHash }, b.Auth);
        await Eventually.TrueAsync(() => Fight(a).Participants.Any(p => p.Network == b.NodeId && p.State == ParticipantState.Committed), "beta's acceptance to reach alpha");
        await a.Delegate.PostBriefingAsync(new PostBriefingRequest { FightId = draft.Id, Text = briefing }, a.Auth);
        await b.Delegate.PlanActionAsync(new PlanActionRequest
        {
            FightId = draft.Id,
            Plan = new ActionPlan
            {
                What = plan, StartsAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(2)),
                Visibility = ActionVisibility.ParticipantsUntilStart,
            },
        }, b.Auth);
        await Eventually.TrueAsync(() => Fight(a).Actions.Any(x => x.Plan.What == plan), "beta's plan to reach alpha");
        Assert.Equal(briefing, a.Delegate.GetBriefings(new GetObjectRequest { Id = draft.Id }, a.Auth).Briefings.Single().Text);
        // alpha's unshared report-back to a call-out of beta's, waiting in alpha's outbox while beta is away.
        const string reportBack = "We spoke to the night porter, Desmond";
        var callOut = await b.PublishAsync(a);
        await Eventually.TrueAsync(() => a.Delegate.ListCallOuts(new ListCallOutsRequest(), a.Auth).CallOuts.Any(c => c.Id == callOut.Id), "beta's call-out to reach alpha");
        b.Kill();
        await a.Delegate.RespondToCallOutAsync(new RespondToCallOutRequest
        {
            CallOutId = callOut.Id,
            Response = new CallOutResponse { Kind = ResponseKind.ReportBack, Report = reportBack, Turnout = 3 },
        }, a.Auth);

        var dump = Path.Combine(work, "alpha.sql");
        await RunAsync("pg_dump", "--format=plain", "--file=" + dump, "--dbname=" + LibPq(database.ConnectionString));
        // A plain dump writes bytea as hex: look for the text as the dump spells it, and in clear.
        var text = await File.ReadAllTextAsync(dump);
        static string Hex(string s) => Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(s)).ToLowerInvariant();
        Assert.Contains(Hex("Bistro Co"), text);    // the public fight is there: the scan finds what is there
        foreach (var secret in new[] { Worker, "07700 900318", briefing, plan, reportBack })
        {
            Assert.DoesNotContain(Hex(secret), text);
            Assert.DoesNotContain(secret, text);
        }
    }
}
