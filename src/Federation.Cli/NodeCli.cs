using System.CommandLine;
using Federation.Contracts;
using Federation.Contracts.V1;
using Grpc.Core;
using static Federation.Cli.Cli;

namespace Federation.Cli;

/// <summary>Settings, tokens, the node, its peers and their delivery: the operator's side.</summary>
public static class NodeCli
{
    // The capability a peer advertises when it verifies Ed25519 (the node's Protocol.Capabilities; solnet speaks only the contracts).
    private const string Ed25519Capability = "signatures.ed25519";

    public static IEnumerable<Command> Commands() =>
    [
        ConfigCommands(), TokenCommands(), Info(), Status(), PeerCommands(), Peers(), DeadLetters(), DeadLetterCommands(), Audit(),
        Unlock(), Lock(),
    ];

    /// <summary>
    /// The storage key (docs/security.md "A seized disk"). The passphrase goes to the node over
    /// the same channel as the operator token; like the backup's, it is never an argument.
    /// </summary>
    private static Command Unlock()
    {
        var create = Switch("--new", "Set the storage key up (the first time): from now on local details, reports and unshared report-backs rest sealed, and what rested in clear is sealed now");
        var change = Switch("--change", "Change the passphrase: asks for the current one, then the new one (or reads it from --new-passphrase-file); nothing sealed is touched");
        var passphraseFile = Text("--passphrase-file", "Read the passphrase from the first line of this file instead of asking for it (never give it on the command line)", "FILE");
        var newPassphraseFile = Text("--new-passphrase-file", "With --change or --recover: read the new passphrase from this file", "FILE");
        var recover = Switch("--recover", "The passphrase is lost: recover the key through the network key (--network-key FILE) and set a new passphrase; the network key stays on this machine");
        var networkKey = Text("--network-key", "With --recover: the network key file (made by solnet network init)", "FILE");
        var networkPassphraseFile = Text("--network-passphrase-file", "With --recover: read the network key file's passphrase from this file instead of asking for it", "FILE");
        return Cmd("unlock", "Unlock the node's sealed details with the storage passphrase (operator); with --new, set the key up; with --recover, recover it through the network key",
            [create, change, passphraseFile, newPassphraseFile, recover, networkKey, networkPassphraseFile], async s =>
        {
            if (new[] { s.Get(create), s.Get(change), s.Get(recover) }.Count(x => x) > 1)
            {
                throw new UsageException("--new sets a key up, --change changes its passphrase and --recover recovers it through the network key: give one of them.");
            }
            if (s.Get(recover))
            {
                await RecoverAsync(s, s.Text(networkKey), s.Text(networkPassphraseFile), s.Text(newPassphraseFile));
                return;
            }
            if (s.Text(networkKey).Length > 0)
            {
                throw new UsageException("--network-key is for --recover.");
            }
            var passphrase = Passphrase.Read(s.Text(passphraseFile), confirm: s.Get(create));
            var next = s.Get(change) ? Passphrase.Read(s.Text(newPassphraseFile), confirm: true) : "";
            var status = await s.Client.UnlockStorageAsync(new UnlockStorageRequest { Passphrase = passphrase, Create = s.Get(create), NewPassphrase = next }, s.Call);
            s.Out.Print(status, r => $"Storage: {StorageStateText.Describe(r.State)}."
                + (r.SealedNow > 0 ? $" Sealed {r.SealedNow} value(s) that rested in clear." : "")
                + (s.Get(create) ? "\nKeep the passphrase apart from the server: without it, nobody (you included) can read what is sealed"
                    + (r.Recoverable ? ", except the holder of the network key (solnet unlock --recover)." : ".") : ""));
        });
    }

