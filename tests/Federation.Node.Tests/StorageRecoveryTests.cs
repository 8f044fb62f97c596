using Federation.Contracts;
using Federation.Contracts.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Node.Tests;

/// <summary>
/// Issue 24, docs/adr/0026: a storage passphrase that is lost is not the end of a network's
/// sealed details when its network key is kept off the server. The node also rests its storage
/// key wrapped to the network key; solnet agrees the wrap key with the network key file on the
/// operator's machine, and the node unwraps in its own memory under a new passphrase.
/// </summary>
public sealed class StorageRecoveryTests : IDisposable
{
    private const string Lost = "the passphrase nobody wrote down";
    private const string NetworkPhrase = "solidarity forever, the network key";
    private const string NewPhrase = "a passphrase kept in two heads this time";
    private const string Worker = "Marisol Quintero-Vance";
    private readonly string _folder = Directory.CreateTempSubdirectory("storage-recovery-").FullName;

    public StorageRecoveryTests()
    {
        File.WriteAllText(NetworkPassFile, NetworkPhrase + "\n");
        File.WriteAllText(NewPassFile, NewPhrase + "\n");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string KeyFile => Path.Combine(_folder, "network.key");
    private string NetworkPassFile => Path.Combine(_folder, "network-passphrase");
    private string NewPassFile => Path.Combine(_folder, "new-passphrase");

    private static string RecoveryPath(TestNode n) => Path.Combine(n.DataDir, "storage.recovery");
    private static string WrappedPath(TestNode n) => Path.Combine(n.DataDir, "storage.key");

    private static Task<StorageStatus> UnlockAsync(TestNode n, string passphrase, bool create = false) =>
        n.Delegate.UnlockStorageAsync(new UnlockStorageRequest { Passphrase = passphrase, Create = create }, n.Auth).ResponseAsync;

    private static LocalDetails Details(TestNode n, string fightId) => n.Delegate.GetLocalDetails(new GetObjectRequest { Id = fightId }, n.Auth);

    private static async Task<string> DraftWithDetailsAsync(TestNode n)
    {
        var draft = await n.Delegate.DraftFightAsync(new DraftFightRequest { Title = "Bistro wages", Target = new Target { Name = "Bistro Co" }, Terms = Samples.Terms() }, n.Auth);
        await n.Delegate.SetLocalDetailsAsync(new SetLocalDetailsRequest { FightId = draft.Id, Details = new LocalDetails { AffectedPerson = Worker } }, n.Auth);
        return draft.Id;
    }

    private async Task MoveNetworkKeyOffAsync(TestNode n)
    {
        await n.StopAsync();
        var init = await Solnet.RunAsync(n.DataDir, "network", "init", "--out", KeyFile, "--passphrase-file", NetworkPassFile);
        Assert.True(init.ExitCode == 0, init.Out + init.Error);
        await n.StartAgainAsync();
    }

    /// <summary>Through either kind of network key: ECIES on X25519 for an Ed25519 one (a new network's), on P-256 for a P-256 one (docs/adr/0029).</summary>
    [Theory]
    [InlineData("ed25519", 2)]
    [InlineData("ecdsa-p256", 1)]
    public async Task ALostPassphraseIsRecoveredWithTheNetworkKeyFileAndTheNewPassphraseOpensTheSameDetails(string algorithm, int wrapVersion)
    {
        await using var a = await TestNode.StartAsync("alpha", "--network-key-algorithm", algorithm);
        Assert.Equal(Signatures.Parse(algorithm), a.Identity.Algorithm);
        // The storage key was set up while the network key still rested on the server: no recovery wrap then,
        // since the server's own key would open it.
        Assert.False((await UnlockAsync(a, Lost, create: true)).Recoverable);
        Assert.False(File.Exists(RecoveryPath(a)));
        var fightId = await DraftWithDetailsAsync(a);

        // Once the network key is off the server, the next unlock makes the wrap.
        await MoveNetworkKeyOffAsync(a);
        Assert.Equal(StorageState.Locked, a.Delegate.GetNodeInfo(new GetNodeInfoRequest(), a.Auth).Storage);
        Assert.True((await UnlockAsync(a, Lost)).Recoverable);
        Assert.True(File.Exists(RecoveryPath(a)));
        // The wrap names its agreement: 1, P-256; 2, X25519.
        Assert.Equal(wrapVersion, System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian((await File.ReadAllBytesAsync(RecoveryPath(a))).AsSpan(8)));

        // The passphrase is lost; the node restarts locked.
        await a.StopAsync();
        await a.StartAgainAsync();
        Assert.Equal(StatusCode.FailedPrecondition, Assert.Throws<RpcException>(() => Details(a, fightId)).StatusCode);
        var wrapBefore = await File.ReadAllBytesAsync(RecoveryPath(a));

        var recovered = await Solnet.RunAsync(a.DataDir, "unlock", "--recover", "--network-key", KeyFile,
            "--network-passphrase-file", NetworkPassFile, "--new-passphrase-file", NewPassFile);
        Assert.True(recovered.ExitCode == 0, recovered.Out + recovered.Error);
        Assert.Contains("recovered", recovered.Out);
        Assert.Equal(Worker, Details(a, fightId).AffectedPerson);
        // The wrap the travelled key opened is replaced: that key opens nothing left on the disk.
        Assert.False((await File.ReadAllBytesAsync(RecoveryPath(a))).AsSpan().SequenceEqual(wrapBefore));

        // From now on the new passphrase unlocks; the lost one no longer does.
        await a.Delegate.LockStorageAsync(new LockStorageRequest(), a.Auth);
        Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() => UnlockAsync(a, Lost))).StatusCode);
        Assert.Equal(StorageState.Unlocked, (await UnlockAsync(a, NewPhrase)).State);
        Assert.Equal(Worker, Details(a, fightId).AffectedPerson);
    }

    [Fact]
    public async Task AnotherNetworksKeyOrANodeWithoutARecoveryWrapIsRefusedAndNothingChanges()
    {
        await using var a = await TestNode.StartAsync("alpha");
        await MoveNetworkKeyOffAsync(a);
        Assert.True((await UnlockAsync(a, Lost, create: true)).Recoverable);
        var fightId = await DraftWithDetailsAsync(a);
        await a.Delegate.LockStorageAsync(new LockStorageRequest(), a.Auth);
        var wrapped = await File.ReadAllBytesAsync(WrappedPath(a));
        var wrap = await File.ReadAllBytesAsync(RecoveryPath(a));

        // A key agreed by another network's key, sent straight to the node: refused.
        var challenge = await a.Delegate.GetStorageRecoveryAsync(new GetStorageRecoveryRequest(), a.Auth);
        Assert.Equal(a.NodeId, challenge.NetworkId);
        using var other = NetworkKey.Create(a.Identity.Algorithm);
        var forged = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.RecoverStorageAsync(new RecoverStorageRequest
        {
            EphemeralPublicKey = challenge.EphemeralPublicKey,
            RecoveryKey = ByteString.CopyFrom(other.StorageRecoveryKey(challenge.EphemeralPublicKey.Span)),
            NewPassphrase = NewPhrase,
        }, a.Auth).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, forged.StatusCode);
        Assert.Contains("does not open this node's recovery wrap", forged.Status.Detail);

        // solnet refuses another network's key file before sending anything.
        var otherFile = Path.Combine(_folder, "other.key");
        var codeFile = Path.Combine(_folder, "other.code");
        await File.WriteAllTextAsync(codeFile, other.RecoveryCode() + "\n");
        Assert.Equal(0, (await Solnet.RunAsync(a.DataDir, "network", "recover", "--out", otherFile, "--code-file", codeFile, "--passphrase-file", NetworkPassFile)).ExitCode);
        var refused = await Solnet.RunAsync(a.DataDir, "unlock", "--recover", "--network-key", otherFile,
            "--network-passphrase-file", NetworkPassFile, "--new-passphrase-file", NewPassFile);
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("nothing was changed", refused.Error);

        // Nothing changed: still locked, the same wraps, the lost passphrase still the one.
        Assert.Equal(StatusCode.FailedPrecondition, Assert.Throws<RpcException>(() => Details(a, fightId)).StatusCode);
        Assert.Equal(wrapped, await File.ReadAllBytesAsync(WrappedPath(a)));
        Assert.Equal(wrap, await File.ReadAllBytesAsync(RecoveryPath(a)));
        await UnlockAsync(a, Lost);
        Assert.Equal(Worker, Details(a, fightId).AffectedPerson);

        // A damaged wrap is refused plainly, and the next unlock makes it again.
        await File.WriteAllBytesAsync(RecoveryPath(a), wrap[..20]);
        var damaged = await Assert.ThrowsAsync<RpcException>(() => a.Delegate.GetStorageRecoveryAsync(new GetStorageRecoveryRequest(), a.Auth).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, damaged.StatusCode);
        Assert.Contains("is damaged", damaged.Status.Detail);
        await UnlockAsync(a, Lost);
        Assert.Equal(a.NodeId, (await a.Delegate.GetStorageRecoveryAsync(new GetStorageRecoveryRequest(), a.Auth)).NetworkId);

        // A node whose network key rests on the server has no recovery wrap, and says so; one with no key at all, too.
        await using var b = await TestNode.StartAsync("beta");
        var noKey = await Assert.ThrowsAsync<RpcException>(() => b.Delegate.GetStorageRecoveryAsync(new GetStorageRecoveryRequest(), b.Auth).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, noKey.StatusCode);
        Assert.False((await UnlockAsync(b, Lost, create: true)).Recoverable);
        var noWrap = await Assert.ThrowsAsync<RpcException>(() => b.Delegate.GetStorageRecoveryAsync(new GetStorageRecoveryRequest(), b.Auth).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, noWrap.StatusCode);
        Assert.Contains("no recovery wrap", noWrap.Status.Detail);
        var blind = await Assert.ThrowsAsync<RpcException>(() => b.Delegate.RecoverStorageAsync(new RecoverStorageRequest
        {
            EphemeralPublicKey = challenge.EphemeralPublicKey,
            RecoveryKey = ByteString.CopyFrom(new byte[StorageRecoveryAgreement.KeySize]),
            NewPassphrase = NewPhrase,
        }, b.Auth).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, blind.StatusCode);
        Assert.False(File.Exists(RecoveryPath(b)));
        var cli = await Solnet.RunAsync(b.DataDir, "unlock", "--recover", "--network-key", KeyFile,
            "--network-passphrase-file", NetworkPassFile, "--new-passphrase-file", NewPassFile);
        Assert.Equal(3, cli.ExitCode);
        Assert.Contains("no recovery wrap", cli.Error);
    }
}
