using Federation.Contracts.V1;
using System.Text;

namespace Federation.Cli;

/// <summary>Plain-text renderings for people; --json gives the full messages for scripts.</summary>
public static class Format
{
    public static string Node(NodeInfo n) => $"{n.Name}\n  address:     {n.Address}\n  fingerprint: {n.Fingerprint}";

    public static string Peer(PeerInfo p)
    {
        var now = DateTimeOffset.UtcNow;
        var s = new StringBuilder($"{p.Name,-16} {p.Fingerprint}  {p.Address}  ");
        s.Append(p.Health switch
        {
            PeerHealth.Failing => $"FAILING since {p.FailingSince.ToDateTimeOffset():u} ({Age(now - p.FailingSince.ToDateTimeOffset())})",
            PeerHealth.Unavailable => $"UNAVAILABLE: failing since {p.FailingSince.ToDateTimeOffset():u} ({Age(now - p.FailingSince.ToDateTimeOffset())})",
            _ => "healthy",
        });
        s.Append($", {p.Pending} pending");
        if (p.OldestPendingAt is not null)
        {
            s.Append($" (oldest {Age(now - p.OldestPendingAt.ToDateTimeOffset())})");
        }
        if (p.NextAttemptAt is not null)
        {
            var wait = p.NextAttemptAt.ToDateTimeOffset() - now;
            s.Append(wait > TimeSpan.Zero ? $", next attempt in {Age(wait)}" : ", retrying now");
        }
        if (p.CircuitOpen)
        {
            s.Append(", circuit open");
        }
        if (p.DeadLetters > 0)
        {
            s.Append($", {p.DeadLetters} dead letter{(p.DeadLetters == 1 ? "" : "s")}");
        }
        if (p.LastError.Length > 0)
        {
            s.Append($"\n{"",-17}last error: {p.LastError}");
        }
        return s.ToString();
    }

    public static string DeadLetter(DeadLetterInfo d) =>
        $"{d.Id,-6} {d.ParkedAt.ToDateTimeOffset():u}  to {(d.PeerName.Length > 0 ? d.PeerName : Short(d.PeerNodeId))}  {d.Kind} {d.ObjectId}"
        + (d.Kind == "event" ? $" #{d.Sequence}" : "") + $"\n       refused ({d.Status}): {d.Error}";

    /// <summary>A duration as people say it: 45s, 12m, 3h 5m, 2d 4h.</summary>
    public static string Age(TimeSpan t) => t switch
    {
        { TotalSeconds: < 60 } => $"{Math.Max(0, (int)t.TotalSeconds)}s",
        { TotalMinutes: < 60 } => $"{(int)t.TotalMinutes}m",
        { TotalHours: < 24 } => $"{(int)t.TotalHours}h {t.Minutes}m",
        _ => $"{(int)t.TotalDays}d {t.Hours}h",
    };

    public static string Receipt(SubmissionReceipt r) =>
        $"Sent to the origin ({Short(r.OriginNode)}) as submission {r.SubmissionId}; it records it and shares the result.";

    public static string CallOutLine(CallOutState c) =>
        $"{c.Id}  {(c.Cancelled ? "cancelled" : c.Closed ? "closed" : "open"),-9} {c.Content.Title} — {c.Content.Target.Name} ({c.Responses.Count} responses)";

    public static string CallOut(CallOutState c)
    {
        var s = new StringBuilder();
        s.AppendLine($"Call-out {c.Id}");
        s.AppendLine($"  {c.Content.Title} — target {c.Content.Target.Name}{(c.Content.Target.ParentCompany.Length > 0 ? $" ({c.Content.Target.ParentCompany})" : "")}");
        s.AppendLine($"  state:   {(c.Cancelled ? "cancelled" : c.Closed ? "closed" : "open")}");
        s.AppendLine($"  from:    {Short(c.OriginNode)}");
        s.AppendLine($"  demand:  {c.Content.DemandSummary}");
        foreach (var p in c.Content.Places)
        {
            s.AppendLine($"  place:   {p.City} {p.Address}");
        }
        if (c.Content.WindowStart is not null)
        {
            s.AppendLine($"  window:  {c.Content.WindowStart.ToDateTimeOffset():u} – {c.Content.WindowEnd?.ToDateTimeOffset().ToString("u") ?? "?"} {c.Content.TimeZone}");
        }
        s.AppendLine($"  responses ({c.Responses.Count}):");
        foreach (var r in c.Responses)
        {
            s.AppendLine($"    {Short(r.Network)}  {Response(r.Latest)}");
        }
        return s.ToString().TrimEnd();
    }

    private static string Response(CallOutResponse r) => r.Kind switch
    {
        ResponseKind.Pledge => $"pledged: {r.PlannedDate} {r.Place}".TrimEnd(),
        ResponseKind.Decline => $"declined{(r.Reason.Length > 0 ? $": {r.Reason}" : "")}",
        ResponseKind.Unable => $"unable after all{(r.Reason.Length > 0 ? $": {r.Reason}" : "")}",
        ResponseKind.ReportBack => $"reported back: {r.Report} (turnout {r.Turnout})",
        _ => r.Kind.ToString(),
    };

    public static string FightLine(FightState f) => $"{f.Id}  {Status(f.Status),-10} {f.Title} — {f.Target.Name}";

    public static string Fight(FightState f)
    {
        var s = new StringBuilder();
        s.AppendLine($"Fight {f.Id}");
        s.AppendLine($"  {f.Title} — target {f.Target.Name}");
        s.AppendLine($"  status:     {Status(f.Status)}");
        s.AppendLine($"  initiator:  {Short(f.OriginNode)}");
        s.AppendLine($"  terms hash: {(f.TermsHash.Length > 0 ? f.TermsHash : "(draft: not frozen yet)")}");
        foreach (var d in f.Terms.Demands)
        {
            s.AppendLine($"  demand:     {d}");
        }
        s.AppendLine($"  strategy:   {f.Terms.Strategy}");
        s.AppendLine($"  ends when:  {f.Terms.EndConditions}");
        foreach (var p in f.Participants)
        {
            s.AppendLine($"  network {Short(p.Network)}: {p.State.ToString().ToLowerInvariant()}{(p.Reason.Length > 0 ? $" ({p.Reason})" : "")}");
        }
        foreach (var h in f.History)
        {
            s.AppendLine($"  {h.At.ToDateTimeOffset():u}  {Status(h.From)} → {Status(h.To)}{(h.Note.Length > 0 ? $": {h.Note}" : "")}");
        }
        return s.ToString().TrimEnd();
    }

    private static string Status(FightStatus s) => s == FightStatus.CalledOff ? "called off" : s.ToString().ToLowerInvariant();

    private static string Short(string nodeId) => nodeId.Length >= 8 ? string.Join('-', nodeId[..8].Chunk(4).Select(c => new string(c))) : nodeId;
}