    /// <summary>
    /// Recovery through the network key (docs/adr/0026): the network key agrees, here, the one
    /// key that opens the node's recovery wrap, and only that key goes to the node. The node
    /// opens the wrap in its own memory, so the storage key never comes to this machine.
    /// </summary>
    private static async Task RecoverAsync(Session s, string networkKeyFile, string networkPassphraseFile, string newPassphraseFile)
    {
        if (networkKeyFile.Length == 0)
        {
            throw new UsageException("--recover needs the network key file: --network-key FILE.");
        }
        var recovery = await s.Client.GetStorageRecoveryAsync(new GetStorageRecoveryRequest(), s.Call);
        byte[] recoveryKey;
        using (var network = NetworkKeyCli.Open(networkKeyFile, networkPassphraseFile, "Network key passphrase: "))
        {
            if (network.NetworkId != recovery.NetworkId)
            {
                throw new RefusedException($"That network key is {NetworkKey.FingerprintOf(network.NetworkId)}'s, and this node's storage key is wrapped to {NetworkKey.FingerprintOf(recovery.NetworkId)}'s: nothing was changed.");
            }
            try
            {
                recoveryKey = network.StorageRecoveryKey(recovery.EphemeralPublicKey.Span);
            }
            catch (ArgumentException e)
            {
                throw new RefusedException(e.Message + " Nothing was changed.");
            }
        }
        try
        {
            var next = Passphrase.Read(newPassphraseFile, confirm: true, "New storage passphrase: ");
            var status = await s.Client.RecoverStorageAsync(new RecoverStorageRequest
            {
                EphemeralPublicKey = recovery.EphemeralPublicKey,
                RecoveryKey = Google.Protobuf.ByteString.CopyFrom(recoveryKey),
                NewPassphrase = next,
            }, s.Call);
            s.Out.Print(status, r => $"Storage: {StorageStateText.Describe(r.State)}. The storage key is recovered and wrapped under the new passphrase; the old one opens nothing now."
                + (r.SealedNow > 0 ? $" Sealed {r.SealedNow} value(s) that rested in clear." : ""));
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(recoveryKey);
        }
    }

    private static Command Lock() => Cmd("lock", "The panic lock (operator): the storage key leaves the node's memory at once; it keeps federating, and sealed details stay unreadable until `solnet unlock`", [], async s =>
        s.Out.Print(await s.Client.LockStorageAsync(new LockStorageRequest(), s.Call), r => $"Storage: {StorageStateText.Describe(r.State)}."));

    private static Command Audit()
    {
        var last = Whole("--last", "How many of the newest entries (default 50, at most 1000)");
        return Cmd("audit", "Who did what on this node with which token, and whether it was allowed (operator)", [last], async s =>
            s.Out.List((await s.Client.ListAuditAsync(new ListAuditRequest { Limit = s.Get(last) ?? 0 }, s.Call)).Entries, "Nothing audited yet.",
                new Column<AuditLogEntry>("At", e => Format.When(e.At)),
                new Column<AuditLogEntry>("Who", e => e.Who),
                new Column<AuditLogEntry>("Role", e => e.Role),
                new Column<AuditLogEntry>("Action", e => e.Action),
                new Column<AuditLogEntry>("Object", e => e.ObjectId),
                new Column<AuditLogEntry>("Outcome", e => e.Outcome)));
    }

    private static Command ConfigCommands()
    {
        var key = Choice("KEY", "The setting", "node", "token", "data", "fingerprint");
        var value = Arg("VALUE", "Its value");
        return Group("config", "solnet's own settings file (node address, token, data folder, fingerprint)",
            Cmd("set", "Remember a setting in the config file (readable only by you: it may hold a token)", [key, value], s =>
            {
                s.Settings.Set(s.Get(key), s.Get(value));
                s.Out.Line($"Saved in {s.Settings.Path}.");
                return Task.CompletedTask;
            }),
            Cmd("show", "Print the settings (the token shortened)", [], s =>
            {
                if (s.Out.Json)
                {
                    s.Out.Line(Output.ToJson(new { path = s.Settings.Path, settings = s.Settings.Describe().ToDictionary(kv => kv.Key, kv => kv.Value) }));
                }
                else
                {
                    s.Out.Line($"{s.Settings.Path}:\n" + string.Join("\n", s.Settings.Describe().Select(kv => $"{kv.Key} = {kv.Value}")));
                }
                return Task.CompletedTask;
            }));
    }

