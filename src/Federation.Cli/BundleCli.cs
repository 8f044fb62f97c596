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
        var partSize = Text("--part-size", "At most this much of items in each file, as bytes or with K or M (default and most: 3M, which an e-mail attachment takes after base64); more is split into parts, FILE.part-K-of-N.bundle", "SIZE");
        var sealedTo = Switch("--sealed", "Seal the file to the peer's own sealing key: only it can open it, so participants-only items and every submission go too (what its queue holds, one file of at most 2 MiB of items)");
        var output = Text("--out", "The file to write (with --all: the folder)", "FILE", required: true);
        return Cmd("export", "Write what this node owes a peer to a signed file, split into parts that each fit an e-mail attachment when it is large, to carry by any road (operator). Participants-only items go only in a file sealed to the peer (--sealed)", [peer, all, since, validDays, partSize, sealedTo, output], async s =>
        {
            var path = s.Text(output);
            if (s.Get(all) == (s.Text(peer).Length > 0))
            {
                throw new UsageException("Give --for PEER for one peer, or --all for every peer.");
            }
            var request = new ExportBundleRequest { Since = s.Get(since), ValidDays = s.Get(validDays) ?? 0, PartSize = Size(s.Text(partSize)), SealedToRecipient = s.Get(sealedTo) };
            if (!s.Get(all))
            {
                request.Peer = s.Text(peer);
                var written = await WriteSetAsync(s, request, path);
                var told = string.Join("\n", written.Select(w => Told(w.Bundle, w.File)));
                if (written.Count == 1)
                {
                    s.Out.Print(written[0].Bundle, _ => told);
                }
                else
                {
                    s.Out.Print(new ExportedBundles { Parts = { written.Select(w => w.Bundle) } }, _ => told);
                }
                return;
            }
            Directory.CreateDirectory(path);
            var peers = (await s.Client.ListPeersAsync(new ListPeersRequest(), s.Call)).Peers.Where(p => p.State is "active" or "pending").ToList();
            var files = new List<(ExportedBundle Bundle, string File)>();
            foreach (var p in peers)
            {
                request.Peer = p.NodeId;
                files.AddRange(await WriteSetAsync(s, request, Path.Combine(path, $"{Safe(p.Name)}-{p.NodeId[..8]}.bundle"), skipEmpty: true));
            }
            if (s.Out.Json)
            {
                s.Out.Line($"[{string.Join(",", files.Select(w => Output.ToJson(w.Bundle)))}]");
                return;
            }
            s.Out.Line(files.Count == 0 ? $"No peer is owed anything: no bundle written ({peers.Count} peers looked at)." : string.Join("\n", files.Select(w => Told(w.Bundle, w.File))));
        });
    }

    /// <summary>
    /// Asks the node for the peer's set of parts and writes each as it comes: one part to
    /// <paramref name="path"/>, several to <c>NAME.part-K-of-N.EXT</c> beside it, with a
    /// progress line on standard error for each when there are several.
    /// </summary>
    private static async Task<List<(ExportedBundle Bundle, string File)>> WriteSetAsync(Session s, ExportBundleRequest request, string path, bool skipEmpty = false)
    {
        using var call = s.Client.ExportBundleParts(request, s.Stream(s.Cancel));
        var written = new List<(ExportedBundle, string)>();
        while (await call.ResponseStream.MoveNext(s.Cancel))
        {
            var part = call.ResponseStream.Current;
            if (skipEmpty && part.Items == 0)
            {
                continue;
            }
            var file = part.Parts > 1 ? PartFile(path, part.Part, part.Parts) : path;
            await PrivateFile.WriteAllBytesAsync(file, part.Bundle.ToByteArray(), s.Cancel);
            if (part.Parts > 1)
            {
                Console.Error.WriteLine($"part {part.Part} of {part.Parts}: {part.Items:N0} items written to {file}");
            }
            written.Add((Shown(part), file));
        }
        return written;
    }

    /// <summary>gamma.bundle, part 3 of 7: gamma.part-3-of-7.bundle.</summary>
    public static string PartFile(string path, uint part, uint parts)
    {
        var extension = Path.GetExtension(path);
        var stem = extension.Length > 0 ? path[..^extension.Length] : path;
        return $"{stem}.part-{part}-of-{parts}{(extension.Length > 0 ? extension : ".bundle")}";
    }

    /// <summary>--part-size: bytes, or with K or M (binary: 64K is 65,536 bytes); empty: the node's default.</summary>
    private static uint Size(string text)
    {
        if (text.Length == 0)
        {
            return 0;
        }
        var unit = char.ToUpperInvariant(text[^1]) switch { 'K' => 1024L, 'M' => 1024L * 1024, _ => 1L };
        var digits = unit == 1 ? text : text[..^1];
        return long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n * unit is > 0 and <= uint.MaxValue
            ? (uint)(n * unit)
            : throw new UsageException($"--part-size must be a size in bytes, or with K or M (64K, 3M), not '{text}'.");
    }

    private static Command Import()
    {
        var files = new Argument<string[]>("FILE") { Description = "A bundle, or an acknowledgement a peer made of one of ours; or several parts of a set, in any order", Arity = ArgumentArity.OneOrMore };
        var ackOut = Text("--ack-out", "Where to write the acknowledgement to carry back to the sender (default: FILE.ack; with several files, each FILE.ack)", "FILE");
        return Cmd("import", "Apply a bundle (or the parts of one, in any order) a peer made for this node, with every check a delivery gets, and write the acknowledgement to carry back; or take a peer's acknowledgement (operator)", [files, ackOut], async s =>
        {
            var paths = s.Get(files) ?? [];
            if (paths.Length > 1 && s.Text(ackOut).Length > 0)
            {
                throw new UsageException("--ack-out names one file: with several bundles, each acknowledgement is written beside its bundle (FILE.ack).");
            }
            foreach (var path in paths)
            {
                if (!File.Exists(path))
                {
                    throw new UsageException($"{path} does not exist.");
                }
                if (new FileInfo(path).Length > MaxFileBytes)
                {
                    throw new UsageException($"{path} is larger than a bundle can be ({MaxFileBytes:N0} bytes): it is not a bundle.");
                }
            }
            var answers = new List<ImportedBundle>();
            var told = new List<string>();
            foreach (var path in paths)
            {
                var imported = await s.Client.ImportBundleAsync(new ImportBundleRequest { Bundle = ByteString.CopyFrom(await File.ReadAllBytesAsync(path, s.Cancel)) }, s.Call);
                var ack = s.Text(ackOut) is { Length: > 0 } a ? a : path + ".ack";
                if (!imported.Acknowledgement.IsEmpty)
                {
                    await PrivateFile.WriteAllBytesAsync(ack, imported.Acknowledgement.ToByteArray(), s.Cancel);
                }
                var shown = imported.Clone();
                shown.Acknowledgement = ByteString.Empty;
                answers.Add(shown);
                if (paths.Length > 1 || imported.Parts > 1)
                {
                    Console.Error.WriteLine($"{(imported.Parts > 0 ? $"part {imported.Part} of {imported.Parts}" : path)}: {imported.Applied:N0} items applied, "
                        + $"{imported.Duplicates:N0} already held, {imported.Held:N0} held until a gap is filled, {imported.Refused.Count:N0} refused");
                }
                told.Add(Told(s, shown, imported.Acknowledgement.IsEmpty ? null : ack));
            }
            if (answers.Count == 1)
            {
                s.Out.Print(answers[0], _ => told[0]);
                return;
            }
            s.Out.Print(new ImportedBundles { Parts = { answers } }, _ => string.Join("\n", told) + Missing(answers));
        });
    }

    private static string Told(Session s, ImportedBundle r, string? ack) =>
        $"Bundle {r.BundleId}{(r.Parts > 0 ? $" (part {r.Part} of {r.Parts})" : "")} from {s.Networks.Who(r.CarrierNode)}: {r.Applied} applied, {r.Duplicates} already held, {r.Held} held until a gap is filled, {r.Refused.Count} refused."
        + string.Concat(r.Refused.Select(x => $"\n  item {x.Index}{(x.ObjectId.Length > 0 ? $" ({x.ObjectId} #{x.Sequence})" : "")}: {x.Reason}"))
        + (r.SubmissionsRecorded > 0 ? $"\n{r.SubmissionsRecorded} submissions of that network recorded." : "")
        + (r.CursorMovedPast > 0 ? $"\nIts acknowledgement settled {r.CursorMovedPast} items queued for that peer." : "")
        + (ack is null ? "" : $"\nAcknowledgement written to {ack}: carry it back to the sender, who imports it with `solnet bundle import`.");

    /// <summary>For the parts of sets imported together: which of each set's parts were not among them.</summary>
    private static string Missing(IEnumerable<ImportedBundle> answers) => string.Concat(answers.Where(a => a.Parts > 0).GroupBy(a => a.SetId)
        .Select(set => (Parts: set.First().Parts, Missing: Enumerable.Range(1, (int)set.First().Parts).Except(set.Select(a => (int)a.Part)).ToList()))
        .Where(set => set.Missing.Count > 0)
        .Select(set => $"\nNot among these files, of a set of {set.Parts}: part {string.Join(", ", set.Missing)}; what comes after a part not imported yet is held until it is."));

    /// <summary>The answer without the file's bytes, for --json and --field.</summary>
    private static ExportedBundle Shown(ExportedBundle exported)
    {
        var shown = exported.Clone();
        shown.Bundle = ByteString.Empty;
        return shown;
    }

    private static string Told(ExportedBundle e, string path) =>
        $"Wrote bundle {e.BundleId}{(e.Parts > 1 ? $" (part {e.Part} of {e.Parts})" : "")} to {path}: {e.Items - e.Submissions} events of {e.Objects} objects{(e.Submissions > 0 ? $" and {e.Submissions} submissions" : "")}, valid until {Format.When(e.ExpiresAt)}."
        + (e.Incomplete && e.Parts <= 1 ? " More is owed than it holds: export again after the peer's acknowledgement." : "")
        // What was left out is the same for every part of a set: said once, with the first.
        + (e.LeftOutSubmissions > 0 && e.Part <= 1 ? $" {e.LeftOutSubmissions} submissions (action plans and reports, referrals, report-backs for the issuer only) are not carried; they wait for the road to open." : "")
        + (e.LeftOutParticipantsOnly > 0 && e.Part <= 1 ? $" {e.LeftOutParticipantsOnly} participants-only events are not carried (a bundle is signed, not encrypted; --sealed carries them); they wait for the road to open." : "")
        + (e.SealedToRecipient
            ? "\nIt is sealed to the peer's own key: whoever carries it sees only who it is from and for, and when."
            : "\nWhoever carries it can read its public items and see who it is from and for.");

    private static string Safe(string name) =>
        new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());
}
