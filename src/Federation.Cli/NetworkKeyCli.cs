using System.CommandLine;
using System.Text;
using Federation.Contracts;
using Federation.Contracts.V1;
using Google.Protobuf;
using static Federation.Cli.Cli;

namespace Federation.Cli;

/// <summary>
/// The network key and the node keys it certifies (issue 16, docs/adr/0022). The network key
/// lives on the operator's machine, in a passphrase file (the backup format) and a printed
/// recovery code; it signs certificates and revocations here, and the node only ever sees
/// what it signed. <c>solnet network init</c> is the one step that runs beside the data
/// folder: it moves a key that was born on the server off it.
/// </summary>
public static class NetworkKeyCli
{
    private const int MinimumPassphrase = 12;
    private static readonly byte[] FileMagic = "solnet network key 1\n"u8.ToArray();

    public static IEnumerable<Command> Commands() =>
    [
        Group("network", "The network key, kept off the server: it certifies the node keys that sign for the network (operator)", Init(), Recover(), NewServer(), RecoverObjects()),
        Group("key", "The node key this node signs with: show, rotate, revoke (operator)", Show(), Rotate(), Revoke()),
    ];

    private static Option<string> PassphraseFile() => Text("--passphrase-file",
        "Read the network key file's passphrase from the first line of this file instead of asking for it", "FILE");

    private static Option<string> NetworkKeyFile() => Text("--network-key", "The network key file (made by solnet network init)", "FILE", required: true);

    private static Option<uint?> Days() => Whole("--days", "How many days the node key is certified for (default 365)");

    private static Option<string> Algorithm(string unset) => Text("--algorithm",
        $"What the node key signs with: ed25519 (about three times faster to verify; every peer must run 0.2.0 or later) or ecdsa-p256 (every release verifies it). Default: {unset}", "NAME");

    private static SignatureAlgorithm? AlgorithmOf(string? text) => text is null or "" ? null
        : Signatures.Parse(text) ?? throw new UsageException($"--algorithm {text} is not one this release signs with: give ed25519 or ecdsa-p256.");

    private static TimeSpan Validity(uint? days) => days is { } d ? TimeSpan.FromDays(d) : NetworkSignatures.DefaultValidity;

    private static Command Init()
    {
        var output = Text("--out", "Where to write the network key file (a new file; put it on a USB stick, not on the server)", "FILE", required: true);
        var passphraseFile = PassphraseFile();
        var days = Days();
        var algorithm = Algorithm("the network key's own: ed25519 for a network made by this release, ecdsa-p256 for one made with Node:NetworkKeyAlgorithm ecdsa-p256 or before 0.2.0 (solnet key rotate moves it to ed25519 once every peer can)");
        return Cmd("init", "Move the network key off this server (--data DIR, beside the node): writes it to a passphrase-protected file and prints a recovery code, and leaves the node a key it certifies; then restart the node",
            [output, passphraseFile, days, algorithm], s =>
        {
            var data = s.Get(Global.Data) is { Length: > 0 } d ? d
                : throw new UsageException("Which node? Give its data folder with --data DIR (solnet network init runs beside it).");
            var keyPath = Path.Combine(data, "node.key");
            if (!File.Exists(keyPath))
            {
                throw new UsageException($"{keyPath} does not exist: start the node once to create its key, then run this.");
            }
            var pem = File.ReadAllText(keyPath);
            if (NodeKeyFile.CertificateIn(pem) is not null)
            {
                throw new RefusedException("This node's network key is already off the server (node.key holds a certified node key); nothing was written. To change keys: solnet key rotate.");
            }
            var path = s.Text(output);
            if (File.Exists(path) || Directory.Exists(path))
            {
                throw new UsageException($"{path} already exists: give a new file name.");
            }
            var chosen = AlgorithmOf(s.Text(algorithm));
            var passphrase = ReadNewPassphrase(s.Text(passphraseFile));
            using var network = NetworkKey.FromPem(pem);
            // The network key's own algorithm unless told: a network made P-256 to peer with
            // 0.1.0 nodes stays verifiable by them; one made Ed25519 has no such peer.
            var signing = chosen ?? network.Algorithm;
            BackupCli.WriteNew(path, Seal(network, passphrase));
            // The node's next key, certified here: the node reads it at its next start.
            using var nodeKey = SigningKey.Create(signing);
            var address = File.Exists(Path.Combine(data, "address")) ? File.ReadAllText(Path.Combine(data, "address")).Trim() : "";
            var validity = Validity(s.Get(days));
            var certificate = NetworkSignatures.Certify(network, nodeKey.PublicKey, DateTimeOffset.UtcNow, validity, serial: 1, address);
            var tmp = keyPath + ".tmp";
            PrivateFile.WriteAllText(tmp, NodeKeyFile.Text(nodeKey, certificate));
            // One rename: a crash leaves the old key or the new one, never half of either.
            File.Move(tmp, keyPath, overwrite: true);
            s.Out.Line($"""
                The network key of {Fingerprint(network.NetworkId)} ({Signatures.Name(network.Algorithm)}) is in {path}, under your passphrase.
                The data folder now holds only a node key it certifies ({Signatures.Name(signing)}), until {DateTimeOffset.UtcNow + validity:yyyy-MM-dd}.
                Restart the node: until then it signs with the network key it read at its start.

                Recovery code (write it on paper and keep it apart from the file; with it alone,
                `solnet network recover` makes the file again):

                    {network.RecoveryCode()}

                Move {path} off this server now, and delete any copy of it here. Whoever holds the
                file and its passphrase, or the code, speaks for the network.
                """);
            return Task.CompletedTask;
        });
    }