    private static Command TokenCommands()
    {
        var holder = Text("--holder", "Who the token is for", "NAME", required: true);
        var role = ChoiceOption("--role", "What it may do", "ROLE", "delegate", "organiser", "operator");
        role.Required = true;
        var id = Ids.Arg(IdKind.Token, "ID", "The token's id (`solnet token list`)");
        return Group("token", "Delegate tokens (operator)",
            Cmd("create", "Make a token; it is shown once, and the node keeps only its hash", [holder, role], async s =>
            {
                var created = await s.Client.CreateTokenAsync(new CreateTokenRequest { Holder = s.Text(holder), Role = s.Text(role) }, s.Call);
                s.Out.Print(created, t => $"Token for '{t.Info.Holder}' ({t.Info.Role}), id {t.Info.Id}:\n{t.Token}\nIt is shown only now: the node keeps only its hash. Give it to them over a safe channel.");
            }),
            Cmd("list", "Every token: who holds it, its role, whether it is revoked", [], async s =>
                s.Out.List((await s.Client.ListTokensAsync(new ListTokensRequest(), s.Call)).Tokens, "No delegate tokens yet.",
                    new Column<TokenInfo>("Id", t => t.Id),
                    new Column<TokenInfo>("Role", t => t.Role),
                    new Column<TokenInfo>("Holder", t => t.Holder),
                    new Column<TokenInfo>("Created", t => Format.When(t.CreatedAt)),
                    new Column<TokenInfo>("Revoked", t => Format.When(t.RevokedAt)))),
            Cmd("revoke", "Revoke a token; it stops working at once", [id], async s =>
                s.Out.Print(await s.Client.RevokeTokenAsync(new RevokeTokenRequest { Id = s.Get(id) }, s.Call), t => $"Token {t.Id} ({t.Holder}) is revoked; it stops working at once.")),
            Cmd("sign-out", "Sign a token out everywhere: every dashboard session of it ends; the token keeps working", [id], async s =>
                s.Out.Print(await s.Client.EndTokenSessionsAsync(new EndTokenSessionsRequest { Id = s.Get(id) }, s.Call), t => $"Every dashboard session of token {t.Id} ({t.Holder}) is signed out; the token still works.")),
            Cmd("rotate-operator", "Replace the operator token: the old one stops working, and every operator session and stream opened with it ends", [], async s =>
                s.Out.Print(await s.Client.RotateOperatorTokenAsync(new RotateOperatorTokenRequest(), s.Call), t => $"The operator token is replaced; the new one is in {t.Path} on the node:\n{t.Token}\nIt is shown only now. The old one no longer works: update wherever you kept it (`solnet config set token …`).")));
    }

    private static Command Info() => Cmd("info", "This node: name, address, fingerprint, region", [], async s =>
        s.Out.Print(await s.Client.GetNodeInfoAsync(new GetNodeInfoRequest(), s.Call), Format.Node));

    private static Command Status() => Cmd("status", "This node and the health of each peer at a glance", [], async s =>
    {
        var info = await s.Client.GetNodeInfoAsync(new GetNodeInfoRequest(), s.Call);
        var peers = (await s.Client.ListPeersAsync(new ListPeersRequest(), s.Call)).Peers;
        if (s.Out.Json)
        {
            s.Out.Line($"{{\"node\":{Output.ToJson(info)},\"peers\":[{string.Join(",", peers.Select(Output.ToJson))}]}}");
            return;
        }
        s.Out.Line(Format.Node(info));
        foreach (var d in info.Dependencies)
        {
            s.Out.Line(Format.Dependency(d, DateTimeOffset.UtcNow));
        }
        var failing = peers.Count(p => p.Health is PeerHealth.Failing or PeerHealth.Unavailable);
        // A failing peer is counted once, as failing: "2 active, 1 failing" must not mean two that work.
        var working = peers.Count(p => p.State == "active" && p.Health is not (PeerHealth.Failing or PeerHealth.Unavailable));
        s.Out.Line($"  peers:       {peers.Count} ({working} active, {failing} failing)"
            + $", {peers.Aggregate(0ul, (n, p) => n + p.Pending)} item(s) waiting for delivery, {peers.Aggregate(0ul, (n, p) => n + p.DeadLetters)} dead letter(s)");
        if (peers.Count > 0)
        {
            s.Out.Table(peers, PeerColumns);
        }
    });

