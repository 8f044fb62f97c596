using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Node.Delivery;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Node.Tests;

/// <summary>
/// Issue 16 #1–3: a network key kept off the server certifies the node key that signs; the
/// operator rotates it and revokes a stolen one with solnet, and no peer operator does
/// anything. Over TLS, so the certificate in the TLS handshake is proven too.
/// </summary>
public sealed class NetworkKeyTests : IDisposable
{
    private const string Phrase = "solidarity forever, the network key";
    private readonly string _folder = Directory.CreateTempSubdirectory("network-key-").FullName;

    private string KeyFile => Path.Combine(_folder, "network.key");
    private string PassFile => Path.Combine(_folder, "passphrase");

    public NetworkKeyTests() => File.WriteAllText(PassFile, Phrase + "\n");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static FightState Fight(TestNode n, string id) => n.Delegate.GetFight(new GetObjectRequest { Id = id }, n.Auth);

    /// <summary>Moves the network key off; returns the recovery code solnet printed.</summary>
    private async Task<string> InitAsync(TestNode a)
    {
        await a.StopAsync();
        var init = await Solnet.RunAsync(a.DataDir, "network", "init", "--out", KeyFile, "--passphrase-file", PassFile);
        Assert.True(init.ExitCode == 0, init.Out + init.Error);
        var code = System.Text.RegularExpressions.Regex.Match(init.Out, @"(\w{5}-){11}\w{1,5}");
        Assert.True(code.Success, init.Out);
        await a.StartAgainAsync();
        return code.Value;
    }