    private static Command Recover()
    {
        var output = Text("--out", "Where to write the network key file (a new file)", "FILE", required: true);
        var codeFile = Text("--code-file", "Read the recovery code from the first line of this file instead of asking for it", "FILE");
        var passphraseFile = PassphraseFile();
        return Cmd("recover", "Make the network key file again from its recovery code, under a new passphrase", [output, codeFile, passphraseFile], s =>
        {
            var path = s.Text(output);
            if (File.Exists(path) || Directory.Exists(path))
            {
                throw new UsageException($"{path} already exists: give a new file name.");
            }
            var code = s.Text(codeFile) is { Length: > 0 } f
                ? (File.Exists(f) ? File.ReadLines(f).FirstOrDefault() ?? "" : throw new UsageException($"The file {f} does not exist."))
                : Passphrase.Ask("Recovery code: ");
            NetworkKey network;
            try
            {
                network = NetworkKey.FromRecoveryCode(code);
            }
            catch (FormatException e)
            {
                throw new RefusedException(e.Message + " Nothing was written.");
            }
            using (network)
            {
                BackupCli.WriteNew(path, Seal(network, ReadNewPassphrase(s.Text(passphraseFile))));
                s.Out.Line($"The network key of {Fingerprint(network.NetworkId)} is in {path} again.");
            }
            return Task.CompletedTask;
        });
    }

    private static Command NewServer()
    {
        var networkKey = NetworkKeyFile();
        var passphraseFile = PassphraseFile();
        var days = Days();
        var algorithm = Algorithm("the network key's own");
        return Cmd("new-server", "Stand the network up on a new server with no backup (--data DIR, a new folder): writes a node key the network key certifies; start the node on it, add its peers, then solnet network recover-objects",
            [networkKey, passphraseFile, days, algorithm], s =>
        {
            var data = s.Get(Global.Data) is { Length: > 0 } d ? d
                : throw new UsageException("Which data folder? Give the new server's with --data DIR (solnet network new-server runs beside it, before the node's first start).");
            var keyPath = Path.Combine(data, "node.key");
            if (File.Exists(keyPath) || File.Exists(Path.Combine(data, "node.db")))
            {
                throw new RefusedException($"{data} already holds a node: a new server starts from an empty folder (from a backup, use solnet restore). Nothing was written.");
            }
            var chosen = AlgorithmOf(s.Text(algorithm));
            using var network = Open(s.Text(networkKey), s.Text(passphraseFile));
            var signing = chosen ?? network.Algorithm;
            Directory.CreateDirectory(data);
            using var nodeKey = SigningKey.Create(signing);
            var validity = Validity(s.Get(days));
            // The serials the lost server reached are unknown here; a time in seconds is past
            // any count a network reaches by rotating, so this key takes precedence.
            var serial = (ulong)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var certificate = NetworkSignatures.Certify(network, nodeKey.PublicKey, DateTimeOffset.UtcNow, validity, serial, address: "");
            var tmp = keyPath + ".tmp";
            PrivateFile.WriteAllText(tmp, NodeKeyFile.Text(nodeKey, certificate));
            File.Move(tmp, keyPath);
            s.Out.Line($"""
                {data} holds a new node key of {Fingerprint(network.NetworkId)} ({Signatures.Name(signing)}), certified until {DateTimeOffset.UtcNow + validity:yyyy-MM-dd}.
                Start the node on it, add each peer again (solnet peer add ADDRESS FINGERPRINT: they
                know the network and follow it to this address), revoke the lost server's key if it
                may have been taken (solnet key revoke), then: solnet network recover-objects
                """);
            return Task.CompletedTask;
        });
    }