    private static readonly Column<PeerInfo>[] PeerColumns =
    [
        new("Name", p => p.Name),
        new("Fingerprint", p => p.Fingerprint),
        // Left out first on a narrow terminal: what `peer show` and --json still give.
        new("Address", p => p.Address, Drop: 4),
        new("Region", p => p.Region, Drop: 2),
        new("State", p => p.State),
        new("Health", Format.Health),
        new("Backlog", Format.Backlog),
        new("Dead letters", p => p.DeadLetters == 0 ? "" : $"{p.DeadLetters}"),
        new("Waiting", Format.Waiting, Drop: 3),
        new("Relay", Format.Relay, Drop: 1),
        new("Last error", p => p.LastError),
        new("Protocol", p => PeerProtocolText.Describe(p.Protocol), Drop: 5),
        new("Capabilities", p => PeerProtocolText.Capabilities(p.Protocol), Drop: 6),
    ];

    private static Command Peers() => Cmd("peers", "Each peer and its health: healthy, or failing since when and how far behind (same as `peer list`)", [], ListPeersAsync);

    private static async Task ListPeersAsync(Session s) =>
        s.Out.List((await s.Client.ListPeersAsync(new ListPeersRequest(), s.Call)).Peers, "No peers yet.", PeerColumns);

    private static Command PeerCommands()
    {
        var addressOrCode = Arg("ADDRESS", "The other node's address, or the peering code its operator gave you (`solnet peer code`)");
        var fingerprint = new Argument<string>("FINGERPRINT") { Description = "The other node's fingerprint, as its operator read it to you (not needed with a peering code)", Arity = ArgumentArity.ZeroOrOne };
        var network = Ids.Arg(IdKind.Peer, "FINGERPRINT", "The peer's fingerprint (or node id, or name)");
        var only = new Argument<string>("FINGERPRINT") { Description = "Only this peer (default: every peer)", Arity = ArgumentArity.ZeroOrOne };
        var timeout = Whole("--timeout", "Give up after this many seconds (default 60)", "SECONDS");
        var allow = Switch("--allow", "It may relay for this node");
        var deny = Switch("--deny", "It may no longer relay for this node");
        Command State(string verb, string state, string description) =>
            Cmd(verb, description, [network], async s =>
                s.Out.Print(await s.Client.SetPeerStateAsync(new SetPeerStateRequest { Network = s.Get(network), State = state }, s.Call), Format.Peer));
        return Group("peer", "Peers: the networks this node federates with (adding and changing them needs the operator)",
            Cmd("add", "Add a peer by its address and fingerprint, or by its peering code. Peering is mutual: its operator adds this node too", [addressOrCode, fingerprint], async s =>
            {
                var (address, fp) = PeeringCode.Parse(s.Get(addressOrCode), s.Get(fingerprint));
                var added = await s.Client.AddPeerAsync(new AddPeerRequest { Address = address, Fingerprint = fp }, s.Call);
                s.Out.Print(added, Format.Peer);
                // A peer that cannot verify what this node signs takes nothing from it: say so now, not when its backlog grows.
                if (added.Protocol is { Refusal.Length: 0 } known && !known.Capabilities.Contains(Ed25519Capability) && !s.Out.Json
                    && (await s.Client.GetNodeKeysAsync(new GetNodeKeysRequest(), s.Call)).KeyAlgorithm == SignatureAlgorithm.Ed25519)
                {
                    s.Out.Line(Format.CannotVerifyEd25519(added.Name));
                }
            }),
            Cmd("code", "This node's peering code: address and fingerprint in one line, for the other operator's `solnet peer add CODE`", [], async s =>
            {
                var info = await s.Client.GetNodeInfoAsync(new GetNodeInfoRequest(), s.Call);
                s.Out.Line(s.Out.Json ? Output.ToJson(new { code = PeeringCode.For(info), address = info.Address, fingerprint = info.Fingerprint }) : PeeringCode.For(info));
            }),
            Cmd("list", "Each peer and its health (same as `peers`)", [], ListPeersAsync),
            Cmd("show", "One peer in full: its health, backlog, next attempt and last error", [network], async s =>
            {
                var peers = (await s.Client.ListPeersAsync(new ListPeersRequest(), s.Call)).Peers;
                var wanted = PeeringCode.Id(s.Get(network));
                var peer = peers.FirstOrDefault(p => p.NodeId == wanted || PeeringCode.Id(p.Fingerprint) == wanted)
                    ?? throw new RpcException(new Grpc.Core.Status(StatusCode.NotFound, $"{s.Get(network)} is not a peer of this node; `solnet peers` lists them."));
                s.Out.Print(peer, Format.Peer);
            }),
            Cmd("relay", "Allow the peer to relay for this node, or no longer (operator): what this node cannot deliver directly goes through a relay both sides allow", [network, allow, deny], async s =>
            {
                var allowed = (s.Get(allow), s.Get(deny)) switch
                {
                    (true, false) => true,
                    (false, true) => false,
                    _ => throw new UsageException("Give --allow or --deny."),
                };
                s.Out.Print(await s.Client.SetPeerRelayAsync(new SetPeerRelayRequest { Network = s.Get(network), Allowed = allowed }, s.Call), Format.Peer);
            }),
            State("suspend", "suspended", "Refuse the peer and hold back what is queued for it (operator; at once)"),
            State("revoke", "revoked", "Refuse the peer and drop what was queued for it (operator; at once)"),
            State("resume", "active", "Make a suspended or revoked peer active again (operator)"),
            Cmd("wait", "Wait until everything queued for delivery has reached the peer (or every peer)", [only, timeout], async s =>
            {
                var target = s.Get(only) is { Length: > 0 } fp ? PeeringCode.Id(fp) : null;
                await Delivery.WaitAsync(s, target, TimeSpan.FromSeconds(s.Get(timeout) ?? 60));
                s.Out.Line(target is null ? "Delivered: nothing is waiting for any peer." : "Delivered: nothing is waiting for that peer.");
            }));
    }