    /// <summary>
    /// A network of either algorithm, its peers of the other (so an Ed25519 network and P-256
    /// ones take each other's fights and call-outs, both ways), through every step an operator
    /// takes: the node's first start, network init (a node key of the network key's own
    /// algorithm), the recovery code, rotation, and a revocation that refuses what the stolen
    /// key signs later (docs/adr/0029).
    /// </summary>
    [Theory]
    [InlineData("ed25519", "ecdsa-p256")]
    [InlineData("ecdsa-p256", "ed25519")]
    public async Task TheNetworkKeyLeavesTheServerAndARotatedAndARevokedKeyNeedNothingFromPeerOperators(string algorithm, string peersAlgorithm)
    {
        await using var a = await TestNode.StartAsync("alpha", "--tls", "--network-key-algorithm", algorithm);
        await using var b = await TestNode.StartAsync("beta", "--tls", "--network-key-algorithm", peersAlgorithm);
        await using var c = await TestNode.StartAsync("gamma", "--tls", "--network-key-algorithm", peersAlgorithm);
        var expected = Signatures.Parse(algorithm)!.Value;
        Assert.Equal(expected, a.Identity.Algorithm);
        Assert.Equal(Signatures.Parse(peersAlgorithm), b.Identity.Algorithm);
        await TestNode.PeerAsync(a, b, c);
        // Before the key leaves the server, the network key signs itself, and its peers take it both ways.
        var early = await CallOutSteps.PublishAsync(a, null, b, c);
        await CallOutSteps.ReachedAsync(b, early.Id, 1);
        await CallOutSteps.RespondAsync(b, early.Id, CallOutSteps.Pledge());
        await CallOutSteps.ReachedAsync(c, early.Id, 2);
        var fromPeer = await CallOutSteps.PublishAsync(b, null, a);
        await CallOutSteps.ReachedAsync(a, fromPeer.Id, 1);
        var fightId = await JointFightTests.OpenWithAsync(a, b, c);
        var network = a.NodeId;
        var legacyKey = File.ReadAllText(Path.Combine(a.DataDir, "node.key"));

        // The network key leaves the server: the node keeps its identity and signs with a key it certifies, of the network key's algorithm.
        var code = await InitAsync(a);
        Assert.Equal(network, a.NodeId);
        Assert.True(a.Identity.IsCertified);
        var first = a.Identity.Current;
        Assert.Equal(expected, first.Algorithm);
        // The recovery code makes the network key file again, of its algorithm.
        var codeFile = Path.Combine(_folder, "code");
        File.WriteAllText(codeFile, code + "\n");
        var again = Path.Combine(_folder, "again.key");
        var recover = await Solnet.RunAsync(a.DataDir, "network", "recover", "--out", again, "--code-file", codeFile, "--passphrase-file", PassFile);
        Assert.True(recover.ExitCode == 0, recover.Out + recover.Error);
        Assert.Contains(NetworkKey.FingerprintOf(network), recover.Out);
        Assert.NotEqual(network, first.KeyId);
        var onDisk = File.ReadAllText(Path.Combine(a.DataDir, "node.key"));
        Assert.DoesNotContain(legacyKey.Split('\n')[1], onDisk);
        using (var fromFile = NetworkKey.FromPem(legacyKey))
        {
            Assert.Equal(network, fromFile.NetworkId);
        }

        // Peers take what the certified key signs, over TLS, with no operator doing anything.
        await a.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = fightId, Status = FightStatus.Escalating }, a.Auth);
        await Eventually.TrueAsync(() => Fight(b, fightId).Status == FightStatus.Escalating && Fight(c, fightId).Status == FightStatus.Escalating,
            "beta and gamma to take the change signed by the certified key");
        // And a participant's commitment still reaches a third node with its own proof.
        var callOut = await CallOutSteps.PublishAsync(a, null, b, c);
        await CallOutSteps.ReachedAsync(b, callOut.Id, 1);
        await CallOutSteps.RespondAsync(b, callOut.Id, CallOutSteps.Pledge());
        await CallOutSteps.ReachedAsync(c, callOut.Id, 2);

        // The stolen-laptop day: the key in use is copied, the operator rotates and revokes it.
        var stolen = Directory.CreateTempSubdirectory("stolen-").FullName;
        File.Copy(Path.Combine(a.DataDir, "node.key"), Path.Combine(stolen, "node.key"));
        // With the file the code made: the same network key.
        var rotate = await Solnet.RunAsync(a.DataDir, "key", "rotate", "--network-key", again, "--passphrase-file", PassFile);
        Assert.True(rotate.ExitCode == 0, rotate.Out + rotate.Error);
        var second = a.Identity.Current;
        Assert.NotEqual(first.KeyId, second.KeyId);
        Assert.Equal(first.Checked!.Serial + 1, second.Checked!.Serial);
        Assert.Contains("signs with a new key", rotate.Out);

        // In use at once: the next change is signed by the new key and taken everywhere.
        await a.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = fightId, Status = FightStatus.Paused }, a.Auth);
        await Eventually.TrueAsync(() => Fight(c, fightId).Status == FightStatus.Paused, "gamma to take the change signed by the rotated key");

        // Taken the moment the rotation was done: everything the first key signed came before
        // (from that time on, even the node's own events would be signed again, as they must).
        var compromisedSince = DateTimeOffset.UtcNow;
        var revoke = await Solnet.RunAsync(a.DataDir, "key", "revoke", first.KeyId, "--compromised-since", compromisedSince.ToString("O"),
            "--network-key", KeyFile, "--passphrase-file", PassFile);
        Assert.True(revoke.ExitCode == 0, revoke.Out + revoke.Error);
        await Eventually.TrueAsync(() => b.Get<PeerKeys>().RevokedSince(network, first.KeyId) is not null
            && c.Get<PeerKeys>().RevokedSince(network, first.KeyId) is not null, "beta and gamma to hear of the revocation");

        // A "won" forged with the stolen key after the compromise is refused by every peer.
        using var thief = NodeIdentity.LoadOrCreate(stolen);
        var seq = Fight(c, fightId).LastSequence;
        var forged = Forge.Sign(thief, fightId, ObjectKind.Fight, seq + 1, Forge.Won(FightStatus.Paused));
        foreach (var peer in new[] { b, c })
        {
            var deliver = new DeliverRequest { Envelopes = { forged } };
            // Over alpha's own connection, which presents its current TLS certificate.
            var client = a.Get<PeerClients>().For(peer.Address, peer.NodeId);
            var ex = await Assert.ThrowsAsync<RpcException>(() => client.DeliverAsync(deliver, a.AsPeerOf(peer, Methods.Deliver, deliver)).ResponseAsync);
            Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
            Assert.Contains("revoked as compromised", ex.Status.Detail);
            Assert.Equal(FightStatus.Paused, Fight(peer, fightId).Status);
        }
        // What the old key signed before the compromise stays valid, as catch-up would serve it.
        var signedByFirst = a.Store.LoadEvents(callOut.Id, 0, 10);
        Assert.All(signedByFirst, e => Assert.Equal(first.KeyId, NetworkSignatures.Check(CertifiedKey.Parser.ParseFrom(e.Signer)).KeyId));
        foreach (var e in signedByFirst)
        {
            Federation.Core.Log.Envelopes.Verify(Federation.Core.Log.Envelopes.Build(e, a.Get<NodeIdentity>().Algorithm), c.Get<PeerKeys>(), DateTimeOffset.UtcNow);
        }
        Directory.Delete(stolen, recursive: true);
    }

    [Fact]
    public async Task APeerThatWasAwayLearnsOfARevocationAtItsNextHello()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        await InitAsync(a);
        var first = a.Identity.Current.KeyId;
        Assert.Equal(0, (await Solnet.RunAsync(a.DataDir, "key", "rotate", "--network-key", KeyFile, "--passphrase-file", PassFile)).ExitCode);

        await b.StopAsync();
        var revoke = await Solnet.RunAsync(a.DataDir, "key", "revoke", first, "--compromised-since", "2026-01-01T00:00:00Z",
            "--network-key", KeyFile, "--passphrase-file", PassFile);
        Assert.True(revoke.ExitCode == 0, revoke.Out + revoke.Error);
        Assert.Contains(first, (await Solnet.RunAsync(a.DataDir, "key", "show")).Out);

        await b.StartAgainAsync();
        await Eventually.TrueAsync(() => b.Get<PeerKeys>().RevokedSince(a.NodeId, first) is not null, "beta to learn of the revocation when it says Hello again");
        // Kept, so a restart knows it too.
        await b.StopAsync();
        await b.StartAgainAsync();
        Assert.Equal(DateTimeOffset.Parse("2026-01-01T00:00:00Z"), b.Get<PeerKeys>().RevokedSince(a.NodeId, first));
    }

    [Fact]
    public async Task WhatDoesNotComeFromTheNetworkKeyIsRefusedAndChangesNothing()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await InitAsync(a);
        var before = a.Identity.Current.KeyId;
        using var other = NetworkKey.Create(SignatureAlgorithm.EcdsaP256Sha256);

        // A certificate from another network, and one for a key the node does not hold.
        var next = await a.Delegate.PrepareNodeKeyAsync(new PrepareNodeKeyRequest(), a.Auth);
        var foreign = NetworkSignatures.Certify(other, next.NextPublicKey.ToByteArray(), DateTimeOffset.UtcNow, TimeSpan.FromDays(30), 9, "");
        var ex = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.InstallNodeKeyAsync(new InstallNodeKeyRequest { Certificate = foreign }, a.Auth).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Contains("is for network", ex.Status.Detail);

        // A revocation signed by anything but the network key (here the node key itself, as a thief holding the server would).
        var forgedRevocation = new SignedRevocation
        {
            Revocation = new KeyRevocation
            {
                NetworkId = a.NodeId, KeyId = before,
                CompromisedSince = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
                IssuedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            }.ToByteString(),
            NetworkPublicKey = Google.Protobuf.ByteString.CopyFrom(a.Identity.PublicKey),
        };
        forgedRevocation.Signature = Google.Protobuf.ByteString.CopyFrom(a.Identity.Current.Sign(
            SignedKind.Revocation, forgedRevocation.Revocation.Span));
        ex = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.RevokeNodeKeyAsync(new RevokeNodeKeyRequest { Revocation = forgedRevocation }, a.Auth).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Contains("Only the network key can revoke", ex.Status.Detail);

        // solnet refuses the wrong network key file before asking the node anything, and a revocation of the key in use.
        var otherFile = Path.Combine(_folder, "other.key");
        var wrong = await Solnet.RunAsync(a.DataDir, "network", "recover", "--out", otherFile, "--code-file", WriteCode(other), "--passphrase-file", PassFile);
        Assert.True(wrong.ExitCode == 0, wrong.Out + wrong.Error);
        var refused = await Solnet.RunAsync(a.DataDir, "key", "rotate", "--network-key", otherFile, "--passphrase-file", PassFile);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("nothing was changed", refused.Error + refused.Out);
        var current = await Solnet.RunAsync(a.DataDir, "key", "revoke", before, "--compromised-since", "2026-01-01T00:00:00Z",
            "--network-key", KeyFile, "--passphrase-file", PassFile);
        Assert.NotEqual(0, current.ExitCode);
        Assert.Contains("rotate to a new key first", current.Error + current.Out);

        Assert.Equal(before, a.Identity.Current.KeyId);
        Assert.Empty((await a.Delegate.GetNodeKeysAsync(new GetNodeKeysRequest(), a.Auth)).Revoked);
    }

    [Fact]
    public async Task AForgedWonTakenBeforeTheRevocationArrivedIsQuarantinedAndTheRightfulLogTakesItsPlace()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await TestNode.PeerAsync(a, b);
        var fightId = await JointFightTests.OpenWithAsync(a, b);
        await InitAsync(a);
        var stolenKeyId = a.Identity.Current.KeyId;
        var stolen = Directory.CreateTempSubdirectory("stolen-").FullName;
        File.Copy(Path.Combine(a.DataDir, "node.key"), Path.Combine(stolen, "node.key"));
        var compromisedSince = DateTimeOffset.UtcNow.AddSeconds(-1);

        // Whoever holds the server's key forges a "won"; beta, not yet told, takes it.
        using (var thief = NodeIdentity.LoadOrCreate(stolen))
        {
            var seq = Fight(b, fightId).LastSequence;
            var forged = Forge.Sign(thief, fightId, ObjectKind.Fight, seq + 1, Forge.Won(FightStatus.Open));
            var deliver = new DeliverRequest { Envelopes = { forged } };
            await b.Peer.DeliverAsync(deliver, a.AsPeerOf(b, Methods.Deliver, deliver));
        }
        Assert.Equal(FightStatus.Won, Fight(b, fightId).Status);

        // The operator rotates and revokes: beta takes the forgery out and shows it.
        Assert.Equal(0, (await Solnet.RunAsync(a.DataDir, "key", "rotate", "--network-key", KeyFile, "--passphrase-file", PassFile)).ExitCode);
        var revoke = await Solnet.RunAsync(a.DataDir, "key", "revoke", stolenKeyId, "--compromised-since", compromisedSince.ToString("O"),
            "--network-key", KeyFile, "--passphrase-file", PassFile);
        Assert.True(revoke.ExitCode == 0, revoke.Out + revoke.Error);
        await Eventually.TrueAsync(() => Fight(b, fightId).Status == FightStatus.Open, "beta to take the forged won out of the fight");
        var shown = await Solnet.RunAsync(b.DataDir, "key", "show");
        Assert.Contains($"quarantined: event {Fight(a, fightId).LastSequence + 1} of {fightId}", shown.Out);
        Assert.Contains("compromised", shown.Out);

        // The rightful initiator speaks on, at that very position, and is heard.
        await a.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = fightId, Status = FightStatus.Escalating }, a.Auth);
        await Eventually.TrueAsync(() => Fight(b, fightId).Status == FightStatus.Escalating, "beta to take the initiator's own change");
        Assert.Equal(Fight(a, fightId).LastSequence, Fight(b, fightId).LastSequence);
        Directory.Delete(stolen, recursive: true);
    }

    /// <summary>
    /// The seizure drill (issue 16, "Proven by"), on SQLite: the initiator's server is taken
    /// with its key; the network stands up again on a new server from its backup, rotates
    /// and revokes the taken key, and still speaks for its fight: it ends it, and every
    /// committed network receives and acknowledges the stand-down.
    /// </summary>
    [Fact]
    public async Task TheSeizureDrillTheNetworkComesBackOnANewServerAndEndsItsFightWhileTheTakenKeyIsRefused()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(a, b, c);
        var fightId = await JointFightTests.OpenWithAsync(a, b, c);
        await InitAsync(a);
        await a.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = fightId, Status = FightStatus.Escalating }, a.Auth);
        await Eventually.TrueAsync(() => Fight(b, fightId).Status == FightStatus.Escalating && Fight(c, fightId).Status == FightStatus.Escalating, "the escalation to reach everyone");

        // The raid: the server is taken, key and all.
        var seized = a.Identity.Current.KeyId;
        var thiefFolder = Directory.CreateTempSubdirectory("seized-").FullName;
        File.Copy(Path.Combine(a.DataDir, "node.key"), Path.Combine(thiefFolder, "node.key"));
        var takenAt = DateTimeOffset.UtcNow.AddSeconds(-1);
        await a.StopAsync();

        // The network stands up on a new server from its backup, at a new address, and
        // replaces and revokes the taken key from the moment of the raid. Until the rotation
        // it signs with the taken key: those events are its own, and it signs them again.
        await using var restored = await TestNode.StartRestoredAsync(a);
        Assert.Equal(a.NodeId, restored.NodeId);
        var rotate = await Solnet.RunAsync(restored.DataDir, "key", "rotate", "--network-key", KeyFile, "--passphrase-file", PassFile);
        Assert.True(rotate.ExitCode == 0, rotate.Out + rotate.Error);
        var revoke = await Solnet.RunAsync(restored.DataDir, "key", "revoke", seized, "--compromised-since", takenAt.ToString("O"),
            "--network-key", KeyFile, "--passphrase-file", PassFile);
        Assert.True(revoke.ExitCode == 0, revoke.Out + revoke.Error);
        await Eventually.TrueAsync(() => b.PeerInfo(a.NodeId).Address == restored.Address && c.PeerInfo(a.NodeId).Address == restored.Address,
            "beta and gamma to follow alpha to its new server");
        await Eventually.TrueAsync(() => b.Get<PeerKeys>().RevokedSince(a.NodeId, seized) is not null && c.Get<PeerKeys>().RevokedSince(a.NodeId, seized) is not null,
            "beta and gamma to hear of the revocation");

        // What the taken key signs now is refused everywhere.
        using (var thief = NodeIdentity.LoadOrCreate(thiefFolder))
        {
            var forged = Forge.Sign(thief, fightId, ObjectKind.Fight, Fight(b, fightId).LastSequence + 1, Forge.Won(FightStatus.Escalating));
            foreach (var peer in new[] { b, c })
            {
                var refused = Assert.Throws<Federation.Domain.RuleViolation>(() =>
                    Federation.Core.Log.Envelopes.Verify(forged, peer.Get<PeerKeys>(), DateTimeOffset.UtcNow));
                Assert.Contains("revoked as compromised", refused.Message);
            }
        }

        // The network still speaks for its fight: it ends it, and the stand-down is acknowledged by all.
        await EndAndAcknowledgeAsync(restored, fightId, b, c);
        Directory.Delete(thiefFolder, recursive: true);
    }

    /// <summary>
    /// Issue 16 #4, from nothing: the server is taken and there is no backup. The network key
    /// stands up a new server, the peers follow it to its new address, and it takes back what
    /// it originated (the fight, its call-out, the briefings only committed networks hold)
    /// from their copies, every event checked against its keys; then it ends its fight. The
    /// new server on either storage engine.
    /// </summary>
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task WithNoBackupTheNetworkTakesBackWhatItOriginatedFromItsPeersCopiesAndEndsItsFight(string engine)
    {
        using var database = engine == "postgres" ? new TestPostgresDatabase() : null;
        string[] onEngine = database is null ? [] : ["--Node:Database", "postgres", "--Node:Postgres:ConnectionString", database.ConnectionString];
        await using var a = await TestNode.StartAsync("alpha");
        await using var b = await TestNode.StartAsync("beta");
        await using var c = await TestNode.StartAsync("gamma");
        await TestNode.PeerAsync(a, b, c);
        var fightId = await JointFightTests.OpenWithAsync(a, b, c);
        await InitAsync(a);
        await a.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = fightId, Status = FightStatus.Escalating }, a.Auth);
        await a.Delegate.PostBriefingAsync(new PostBriefingRequest { FightId = fightId, Text = "Meet at the side door at 05:40" }, a.Auth);
        var callOut = await CallOutSteps.PublishAsync(a, null, b, c);
        await CallOutSteps.ReachedAsync(b, callOut.Id, 1);
        await CallOutSteps.RespondAsync(b, callOut.Id, CallOutSteps.Pledge());
        await CallOutSteps.ReachedAsync(c, callOut.Id, 2);
        await Eventually.TrueAsync(() => Fight(b, fightId).Status == FightStatus.Escalating && Fight(c, fightId).Status == FightStatus.Escalating
            && b.Delegate.GetBriefings(new GetObjectRequest { Id = fightId }, b.Auth).Briefings.Count == 1, "the escalation and the briefing to reach everyone");
        var fightAt = Fight(b, fightId).LastSequence;
        var seized = a.Identity.Current.KeyId;
        var takenAt = DateTimeOffset.UtcNow;
        await a.StopAsync();

        // A new server, from the network key alone.
        await using var fresh = await TestNode.StartPreparedAsync("alpha", async dir =>
        {
            var made = await Solnet.RunAsync(dir, "network", "new-server", "--network-key", KeyFile, "--passphrase-file", PassFile);
            Assert.True(made.ExitCode == 0, made.Out + made.Error);
            Assert.Contains("recover-objects", made.Out);
            var again = await Solnet.RunAsync(dir, "network", "new-server", "--network-key", KeyFile, "--passphrase-file", PassFile);
            Assert.NotEqual(0, again.ExitCode);
            Assert.Contains("already holds a node", again.Error);
        }, onEngine);
        var store = fresh.Get<Federation.Core.Storage.IFederationStore>();
        Assert.Equal(engine == "postgres", store is Federation.Storage.PostgresStore);
        Assert.Equal(a.NodeId, fresh.NodeId);
        // A node key of the network key's own algorithm (Ed25519, a new network's), unless told otherwise.
        Assert.Equal(SignatureAlgorithm.Ed25519, fresh.Identity.Algorithm);
        Assert.Equal(SignatureAlgorithm.Ed25519, fresh.Identity.Current.Algorithm);
        Assert.Null(store.GetObject(fightId));
        await fresh.AddPeerAsync(b);
        await fresh.AddPeerAsync(c);
        await Eventually.TrueAsync(() => b.PeerInfo(a.NodeId).Address == fresh.Address && c.PeerInfo(a.NodeId).Address == fresh.Address,
            "beta and gamma to follow alpha to its new server");
        var revoke = await Solnet.RunAsync(fresh.DataDir, "key", "revoke", seized, "--compromised-since", takenAt.ToString("O"),
            "--network-key", KeyFile, "--passphrase-file", PassFile);
        Assert.True(revoke.ExitCode == 0, revoke.Out + revoke.Error);

        // gamma cannot be reached just now: beta's copies are enough, and gamma's absence is said.
        await fresh.CutAsync(c);
        var recovered = await Solnet.RunAsync(fresh.DataDir, "network", "recover-objects");
        Assert.True(recovered.ExitCode == 0, recovered.Out + recovered.Error);
        Assert.Contains("Asked 2 peers: 3 objects recovered", recovered.Out);
        Assert.Contains("not recovered: gamma could not be asked", recovered.Out);
        Assert.Single(recovered.Out.Split('\n'), l => l.Contains("not recovered", StringComparison.Ordinal));
        await fresh.CutAsync(c, cut: false);
        Assert.Equal(fightAt, Fight(fresh, fightId).LastSequence);
        Assert.Equal(FightStatus.Escalating, Fight(fresh, fightId).Status);
        Assert.Equal("Meet at the side door at 05:40", fresh.Delegate.GetBriefings(new GetObjectRequest { Id = fightId }, fresh.Auth).Briefings.Single().Text);
        Assert.Equal(b.Store.GetObject(callOut.Id)!.LastSequence, store.GetObject(callOut.Id)!.LastSequence);
        // The call-out named its audience by a digest (docs/adr/0030): beta, which holds a copy,
        // is a recipient again; gamma, not asked yet, is not, until a later recovery finds its copy.
        var recoveredCallOut = CallOutSteps.Get(fresh, callOut.Id);
        Assert.Equal(b.NodeId, recoveredCallOut.Recipients.Single());
        Assert.Equal(2u, recoveredCallOut.RecipientCount);
        // Asking again finds nothing more to take, and gamma, reached now, is a recipient again.
        var again = await Solnet.RunAsync(fresh.DataDir, "network", "recover-objects");
        Assert.Contains("0 objects recovered", again.Out);
        Assert.Equal(new[] { b.NodeId, c.NodeId }.Order(), CallOutSteps.Get(fresh, callOut.Id).Recipients.Order());

        // It still speaks for its fight: it ends it, and every committed network acknowledges.
        await EndAndAcknowledgeAsync(fresh, fightId, b, c);
        Assert.Equal(fightAt + 3, Fight(fresh, fightId).LastSequence);
    }

    /// <summary>
    /// The network, on its new server, declares its fight won; every committed network hears
    /// it and acknowledges the stand-down; nothing lost, nothing twice: every copy ends at the
    /// initiator's last event, in order.
    /// </summary>
    private static async Task EndAndAcknowledgeAsync(TestNode origin, string fightId, params TestNode[] committed)
    {
        await origin.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = fightId, Status = FightStatus.Won }, origin.Auth);
        foreach (var peer in committed)
        {
            await Eventually.TrueAsync(() => Fight(peer, fightId).Status == FightStatus.Won
                && Fight(peer, fightId).Participants.Single(p => p.Network == peer.NodeId).StandDownPending, $"{peer.Name} to hear the fight is won");
            await peer.Delegate.AcknowledgeStandDownAsync(new GetObjectRequest { Id = fightId }, peer.Auth);
        }
        await Eventually.TrueAsync(() => Fight(origin, fightId).Participants.All(p => !p.StandDownPending), "every stand-down acknowledged at the new server");
        await Eventually.TrueAsync(() => committed.All(p => Fight(p, fightId).LastSequence == Fight(origin, fightId).LastSequence),
            "every committed network to hold the whole log");
    }

    /// <summary>
    /// A certificate near its end is said everywhere the operator looks, and a rotation with
    /// the usual validity quiets it: a node nobody rotated for a year would otherwise fall
    /// silent to every peer on one day.
    /// </summary>
    [Fact]
    public async Task ACertificateNearItsEndAsksToBeRenewedUntilTheKeyIsRotated()
    {
        var now = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
        Assert.Null(KeyRenewal.Reminder(now.AddDays(31), now));
        Assert.Contains("in 30 days", KeyRenewal.Reminder(now.AddDays(30), now));
        Assert.Contains("in less than a day", KeyRenewal.Reminder(now.AddHours(3), now));
        Assert.Contains("ended on 2026-12-07 11:00Z: peers refuse", KeyRenewal.Reminder(now.AddHours(-1), now));

        await using var a = await TestNode.StartAsync("alpha");
        Assert.Equal("", a.Delegate.GetNodeKeys(new GetNodeKeysRequest(), a.Auth).Renewal);
        await a.StopAsync();
        var init = await Solnet.RunAsync(a.DataDir, "network", "init", "--out", KeyFile, "--passphrase-file", PassFile, "--days", "10");
        Assert.True(init.ExitCode == 0, init.Out + init.Error);
        await a.StartAgainAsync();

        Assert.Contains("in 9 days", a.Delegate.GetNodeKeys(new GetNodeKeysRequest(), a.Auth).Renewal);
        var show = await Solnet.RunAsync(a.DataDir, "key", "show");
        Assert.Contains("RENEW:", show.Out);
        Assert.Contains("solnet key rotate", show.Out);
        await Eventually.TrueAsync(() => a.Logs.Lines.Any(l => l.Contains("Renew the node key", StringComparison.Ordinal)), "the reminder in the log");

        var rotate = await Solnet.RunAsync(a.DataDir, "key", "rotate", "--network-key", KeyFile, "--passphrase-file", PassFile);
        Assert.True(rotate.ExitCode == 0, rotate.Out + rotate.Error);
        Assert.Equal("", a.Delegate.GetNodeKeys(new GetNodeKeysRequest(), a.Auth).Renewal);
        Assert.DoesNotContain("RENEW:", (await Solnet.RunAsync(a.DataDir, "key", "show")).Out);
    }

    private string WriteCode(NetworkKey key)
    {
        var path = Path.Combine(_folder, "code");
        File.WriteAllText(path, key.RecoveryCode() + "\n");
        return path;
    }
}