    private static Command RecoverObjects() => Cmd("recover-objects",
        "Fetch what this network originated from the copies its peers hold, each event checked against the network's keys: after a new server, or a backup older than the loss (operator)",
        [], async s => s.Out.Print(await s.Client.RecoverFromPeersAsync(new RecoverFromPeersRequest(), s.Call), r =>
            $"Asked {r.PeersAsked} peers: {r.ObjectsRecovered} objects recovered ({r.EventsRecovered} events)."
            + string.Concat(r.Problems.Select(p => "\n  not recovered: " + p))));

    private static Command Show() => Cmd("show", "The key this node signs with, whether its network key is off the server, and the keys revoked", [], async s =>
        s.Out.Print(await s.Client.GetNodeKeysAsync(new GetNodeKeysRequest(), s.Call), Describe));

    private static Command Rotate()
    {
        var networkKey = NetworkKeyFile();
        var passphraseFile = PassphraseFile();
        var days = Days();
        var algorithm = Algorithm("ed25519 when every peer can verify it, else ecdsa-p256 (the node chooses and says why)");
        return Cmd("rotate", "Give the node a new key, certified here by the network key; in use at once and announced to every peer (operator)",
            [networkKey, passphraseFile, days, algorithm], async s =>
        {
            var signing = AlgorithmOf(s.Text(algorithm)) ?? SignatureAlgorithm.Unspecified;
            using var network = Open(s.Text(networkKey), s.Text(passphraseFile));
            var prepared = await s.Client.PrepareNodeKeyAsync(new PrepareNodeKeyRequest { Algorithm = signing }, s.Call);
            RequireSameNetwork(network, prepared);
            var certificate = NetworkSignatures.Certify(network, prepared.NextPublicKey.ToByteArray(), DateTimeOffset.UtcNow,
                Validity(s.Get(days)), prepared.Serial + 1, s.Info.Address);
            var installed = await s.Client.InstallNodeKeyAsync(new InstallNodeKeyRequest { Certificate = certificate }, s.Call);
            s.Out.Print(installed, r => $"The node signs with a new key now ({Signatures.Name(prepared.NextKeyAlgorithm)}: {prepared.NextKeyNote}).\n{Describe(r)}\n"
                + (prepared.Certified ? $"If the old key {Short(prepared.KeyId)} may have been taken: solnet key revoke {prepared.KeyId} --compromised-since TIME --network-key FILE" : ""));
        });
    }