    private static Command DeadLetters()
    {
        var peer = Text("--peer", "Only this peer's", "FINGERPRINT");
        return Cmd("deadletters", "Items peers refused for good: parked, not retried (same as `deadletter list`)", [peer], s => ListDeadLettersAsync(s, s.Text(peer)));
    }

    private static async Task ListDeadLettersAsync(Session s, string peer) =>
        s.Out.List((await s.Client.ListDeadLettersAsync(new ListDeadLettersRequest { Peer = peer }, s.Call)).DeadLetters, "No dead letters.",
            new Column<DeadLetterInfo>("Id", d => $"{d.Id}"),
            new Column<DeadLetterInfo>("Parked", d => Format.When(d.ParkedAt)),
            new Column<DeadLetterInfo>("To", d => d.PeerName.Length > 0 ? d.PeerName : Format.Short(d.PeerNodeId)),
            new Column<DeadLetterInfo>("Item", Format.DeadLetterItem),
            new Column<DeadLetterInfo>("Why", d => $"refused ({d.Status}): {d.Error}"));

    private static Command DeadLetterCommands()
    {
        var peer = Text("--peer", "Only this peer's", "FINGERPRINT");
        var id = new Argument<string>("ID") { Description = "One dead letter's id (`solnet deadletters`)", Arity = ArgumentArity.ZeroOrOne };
        var replayPeer = Text("--peer", "Every dead letter of this peer", "FINGERPRINT");
        return Group("deadletter", "Dead letters: items peers refused for good (operator)",
            Cmd("list", "Items peers refused for good (same as `deadletters`)", [peer], s => ListDeadLettersAsync(s, s.Text(peer))),
            Cmd("replay", "Send them again, once the cause is fixed: one by id, or every one of a peer with --peer", [id, replayPeer], async s =>
            {
                var request = (s.Get(id), s.Text(replayPeer)) switch
                {
                    ({ Length: > 0 }, { Length: > 0 }) => throw new UsageException("Give a dead letter's ID or --peer FINGERPRINT, not both."),
                    ({ Length: > 0 } n, _) when long.TryParse(n, out var number) && number > 0 => new ReplayDeadLetterRequest { Id = number },
                    ({ Length: > 0 } n, _) => throw new UsageException($"'{n}' is not a dead letter id; 'solnet deadletters' lists them."),
                    (_, { Length: > 0 } p) => new ReplayDeadLetterRequest { Peer = p },
                    _ => throw new UsageException("Which dead letters? Give an ID (`solnet deadletters` lists them) or --peer FINGERPRINT."),
                };
                s.Out.Print(await s.Client.ReplayDeadLetterAsync(request, s.Call), r => $"Replayed {r.Replayed}: back in the peer's queue.");
            }));
    }
}
