using Federation.Contracts;
using System.Globalization;
using System.Text;
using Federation.Contracts.V1;
using Federation.Core.Identity;
using Federation.Domain;
using Federation.Node.Delivery;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federation.Faults.Tests.Harness;

/// <summary>
/// A network's key kept off its server (issue 16, docs/adr/0022): the passphrase-protected
/// file on the operator's USB stick, made once per network by <c>solnet network init</c> and
/// used for every drill after (the network outlives each of its servers).
/// </summary>
public sealed record NetworkKeyFile(string KeyFile, string PassphraseFile)
{
    private const string Passphrase = "fault suite network key passphrase";
    private static readonly Dictionary<string, NetworkKeyFile> Made = [];
    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>
    /// The network key file of <paramref name="node"/>'s network, moved off its server the
    /// first time it is asked for: the node is stopped (SIGKILL; its outbox makes that
    /// harmless), <c>solnet network init</c> runs on its folder, and it starts again signing
    /// with a node key the network key certifies.
    /// </summary>
    public static async Task<NetworkKeyFile> OffTheServerAsync(FaultNode node)
    {
        await Gate.WaitAsync();
        try
        {
            if (Made.TryGetValue(node.Name, out var made))
            {
                return made;
            }
            var folder = Directory.CreateTempSubdirectory($"fedf-usb-{node.Name}-").FullName;
            var file = new NetworkKeyFile(Path.Combine(folder, "network.key"), Path.Combine(folder, "passphrase"));
            await File.WriteAllTextAsync(file.PassphraseFile, Passphrase + "\n");
            node.Kill();
            var init = await Solnet.RunAsync(node.DataDir, "network", "init", "--out", file.KeyFile, "--passphrase-file", file.PassphraseFile);
            if (init.ExitCode != 0)
            {
                throw new InvalidOperationException($"solnet network init failed: {init.Out}{init.Error}");
            }
            await node.StartAsync();
            Made[node.Name] = file;
            return file;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary><c>solnet ARGS --network-key FILE --passphrase-file FILE</c> on <paramref name="dataDir"/>; throws with its output if it fails.</summary>
    public async Task<Solnet.Result> RunAsync(string dataDir, params string[] args)
    {
        var r = await Solnet.RunAsync(dataDir, [.. args, "--network-key", KeyFile, "--passphrase-file", PassphraseFile]);
        return r.ExitCode == 0 ? r : throw new InvalidOperationException($"solnet {string.Join(' ', args)} failed ({r.ExitCode}): {r.Out}{r.Error}");
    }
}

/// <summary>
/// What whoever seized a server holds: a copy of its <c>node.key</c>. With it the thief signs
/// events and peer calls as the network's node, exactly as the server did; only the network's
/// revocation (signed by the network key, which was never on the server) stops that.
/// </summary>
public sealed class StolenKey : IDisposable
{
    private readonly string _folder;
    private readonly NodeIdentity _identity;

    private StolenKey(string folder)
    {
        _folder = folder;
        _identity = NodeIdentity.LoadOrCreate(folder);
    }

    /// <summary>The key of the seized server, as its disk holds it now.</summary>
    public static StolenKey From(FaultNode seized)
    {
        var folder = Directory.CreateTempSubdirectory("fedf-seized-").FullName;
        File.Copy(Path.Combine(seized.DataDir, "node.key"), Path.Combine(folder, "node.key"));
        return new StolenKey(folder);
    }

    /// <summary>The node key's id, as <c>solnet key show</c> names it.</summary>
    public string KeyId => _identity.Current.KeyId;

    /// <summary>A "won" for <paramref name="fightId"/> at <paramref name="sequence"/>, signed with the stolen key now, as the network's server would sign it.</summary>
    public Envelope ForgeWon(string fightId, ulong sequence, FightStatus from)
    {
        var payload = new EventPayload
        {
            EventId = Guid.NewGuid().ToString(),
            ObjectId = fightId,
            ObjectKind = ObjectKind.Fight,
            Sequence = sequence,
            OriginNode = _identity.NodeId,
            ActorNode = _identity.NodeId,
            OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            Body = new EventBody { FightStatusChanged = new FightStatusChanged { From = from, To = FightStatus.Won } },
        };
        var bytes = payload.ToByteString();
        return new Envelope
        {
            EventId = payload.EventId,
            OriginNode = payload.OriginNode,
            KeyId = payload.OriginNode,
            ObjectId = fightId,
            ObjectKind = ObjectKind.Fight,
            Sequence = sequence,
            Payload = bytes,
            Signature = ByteString.CopyFrom(_identity.Sign(SignedKind.Event, bytes.Span)),
            Algorithm = _identity.Current.Algorithm,
            Certificate = _identity.Current.Certificate,
        };
    }

    /// <summary>
    /// Delivers <paramref name="forged"/> (nothing, if null) to <paramref name="to"/> straight at
    /// its own port, in a peer call the stolen key signs as the node's calls are signed
    /// (PeerClients.Options). Returns the refusal, or null if the call was taken. A node refuses
    /// a call it cannot authenticate with one answer whatever the cause (PeerAuthenticator), so
    /// a drill makes the same call with nothing in it before the revocation: taken then, the
    /// call itself is sound and the later refusal is the revocation's.
    /// </summary>
    public async Task<RpcException?> DeliverAsync(FaultNode to, Envelope? forged)
    {
        var request = new DeliverRequest();
        if (forged is not null)
        {
            request.Envelopes.Add(forged);
        }
        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var callId = Guid.NewGuid().ToString();
        var bodyHash = PeerClients.BodyHash(request.ToByteArray());
        var signing = PeerClients.CallSigningString(Methods.Deliver, ts, _identity.NodeId, to.NodeId, callId, bodyHash);
        var headers = new Metadata
        {
            { PeerClients.NodeHeader, _identity.NodeId },
            { PeerClients.TimeHeader, ts },
            { Federation.Node.Peering.PeerProtocols.Header, Protocol.Current.ToString() },
            { PeerClients.CallIdHeader, callId },
            { PeerClients.BodyHashHeader, bodyHash },
            { PeerClients.AlgorithmHeader, ((int)_identity.Current.Algorithm).ToString(CultureInfo.InvariantCulture) },
            { PeerClients.SignatureHeader, Convert.ToBase64String(_identity.Sign(SignedKind.Call, Encoding.UTF8.GetBytes(signing))) },
        };
        if (_identity.Current.Certificate is { } certificate)
        {
            headers.Add(PeerClients.CertificateHeader, certificate.ToByteString().ToBase64());
        }
        using var channel = GrpcChannel.ForAddress(to.Address);
        try
        {
            await new PeerService.PeerServiceClient(channel).DeliverAsync(request, headers, DateTime.UtcNow.AddSeconds(10));
            return null;
        }
        catch (RpcException ex)
        {
            return ex;
        }
    }

    public void Dispose()
    {
        _identity.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
