using System.Diagnostics;
using Federation.Contracts.V1;
using Federation.Faults.Tests.Harness;
using Npgsql;
using Xunit.Abstractions;

namespace Federation.Faults.Tests;

/// <summary>
/// The seizure drill (issue 16, "Proven by"), driven as docs/operators.md's "The day the
/// server is seized" tells an operator to: a network's server is killed (SIGKILL) while
/// the federation works, its key taken; the network, whose key never was on the server,
/// stands up on a new server (new data folder, new port, a new node key the network key
/// certifies), from its backup or from nothing, revokes the taken key from the moment of
/// the raid and takes back what it originated from its peers. A "won" forged with the
/// taken key is refused by every node; the network ends its fight from the new server and
/// every committed network acknowledges the stand-down; the checker finds nothing lost,
/// nothing applied twice, nothing unexpected. On SQLite (alpha) and PostgreSQL (delta).
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class SeizureDrills(FederationFixture fixture, ITestOutputHelper output) : Suite(fixture, output)
{
    private const string BackupPassphrase = "fault suite backup passphrase";

    [Fact]
    public Task TheSeizureDrillFromABackupOnSqlite() => DrillAsync(0, fromBackup: true, nameof(TheSeizureDrillFromABackupOnSqlite));

    [Fact]
    public Task TheSeizureDrillFromABackupOnPostgreSql() =>
        DrillAsync(FederationFixture.PostgresNode, fromBackup: true, nameof(TheSeizureDrillFromABackupOnPostgreSql));

    [Fact]
    public Task TheSeizureDrillWithNoBackupRecoversFromPeers() =>
        DrillAsync(FederationFixture.PostgresNode, fromBackup: false, nameof(TheSeizureDrillWithNoBackupRecoversFromPeers));

    private async Task DrillAsync(int slot, bool fromBackup, string scenario)
    {
        var (c, w) = await BeginAsync();
        var usb = await NetworkKeyFile.OffTheServerAsync(c.Nodes[slot]);
        var seized = c.Nodes[slot];
        var others = c.Nodes.Where(n => n != seized).ToList();
        var fightId = await JointFightAsync(seized, others, w);
        var folder = Directory.CreateTempSubdirectory($"fedf-drill-{seized.Name}-").FullName;

        // The backup, made from the operator's machine while the node runs; PostgreSQL's part with pg_dump.
        var backup = Path.Combine(folder, "network.backup");
        var dump = Path.Combine(folder, "network.pgdump");
        var passphrase = Path.Combine(folder, "backup-passphrase");
        await File.WriteAllTextAsync(passphrase, BackupPassphrase + "\n");
        if (fromBackup)
        {
            Ok(await Solnet.RunAsync(seized.DataDir, "backup", backup, "--passphrase-file", passphrase), "backup");
            if (seized.OnPostgres)
            {
                await Database.DumpAsync(seized.DatabaseName, dump);
            }
        }

        // The network works on after the backup (so the backup is older than the loss), the
        // federation with it; then the raid. What the network changed since its backup reached
        // its peers first (checked): that is what it takes back from them.
        await WhileWorkingAsync(w, async () =>
        {
            await w.PublishFromAsync(seized, 3);
            var paused = await seized.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = fightId, Status = FightStatus.Paused }, seized.Auth);
            w.Acknowledged(seized, fightId, paused.LastSequence, "fight paused (after the backup)");
        });
        // Peers' submissions first: a delivery is acknowledged once the origin committed the
        // event it makes (and its outbox rows), so an empty outbox after that means delivered.
        await UntilAsync(() => others.All(n => Sql.Scalar(n, "SELECT COUNT(*) FROM outbox WHERE peer_id = @p", ("@p", seized.NodeId)) == 0)
            && Sql.Outbox(seized) == 0, $"{seized.Name}'s changes since its backup to reach its peers", c);
        var fightAt = Sql.Scalar(seized, "SELECT last_seq FROM objects WHERE object_id = @o", ("@o", fightId));
        var oldKey = (await Solnet.RunAsync(seized.DataDir, "key", "show", "--field", "key_id")).Out.Trim();
        using var thief = StolenKey.From(seized);
        Assert.Equal(oldKey, thief.KeyId);
        var takenAt = DateTimeOffset.UtcNow;
        seized.Kill();

        FaultNode? restored = null;
        try
        {
            await WhileWorkingAsync(w, async () =>
            {
                // 1. A new server: a new data folder and port (and on PostgreSQL a new database).
                var settings = new Dictionary<string, string>(seized.Settings);
                if (seized.OnPostgres)
                {
                    var database = $"{seized.DatabaseName}_{(fromBackup ? "restored" : "new")}_{DateTime.UtcNow:HHmmss}";
                    if (fromBackup)
                    {
                        await Database.RestoreAsync(database, dump);
                    }
                    else
                    {
                        await Database.CreateDatabaseAsync(database);
                    }
                    settings["Node__Postgres__ConnectionString"] = Database.ConnectionString(database);
                }
                var data = Directory.CreateTempSubdirectory($"fedf-{seized.Name}-new-server-").FullName;
                if (fromBackup)
                {
                    Ok(await Solnet.RunAsync(data, "restore", backup, "--passphrase-file", passphrase), "restore");
                }
                else
                {
                    Directory.Delete(data); // new-server makes the folder itself, and refuses one that holds a node
                    Assert.Contains("recover-objects", (await usb.RunAsync(data, "network", "new-server")).Out);
                }
                restored = new FaultNode(seized.Name, settings, data);
                await restored.StartAsync();
                Assert.Equal(seized.NodeId, restored.NodeId);
                Assert.NotEqual(seized.Port, restored.Port);
                if (fromBackup)
                {
                    // The restored server signs with the taken key until its operator rotates.
                    await usb.RunAsync(restored.DataDir, "key", "rotate");
                }
                else
                {
                    foreach (var peer in c.PeersFor(seized))
                    {
                        await restored.Delegate.AddPeerAsync(peer, restored.Auth, DateTime.UtcNow.AddSeconds(30));
                    }
                }
                var current = (await Solnet.RunAsync(restored.DataDir, "key", "show", "--field", "key_id")).Out.Trim();
                Assert.NotEqual(oldKey, current);
                // Until the revocation, the taken key still speaks for the network (an empty delivery is taken).
                foreach (var n in others)
                {
                    Assert.Null(await thief.DeliverAsync(n, null));
                }

                // 2. The taken key, revoked from the raid on; every peer hears it.
                await usb.RunAsync(restored.DataDir, "key", "revoke", oldKey, "--compromised-since", takenAt.ToString("O"));
                await UntilAsync(() => others.All(n => Sql.Scalar(n, "SELECT COUNT(*) FROM key_revocations WHERE key_id = @k", ("@k", oldKey)) == 1),
                    "every peer to hear of the revocation", c);

                // 3. Before changing anything: what the network originated, back from its peers' copies.
                var recovered = Ok(await Solnet.RunAsync(restored.DataDir, "network", "recover-objects"), "network recover-objects");
                Output.WriteLine(recovered.Out);
                Assert.Contains("objects recovered", recovered.Out);
                Assert.Equal(fightAt, Sql.Scalar(restored, "SELECT last_seq FROM objects WHERE object_id = @o", ("@o", fightId)));

                // The thief's "won", signed with the taken key after the raid, is refused by every node.
                var forged = thief.ForgeWon(fightId, (ulong)fightAt + 1, FightStatus.Paused);
                foreach (var n in others)
                {
                    var refused = await thief.DeliverAsync(n, forged);
                    Assert.True(refused is not null, $"{n.Name} took the forged won");
                    Assert.Equal(Grpc.Core.StatusCode.Unauthenticated, refused.StatusCode);
                    Assert.Equal(0, Sql.Scalar(n, "SELECT COUNT(*) FROM events WHERE event_id = @e", ("@e", forged.EventId)));
                    Assert.Equal(FightStatus.Paused, n.Delegate.GetFight(new GetObjectRequest { Id = fightId }, n.Auth).Status);
                }
            });

        }
        finally
        {
            // The network is back: its peers reach it at its new address. (Even if the drill
            // failed before here: the seized server must not come back for later scenarios.)
            if (restored is { Running: true })
            {
                await MoveAsync(seized, restored);
            }
        }
        Assert.NotNull(restored);
        var back = Stopwatch.StartNew();

        // It still speaks for its fight: it changes its status, then ends it, and every committed
        // network acknowledges the stand-down.
        var escalated = await restored.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = fightId, Status = FightStatus.Escalating }, restored.Auth);
        w.Acknowledged(restored, fightId, escalated.LastSequence, "fight escalated again (from the new server)");
        var won = await restored.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = fightId, Status = FightStatus.Won }, restored.Auth);
        w.Acknowledged(restored, fightId, won.LastSequence, "fight won (from the new server)");
        foreach (var n in others)
        {
            await UntilAsync(() => n.Delegate.GetFight(new GetObjectRequest { Id = fightId }, n.Auth).Participants.Single(p => p.Network == n.NodeId).StandDownPending,
                $"{n.Name} to receive the stand-down", c);
            var ack = await n.Delegate.AcknowledgeStandDownAsync(new GetObjectRequest { Id = fightId }, n.Auth);
            w.Acknowledged(n, ack, fightId, "stand-down acknowledged");
        }
        await UntilAsync(() => restored.Delegate.GetFight(new GetObjectRequest { Id = fightId }, restored.Auth).Participants.All(p => !p.StandDownPending),
            "every stand-down acknowledged at the new server", c);
        await ConvergeAsync(scenario, c, w, back);
        foreach (var n in others)
        {
            Assert.Equal(FightStatus.Won, n.Delegate.GetFight(new GetObjectRequest { Id = fightId }, n.Auth).Status);
        }
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>A joint fight <paramref name="origin"/> opens, every other network committed to it, escalated.</summary>
    private static async Task<string> JointFightAsync(FaultNode origin, IReadOnlyList<FaultNode> others, Workload w)
    {
        var draft = await origin.Delegate.DraftFightAsync(new DraftFightRequest
        {
            Title = "Seizure drill: deposits at Acme Lettings",
            Target = new Target { Name = "Acme Lettings" },
            Terms = new FightTerms
            {
                Demands = { "Return the deposits in full" },
                Strategy = "Demand letter, then pickets",
                Facts = "Deposits withheld from six tenants",
                EndConditions = "Every deposit returned",
            },
        }, origin.Auth);
        var open = await origin.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, origin.Auth);
        w.Acknowledged(origin, open.Id, open.LastSequence, "drill fight opened");
        var invite = new InviteToFightRequest { FightId = open.Id };
        invite.Networks.AddRange(others.Select(n => n.NodeId));
        var invited = await origin.Delegate.InviteToFightAsync(invite, origin.Auth);
        w.Acknowledged(origin, open.Id, invited.LastSequence, "drill fight: networks invited");
        foreach (var n in others)
        {
            FightState? seen = null;
            await Eventually.UntilAsync(() => (seen = FightAt(n, open.Id)) is { } f
                && f.Participants.Any(p => p.Network == n.NodeId && p.State == ParticipantState.Invited), TimeSpan.FromSeconds(90), $"{n.Name} to be invited", () => "");
            var accepted = await n.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = open.Id, TermsHash = seen!.TermsHash }, n.Auth);
            w.Acknowledged(n, accepted, open.Id, "drill fight accepted");
        }
        await Eventually.UntilAsync(() => origin.Delegate.GetFight(new GetObjectRequest { Id = open.Id }, origin.Auth)
            .Participants.Count(p => p.State == ParticipantState.Committed) == others.Count, TimeSpan.FromSeconds(90), "every network committed", () => "");
        var escalated = await origin.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = open.Id, Status = FightStatus.Escalating }, origin.Auth);
        w.Acknowledged(origin, open.Id, escalated.LastSequence, "drill fight escalated");
        return open.Id;
    }

    /// <summary>The fight as <paramref name="n"/> holds it, or null while its invitation is on its way.</summary>
    private static FightState? FightAt(FaultNode n, string id)
    {
        try
        {
            return n.Delegate.GetFight(new GetObjectRequest { Id = id }, n.Auth);
        }
        catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.NotFound)
        {
            return null;
        }
    }


    private static Solnet.Result Ok(Solnet.Result r, string what) =>
        r.ExitCode == 0 ? r : throw new Xunit.Sdk.XunitException($"solnet {what} failed ({r.ExitCode}): {r.Out}{r.Error}");
}
