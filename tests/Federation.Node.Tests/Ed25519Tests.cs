using System.Security.Cryptography.X509Certificates;
using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Domain;
using Federation.Node.Peering;
using Federation.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Node.Tests;

/// <summary>
/// Node keys move to Ed25519 (issue 16 #7, docs/adr/0028): a rotation chooses it once every
/// peer verifies it, and what the key signs (events, submissions with their proofs, calls,
/// the TLS certificate's key) is taken everywhere; a peer that has not said it verifies
/// Ed25519 keeps the node on ECDSA P-256, and what an Ed25519 key signed waits for it.
/// </summary>
public sealed class Ed25519Tests : IDisposable
{
    private const string Phrase = "an injury to one is an injury to all";
    private readonly string _folder = Directory.CreateTempSubdirectory("ed25519-").FullName;

    private string PassFile => Path.Combine(_folder, "passphrase");
    private string KeyFileOf(TestNode n) => Path.Combine(_folder, n.Name + ".network.key");

    // Networks made with ECDSA P-256 keys, as before 0.2.0 and for peering with 0.1.0: these tests are of how such a network moves its node key to Ed25519 (docs/adr/0028).
    private static readonly string[] P256 = ["--network-key-algorithm", "ecdsa-p256"];

    public Ed25519Tests() => File.WriteAllText(PassFile, Phrase + "\n");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static FightState Fight(TestNode n, string id) => n.Delegate.GetFight(new GetObjectRequest { Id = id }, n.Auth);

    private async Task InitAsync(TestNode n, params string[] extra)
    {
        await n.StopAsync();
        var init = await Solnet.RunAsync(n.DataDir, ["network", "init", "--out", KeyFileOf(n), "--passphrase-file", PassFile, .. extra]);
        Assert.True(init.ExitCode == 0, init.Out + init.Error);
        await n.StartAgainAsync();
    }

    private Task<Solnet.Result> RotateAsync(TestNode n, params string[] extra) =>
        Solnet.RunAsync(n.DataDir, ["key", "rotate", "--network-key", KeyFileOf(n), "--passphrase-file", PassFile, .. extra]);

    private static SignatureAlgorithm SignerOf(Federation.Core.Storage.StoredEvent e) =>
        Signatures.AlgorithmOf(NetworkSignatures.Check(CertifiedKey.Parser.ParseFrom(e.Signer)).NodePublicKey);

    [Fact]
    public async Task ARotationMovesToEd25519OnceEveryPeerVerifiesItAndEverythingItSignsIsTakenOverTls()
    {
        await using var a = await TestNode.StartAsync("alpha", ["--tls", .. P256]);
        await using var b = await TestNode.StartAsync("beta", ["--tls", .. P256]);
        await using var c = await TestNode.StartAsync("gamma", ["--tls", .. P256]);
        await TestNode.PeerAsync(a, b, c);
        var fightId = await JointFightTests.OpenWithAsync(a, b, c);

        // Moved off the server with ECDSA P-256 (what every release verifies), then rotated:
        // every peer says it verifies Ed25519, so the node chooses it.
        await InitAsync(a);
        Assert.Equal(SignatureAlgorithm.EcdsaP256Sha256, a.Identity.Current.Algorithm);
        var rotate = await RotateAsync(a);
        Assert.True(rotate.ExitCode == 0, rotate.Out + rotate.Error);
        Assert.Contains("(Ed25519: every peer verifies it)", rotate.Out);
        Assert.Equal(SignatureAlgorithm.Ed25519, a.Identity.Current.Algorithm);
        var show = await Solnet.RunAsync(a.DataDir, "key", "show");
        Assert.Contains($"{a.Identity.Current.KeyId} (Ed25519, serial 2", show.Out);
        // Beta is moved straight to Ed25519 when its network key leaves the server.
        await InitAsync(b, "--algorithm", "ed25519");
        Assert.Equal(SignatureAlgorithm.Ed25519, b.Identity.Current.Algorithm);

        // The TLS certificate holds a P-256 key the Ed25519 node key signed for; peers and
        // solnet take it as the network's (every call below runs over it).
        Assert.NotEqual(a.Identity.Current.PublicKey, a.Identity.Certificate.GetECDsaPublicKey()!.ExportSubjectPublicKeyInfo());
        Assert.Equal(a.NodeId, NodeCertificate.NodeIdOf(a.Identity.Certificate, c.Get<PeerKeys>()));

        // Events: the status change reaches both peers, signed by the Ed25519 key.
        await a.Delegate.ChangeFightStatusAsync(new ChangeFightStatusRequest { FightId = fightId, Status = FightStatus.Escalating }, a.Auth);
        await Eventually.TrueAsync(() => Fight(b, fightId).Status == FightStatus.Escalating && Fight(c, fightId).Status == FightStatus.Escalating,
            "beta and gamma to take the change the Ed25519 key signed");
        var last = a.Store.LoadEvents(fightId, Fight(a, fightId).LastSequence - 1, 1).Single();
        Assert.Equal(SignatureAlgorithm.Ed25519, SignerOf(last));

        // Submissions: beta's pledge, signed by its Ed25519 key, is recorded by alpha and
        // proven to gamma by the signed bytes alpha's event carries.
        var callOut = await CallOutSteps.PublishAsync(a, null, b, c);
        await CallOutSteps.ReachedAsync(b, callOut.Id, 1);
        await CallOutSteps.RespondAsync(b, callOut.Id, CallOutSteps.Pledge());
        var atGamma = await CallOutSteps.ReachedAsync(c, callOut.Id, 2);
        Assert.Equal(b.NodeId, atGamma.Responses.Single().Network);
        var recorded = EventPayload.Parser.ParseFrom(c.Store.LoadEvents(callOut.Id, 1, 1).Single().Payload);
        Assert.Equal(SignatureAlgorithm.Ed25519, SignedSubmission.Parser.ParseFrom(recorded.Submission).Algorithm);
        // Checked by a node that pins no one, from the certificate the signed bytes carry.
        Assert.Null(Federation.Core.Log.SubmissionProof.Check(recorded));
    }