    private static Command Revoke()
    {
        var key = Arg("KEY", "The node key to revoke (its id, as solnet key show prints it)");
        var since = When("--compromised-since", "From when the key may have been in other hands: what it signed from then on is refused everywhere");
        since.Required = true;
        var networkKey = NetworkKeyFile();
        var passphraseFile = PassphraseFile();
        return Cmd("revoke", "Declare a node key compromised since a time, signed by the network key; every peer refuses what it signed from then on (operator)",
            [key, since, networkKey, passphraseFile], async s =>
        {
            var keyId = s.Get(key).Replace("-", "", StringComparison.Ordinal).Trim().ToLowerInvariant();
            if (keyId.Length != 32 || !keyId.All(Uri.IsHexDigit))
            {
                throw new UsageException($"'{s.Get(key)}' is not a key id: expected 32 hex digits, as solnet key show prints them.");
            }
            var when = s.Get(since)!.ToDateTimeOffset();
            using var network = Open(s.Text(networkKey), s.Text(passphraseFile));
            var status = await s.Client.GetNodeKeysAsync(new GetNodeKeysRequest(), s.Call);
            RequireSameNetwork(network, status);
            var revocation = NetworkSignatures.Revoke(network, keyId, when, DateTimeOffset.UtcNow);
            var revoked = await s.Client.RevokeNodeKeyAsync(new RevokeNodeKeyRequest { Revocation = revocation }, s.Call);
            s.Out.Print(revoked, r => $"Node key {Short(keyId)} is revoked from {when:u}; peers are told now, and one that is away hears it at its next exchange.\n{Describe(r)}");
        });
    }

    private static string Describe(NodeKeysStatus k)
    {
        var text = new StringBuilder();
        text.AppendLine($"network:     {Fingerprint(k.NetworkId)}");
        text.Append(k.Certified
            ? $"network key: kept off the server\nnode key:    {k.KeyId} ({Signatures.Name(k.KeyAlgorithm)}, serial {k.Serial}, certified until {Format.When(k.NotAfter, "yyyy-MM-dd")})"
            : $"network key: ON THE SERVER, signing itself ({Signatures.Name(k.KeyAlgorithm)}); move it off: solnet network init");
        if (k.Renewal.Length > 0)
        {
            text.Append($"\nRENEW:       {k.Renewal}");
        }
        foreach (var r in k.Revoked)
        {
            text.Append($"\nrevoked:     {r.KeyId} from {Format.When(r.CompromisedSince)}");
        }
        foreach (var q in k.Quarantined)
        {
            text.Append($"\nquarantined: event {q.Sequence} of {q.ObjectId}, {q.Reason}");
        }
        return text.ToString();
    }

    private static void RequireSameNetwork(NetworkKey network, NodeKeysStatus node)
    {
        if (network.NetworkId != node.NetworkId)
        {
            throw new RefusedException($"That network key is {Fingerprint(network.NetworkId)}'s, and the node speaks for {Fingerprint(node.NetworkId)}: nothing was changed.");
        }
    }

    /// <summary>The network key from its file; refuses, changing nothing, a wrong passphrase or a file of another kind.</summary>
    internal static NetworkKey Open(string path, string passphraseFile, string prompt = "Passphrase: ")
    {
        if (!File.Exists(path))
        {
            throw new UsageException($"The network key file {path} does not exist.");
        }
        var clear = BackupFile.Decrypt(File.ReadAllBytes(path), Passphrase.Read(passphraseFile, confirm: false, prompt), path, "nothing was changed");
        try
        {
            if (!clear.AsSpan().StartsWith(FileMagic))
            {
                throw new RefusedException($"{path} is not a network key file (it may be a backup); nothing was changed.");
            }
            return NetworkKey.FromPkcs8(clear.AsSpan(FileMagic.Length));
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(clear);
        }
    }

    private static byte[] Seal(NetworkKey network, string passphrase)
    {
        var pkcs8 = network.ExportPkcs8();
        byte[] clear = [.. FileMagic, .. pkcs8];
        try
        {
            return BackupFile.Encrypt(clear, passphrase);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(pkcs8);
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(clear);
        }
    }

    private static string ReadNewPassphrase(string file)
    {
        var passphrase = Passphrase.Read(file, confirm: true);
        return passphrase.Length >= MinimumPassphrase ? passphrase
            : throw new UsageException($"The passphrase has {passphrase.Length} characters; use at least {MinimumPassphrase} (a few words): the file speaks for the whole network.");
    }

    private static string Fingerprint(string id) => NetworkKey.FingerprintOf(id);

    private static string Short(string id) => Format.Short(id);
}
