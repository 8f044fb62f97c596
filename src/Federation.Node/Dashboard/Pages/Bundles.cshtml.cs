using Federation.Contracts.V1;
using Federation.Domain;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Dashboard.Pages;

/// <summary>
/// Bundles on the operator's pages (issue 18 #3, docs/adr/0023): make one for a peer to carry
/// by any road, import one (or a peer's acknowledgement), and take the acknowledgement back.
/// The same Bundles service as `solnet bundle`, through the same role check and audit.
/// </summary>
public sealed class BundlesModel(DashboardContext context, Delivery.Bundles bundles) : DashboardPage(context)
{
    /// <summary>A file larger than this is not a bundle (3 MiB of items and a header).</summary>
    private const long MaxFileBytes = 4 * 1024 * 1024;

    /// <summary>False for a delegate or organiser: the page then says who can use it, and shows nothing else.</summary>
    public bool Allowed => Can("ExportBundle");

    /// <summary>What the last import did (totals over its files); shown on the page.</summary>
    public ImportedBundle? Imported { get; private set; }

    /// <summary>
    /// Each file of the last import, in the order taken, with what it did: the parts of a
    /// large bundle, chosen together, go one after another, and the page shows how far it got
    /// (and which part a refusal stopped at), with each part's acknowledgement to download.
    /// </summary>
    public IReadOnlyList<(string File, ImportedBundle Result)> ImportedFiles { get; private set; } = [];

    public IReadOnlyList<PeerInfo> Peers { get; private set; } = [];

    protected override void Load() =>
        Peers = Allowed ? Node.Peers.Where(p => p.State is "active" or "pending").ToList() : [];

    /// <summary>The bundle as a download: what the peer is owed (or, with <paramref name="everything"/>, everything shared with it).</summary>
    public IActionResult OnPostExport(string? peer, bool everything, bool sealedToPeer)
    {
        try
        {
            var request = new ExportBundleRequest { Peer = peer ?? "", SealedToRecipient = sealedToPeer };
            if (everything)
            {
                request.Since = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch);
            }
            var exported = Read("ExportBundle", () => bundles.Export(request));
            var name = Node.Peers.FirstOrDefault(p => p.NodeId == peer)?.Name ?? "peer";
            return File(exported.Bundle.ToByteArray(), "application/octet-stream", $"{Safe(name)}-{exported.BundleId[..8]}.bundle");
        }
        catch (Exception ex) when (ex is RuleViolation or RpcException)
        {
            return Refused(ex);
        }
    }

    public async Task<IActionResult> OnPostImportAsync(List<IFormFile> file, CancellationToken ct)
    {
        if (file.Count == 0 || file.Any(f => f.Length == 0 || f.Length > MaxFileBytes))
        {
            Refuse(file.Count == 0 || file.Any(f => f.Length == 0) ? "Choose a bundle file to import." : $"That file is larger than a bundle can be ({MaxFileBytes:N0} bytes): it is not a bundle.");
            Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
            return Show();
        }
        var done = new List<(string, ImportedBundle)>();
        ImportedFiles = done;
        foreach (var f in file)
        {
            try
            {
                using var bytes = new MemoryStream();
                await f.CopyToAsync(bytes, ct);
                var result = await Node.Gate.RunAsync(Caller, "ImportBundle", null,
                    () => bundles.ImportAsync(new ImportBundleRequest { Bundle = ByteString.CopyFrom(bytes.ToArray()) }, ct));
                done.Add((f.FileName, result));
                Imported = Totals(done.Select(d => d.Item2).ToList());
            }
            catch (Exception ex) when (ex is RuleViolation or RpcException)
            {
                var why = ex is RpcException r ? r.Status.Detail : ex.Message;
                Refuse(file.Count == 1 ? why : $"{f.FileName}: {why} ({done.Count} of {file.Count} files imported before it, shown below; the rest were not tried.)");
                Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
                return Show();
            }
        }
        return Show();
    }

    /// <summary>One file's answer as it is, or the sum of several files' counts.</summary>
    private static ImportedBundle Totals(IReadOnlyList<ImportedBundle> results)
    {
        if (results.Count == 1)
        {
            return results[0];
        }
        var total = new ImportedBundle
        {
            BundleId = $"{results.Count} files",
            CarrierNode = results[^1].CarrierNode,
            Applied = (uint)results.Sum(r => r.Applied),
            Duplicates = (uint)results.Sum(r => r.Duplicates),
            Held = (uint)results.Sum(r => r.Held),
            SubmissionsRecorded = (uint)results.Sum(r => r.SubmissionsRecorded),
            CursorMovedPast = (uint)results.Sum(r => r.CursorMovedPast),
        };
        total.Refused.AddRange(results.SelectMany(r => r.Refused));
        return total;
    }

    /// <summary>The acknowledgement the import page showed, as a file: posted back, as the page has no script to save it.</summary>
    public IActionResult OnPostAcknowledgement(string? ack, string? bundle)
    {
        if (!Can("ImportBundle"))
        {
            return Forbid();
        }
        try
        {
            return File(Convert.FromBase64String(ack ?? ""), "application/octet-stream", $"acknowledgement-{Safe(bundle ?? "")}.ack");
        }
        catch (FormatException)
        {
            Refuse("That is not an acknowledgement this page made: import the bundle again to get it.");
            Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
            return Show();
        }
    }

    private IActionResult Refused(Exception ex)
    {
        Refuse(ex is RpcException r ? r.Status.Detail : ex.Message);
        Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
        return Show();
    }

    private static string Safe(string name) =>
        new(name.Take(40).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());
}