    [Fact]
    public async Task APeerThatHasNotSaidItVerifiesEd25519KeepsTheNodeOnEcdsaAndWhatAnEd25519KeySignedWaitsForIt()
    {
        var withoutEd25519 = new LocalProtocol(new SpokenProtocol(Protocol.Current, "0.1.9",
            Protocol.ThisBuild.Where(c => c != Protocol.Capabilities.SignaturesEd25519).ToHashSet(StringComparer.Ordinal)));
        await using var a = await TestNode.StartAsync("alpha", P256);
        await using var b = await TestNode.StartAsync("beta", P256);
        await using var c = await TestNode.StartAsync("gamma", P256);
        await c.StopAsync();
        c.Customize = builder => builder.Services.AddSingleton(withoutEd25519);
        await c.StartAgainAsync();
        await TestNode.PeerAsync(a, b, c);
        await InitAsync(a);
        var before = a.Identity.Current.KeyId;

        // Asked for Ed25519, the node refuses and names the peer; asked nothing, it stays on ECDSA and says why.
        var refused = await RotateAsync(a, "--algorithm", "ed25519");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Ed25519 is refused: gamma cannot verify it", refused.Error + refused.Out);
        Assert.Equal(before, a.Identity.Current.KeyId);
        var rotate = await RotateAsync(a);
        Assert.True(rotate.ExitCode == 0, rotate.Out + rotate.Error);
        Assert.Contains("(ECDSA P-256: not Ed25519 yet: gamma cannot verify it)", rotate.Out);
        Assert.Equal(SignatureAlgorithm.EcdsaP256Sha256, a.Identity.Current.Algorithm);

        // Alpha's operator suspends gamma for a while; alpha moves to Ed25519 and
        // gamma comes back still without it: what the Ed25519 key signs waits for gamma,
        // with the reason, while beta takes it at once.
        await a.Delegate.SetPeerStateAsync(new SetPeerStateRequest { Network = c.NodeId, State = "suspended" }, a.Auth);
        var moved = await RotateAsync(a, "--algorithm", "ed25519");
        Assert.True(moved.ExitCode == 0, moved.Out + moved.Error);
        Assert.Equal(SignatureAlgorithm.Ed25519, a.Identity.Current.Algorithm);
        await a.Delegate.SetPeerStateAsync(new SetPeerStateRequest { Network = c.NodeId, State = "active" }, a.Auth);
        var callOut = await CallOutSteps.PublishAsync(a, null, b, c);
        await CallOutSteps.ReachedAsync(b, callOut.Id, 1);
        await Eventually.TrueAsync(() => a.PeerInfo(c.NodeId).Waiting == 1, "the call-out to wait for gamma to verify Ed25519");
        var waiting = a.Delegate.ListDeadLetters(new ListDeadLettersRequest { Peer = c.NodeId }, a.Auth).DeadLetters.Single();
        Assert.Equal(("WAITING_FOR " + Protocol.Capabilities.SignaturesEd25519, callOut.Id), (waiting.Status, waiting.ObjectId));
        Assert.Contains("upgrade", waiting.Error);
        Assert.Null(c.Store.GetObject(callOut.Id));

        // Gamma upgrades: the call-out goes by itself.
        await c.StopAsync();
        c.Customize = null;
        await c.StartAgainAsync();
        await CallOutSteps.ReachedAsync(c, callOut.Id, 1);
        await Eventually.TrueAsync(() => a.PeerInfo(c.NodeId).Waiting == 0, "nothing to wait once gamma verifies Ed25519");
    }
}
