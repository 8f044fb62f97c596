using System.CommandLine;
using Federation.Contracts.V1;
using Google.Protobuf;
using static Federation.Cli.Cli;

namespace Federation.Cli;

/// <summary>
/// <c>solnet bundle export</c> and <c>solnet bundle import</c> (issue 18, docs/adr/0023):
/// what this node owes a peer, as a signed file to carry by any road when the network is
/// cut, and the import of such a file, or of the acknowledgement the peer made of ours.
/// </summary>
public static class BundleCli
{
    /// <summary>A file larger than a bundle can be (3 MiB of items and a header) is not read into memory at all.</summary>
    private const long MaxFileBytes = 4 * 1024 * 1024;

    public static IEnumerable<Command> Commands() => [Group("bundle", "Signed bundles: carry what a peer is owed on a USB stick or by e-mail when the network is cut (operator)", Export(), Import())];

    private static Command Export()
    {
        var peer = Text("--for", "The peer the bundle is for: its fingerprint or its name", "PEER");
        var all = Switch("--all", "One bundle for every peer that is owed something, in the folder --out names");
        var since = When("--since", "Everything this node originated and shares with the peer from this time on, delivered or not (default: what its delivery queue still holds)");
        var validDays = Whole("--valid-days", "How many days the bundle may be imported (default 14)");
        var output = Text("--out", "The file to write (with --all: the folder)", "FILE", required: true);
        return Cmd("export", "Write what this node owes a peer to a signed file, to carry by any road (operator). Participants-only items are not carried yet", [peer, all, since, validDays, output], async s =>
        {
            var path = s.Text(output);
            if (s.Get(all) == (s.Text(peer).Length > 0))
            {
                throw new UsageException("Give --for PEER for one peer, or --all for every peer.");
            }
            var request = new ExportBundleRequest { Since = s.Get(since), ValidDays = s.Get(validDays) ?? 0 };
            if (!s.Get(all))
            {
                request.Peer = s.Text(peer);
                var exported = await s.Client.ExportBundleAsync(request, s.Call);
                await PrivateFile.WriteAllBytesAsync(path, exported.Bundle.ToByteArray(), s.Cancel);
                s.Out.Print(Shown(exported), e => Told(e, path));
                return;
            }
            Directory.CreateDirectory(path);
            var peers = (await s.Client.ListPeersAsync(new ListPeersRequest(), s.Call)).Peers.Where(p => p.State is "active" or "pending").ToList();
            var written = new List<(ExportedBundle Bundle, string File)>();
            foreach (var p in peers)
            {
                request.Peer = p.NodeId;
                var exported = await s.Client.ExportBundleAsync(request, s.Call);
                if (exported.Items == 0)
                {
                    continue;
                }
                var file = Path.Combine(path, $"{Safe(p.Name)}-{p.NodeId[..8]}.bundle");
                await PrivateFile.WriteAllBytesAsync(file, exported.Bundle.ToByteArray(), s.Cancel);
                written.Add((Shown(exported), file));
            }
            if (s.Out.Json)
            {
                s.Out.Line($"[{string.Join(",", written.Select(w => Output.ToJson(w.Bundle)))}]");
                return;
            }
            s.Out.Line(written.Count == 0 ? $"No peer is owed anything: no bundle written ({peers.Count} peers looked at)." : string.Join("\n", written.Select(w => Told(w.Bundle, w.File))));
        });
    }

    private static Command Import()
    {
        var file = Arg("FILE", "A bundle, or an acknowledgement a peer made of one of ours");
        var ackOut = Text("--ack-out", "Where to write the acknowledgement to carry back to the sender (default: FILE.ack)", "FILE");
        return Cmd("import", "Apply a bundle a peer made for this node, with every check a delivery gets, and write the acknowledgement to carry back; or take a peer's acknowledgement (operator)", [file, ackOut], async s =>
        {
            var path = s.Get(file);
            if (!File.Exists(path))
            {
                throw new UsageException($"{path} does not exist.");
            }
            if (new FileInfo(path).Length > MaxFileBytes)
            {
                throw new UsageException($"{path} is larger than a bundle can be ({MaxFileBytes:N0} bytes): it is not a bundle.");
            }
            var imported = await s.Client.ImportBundleAsync(new ImportBundleRequest { Bundle = ByteString.CopyFrom(await File.ReadAllBytesAsync(path, s.Cancel)) }, s.Call);
            var ack = s.Text(ackOut) is { Length: > 0 } a ? a : path + ".ack";
            if (!imported.Acknowledgement.IsEmpty)
            {
                await PrivateFile.WriteAllBytesAsync(ack, imported.Acknowledgement.ToByteArray(), s.Cancel);
            }
            var shown = imported.Clone();
            shown.Acknowledgement = ByteString.Empty;
            s.Out.Print(shown, r =>
                $"Bundle {r.BundleId} from {s.Networks.Who(r.CarrierNode)}: {r.Applied} applied, {r.Duplicates} already held, {r.Held} held until a gap is filled, {r.Refused.Count} refused."
                + string.Concat(r.Refused.Select(x => $"\n  item {x.Index}{(x.ObjectId.Length > 0 ? $" ({x.ObjectId} #{x.Sequence})" : "")}: {x.Reason}"))
                + (r.SubmissionsRecorded > 0 ? $"\n{r.SubmissionsRecorded} submissions of that network recorded." : "")
                + (r.CursorMovedPast > 0 ? $"\nIts acknowledgement settled {r.CursorMovedPast} items queued for that peer." : "")
                + (imported.Acknowledgement.IsEmpty ? "" : $"\nAcknowledgement written to {ack}: carry it back to the sender, who imports it with `solnet bundle import`."));
        });
    }

    /// <summary>The answer without the file's bytes, for --json and --field.</summary>
    private static ExportedBundle Shown(ExportedBundle exported)
    {
        var shown = exported.Clone();
        shown.Bundle = ByteString.Empty;
        return shown;
    }

    private static string Told(ExportedBundle e, string path) =>
        $"Wrote bundle {e.BundleId} to {path}: {e.Items - e.Submissions} events of {e.Objects} objects{(e.Submissions > 0 ? $" and {e.Submissions} submissions" : "")}, valid until {Format.When(e.ExpiresAt)}."
        + (e.Incomplete ? " More is owed than it holds: export again after the peer's acknowledgement." : "")
        + (e.LeftOutSubmissions > 0 ? $" {e.LeftOutSubmissions} submissions (action plans and reports, referrals, report-backs for the issuer only) are not carried; they wait for the road to open." : "")
        + (e.LeftOutParticipantsOnly > 0 ? $" {e.LeftOutParticipantsOnly} participants-only events are not carried (a bundle is signed, not encrypted); they wait for the road to open." : "")
        + "\nWhoever carries it can read its public items and see who it is from and for.";

    private static string Safe(string name) =>
        new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());
}
