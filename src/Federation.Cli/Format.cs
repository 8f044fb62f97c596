using System.Text;
using Federation.Contracts.V1;

namespace Federation.Cli;

/// <summary>Plain-text renderings for people; --json gives the full messages for scripts.</summary>
public static class Format
{
    public static string Node(NodeInfo n) =>
        $"{n.Name}\n  address:     {n.Address}\n  fingerprint: {n.Fingerprint}{(n.Region.Length > 0 ? $"\n  region:      {n.Region}" : "")}"
        + $"\n  version:     {(n.SoftwareVersion.Length > 0 ? n.SoftwareVersion : "before 0.1.0")}"
        + (n.TimeZone.Length > 0 ? $"\n  time zone:   {n.TimeZone}" : "")
        + $"\n  storage:     {Contracts.StorageStateText.Describe(n.Storage)}"
        + (n.Fediverse is { } f
            ? $"\n  fediverse:   {f.Account}, {f.Followers} following, {f.PublicCallOuts} public call-outs"
              + $"\n               {f.PendingDeliveries} to deliver, {f.DeadLetters} given up"
            : "");

    /// <summary>"up", or "DOWN since … (40s): why", for `solnet status`.</summary>
    public static string Dependency(DependencyHealth d, DateTimeOffset now) =>
        $"  {d.Name + ":",-12} "
        + (d.Up ? "up" : $"DOWN since {When(d.Since)} ({Age(now - d.Since.ToDateTimeOffset())}): {d.Reason}");

    /// <summary>
    /// The zone times are shown in: the node's Node:TimeZone (issue 17, item 5). A function,
    /// set by the session, so the node is asked only when a time is shown to a person; one
    /// command runs per process, so one setting serves it.
    /// </summary>
    public static Func<TimeZoneInfo> Zone { get; set; } = () => TimeZoneInfo.Utc;

    /// <summary>
    /// A stored time, as the clocks of the node's zone read it and naming the zone (in UTC
    /// exactly as before: "2026-12-05 10:00:00Z"); a bad value prints as "(invalid date)"
    /// so one record cannot break a listing.
    /// </summary>
    public static string When(Google.Protobuf.WellKnownTypes.Timestamp? t, string format = "u")
    {
        if (t is null)
        {
            return "";
        }
        if (t.Seconds is not (>= -62_135_596_800 and <= 253_402_300_799) || t.Nanos is not (>= 0 and <= 999_999_999))
        {
            return "(invalid date)";
        }
        var at = t.ToDateTimeOffset();
        var zone = Zone();
        if (zone.BaseUtcOffset == TimeSpan.Zero && !zone.SupportsDaylightSavingTime)
        {
            return at.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
        }
        // "u" and "…'Z'" say UTC; a local time names its zone instead.
        var local = format == "u" ? "yyyy-MM-dd HH:mm:ss" : format.Replace("'Z'", "");
        return $"{TimeZoneInfo.ConvertTime(at, zone).ToString(local, System.Globalization.CultureInfo.InvariantCulture)} {zone.Id}";
    }

    /// <summary>A peer's health in a few words, for a table cell.</summary>
    public static string Health(PeerInfo p)
    {
        var now = DateTimeOffset.UtcNow;
        return p.Health switch
        {
            PeerHealth.Failing => $"FAILING since {When(p.FailingSince)} ({Age(now - p.FailingSince.ToDateTimeOffset())})",
            PeerHealth.Unavailable => $"UNAVAILABLE: failing since {When(p.FailingSince)} ({Age(now - p.FailingSince.ToDateTimeOffset())})",
            _ => "healthy",
        } + (p.CircuitOpen ? ", circuit open" : "");
    }

    /// <summary>How far behind a peer is: items pending, the oldest's age, when delivery is tried next.</summary>
    public static string Backlog(PeerInfo p)
    {
        var now = DateTimeOffset.UtcNow;
        var s = new StringBuilder($"{p.Pending} pending");
        if (p.OldestPendingAt is not null)
        {
            s.Append($" (oldest {Age(now - p.OldestPendingAt.ToDateTimeOffset())})");
        }
        if (p.NextAttemptAt is not null)
        {
            var wait = p.NextAttemptAt.ToDateTimeOffset() - now;
            s.Append(wait > TimeSpan.Zero ? $", next attempt in {Age(wait)}" : ", retrying now");
        }
        return s.ToString();
    }

    /// <summary>Items set aside until the peer upgrades (they go by themselves once it has).</summary>
    public static string Waiting(PeerInfo p) => p.Waiting == 0 ? "" : $"{p.Waiting} waiting for it to upgrade";

    /// <summary>
    /// Why nothing this node signs reaches a peer of a release before 0.2.0 (docs/adr/0029):
    /// it verifies ECDSA P-256 only, and this node signs with Ed25519.
    /// </summary>
    public static string CannotVerifyEd25519(string peer) =>
        $"{peer} runs a release before 0.2.0, which cannot verify Ed25519, and this node signs with Ed25519: everything for {peer} waits "
        + $"(solnet peer show {peer} counts it, waiting for it to upgrade) and goes once its operator upgrades it to 0.2.0 or later. "
        + "Nothing is lost meanwhile. Only a network made with an ECDSA P-256 key (Node:NetworkKeyAlgorithm ecdsa-p256, before its first start) can peer with such a release.";

    public static string Peer(PeerInfo p)
    {
        var s = new StringBuilder($"{p.Name,-16} {p.Fingerprint}  {p.Address}  {(p.Region.Length > 0 ? $"{p.Region}, " : "")}{p.State}, {Health(p)}, {Backlog(p)}");
        if (p.DeadLetters > 0)
        {
            s.Append($", {p.DeadLetters} dead letter{(p.DeadLetters == 1 ? "" : "s")}");
        }
        if (p.Waiting > 0)
        {
            s.Append($", {Waiting(p)}");
        }
        if (Relay(p) is { Length: > 0 } relay)
        {
            s.Append($"\n{"",-17}relay: {relay}");
        }
        if (p.LastError.Length > 0)
        {
            s.Append($"\n{"",-17}last error: {p.LastError}");
        }
        return s.ToString();
    }

    /// <summary>How relaying stands with a peer (docs/adr/0027): reached through a relay, and whether it may relay for this node.</summary>
    public static string Relay(PeerInfo p)
    {
        var parts = new List<string>();
        if (p.RelayedVia.Length > 0)
        {
            parts.Add($"REACHED BY RELAY via {Short(p.RelayedVia)} (last parcel {When(p.RelayedAt)})");
        }
        if (p.RelayAllowed)
        {
            parts.Add("may relay for this node");
        }
        return string.Join("; ", parts);
    }

    /// <summary>What a dead letter carried, by the title people know (the id only when this node holds no title; --json has both).</summary>
    public static string DeadLetterItem(DeadLetterInfo d) =>
        $"{d.Kind}{(d.Kind == "event" ? $" #{d.Sequence}" : "")} of {(d.Title.Length > 0 ? $"\"{d.Title}\"" : d.ObjectId)}";

    /// <summary>A duration as people say it: 45s, 12m, 3h 5m, 2d 4h.</summary>
    public static string Age(TimeSpan t) => t switch
    {
        { TotalSeconds: < 60 } => $"{Math.Max(0, (int)t.TotalSeconds)}s",
        { TotalMinutes: < 60 } => $"{(int)t.TotalMinutes}m",
        { TotalHours: < 24 } => $"{(int)t.TotalHours}h {t.Minutes}m",
        _ => $"{(int)t.TotalDays}d {t.Hours}h",
    };

    public static string Receipt(SubmissionReceipt r) =>
        (r.Recorded ? "Recorded." : $"Sent to the origin ({Short(r.OriginNode)}) as submission {r.SubmissionId}; it records it and shares the result.")
        + (r.ActionId.Length > 0 ? $"\nAction id: {r.ActionId}" : "");

    public static string Briefings(BriefingsState b) =>
        b.Purged ? "Purged: this node no longer holds these briefings."
        : b.Briefings.Count == 0 ? "No briefings."
        : string.Join("\n", b.Briefings.Select(x => $"{When(x.At)}  {x.Text}"));

    public static string Local(LocalDetails d) =>
        $"Affected person: {d.AffectedPerson}\nContact: {d.Contact}\nNotes: {d.Notes}\n(Local: kept on this node only, never sent to any other.)";

    public static string Balance(Balance b)
    {
        static string Counts(IEnumerable<OutcomeCount> c) => c.Any() ? string.Join(", ", c.Select(x => $"{Status(x.Status)} {x.Count}")) : "none";
        return $"""
            Fights we initiated: {Counts(b.FightsInitiated)}
            Fights we joined:    {Counts(b.FightsJoined)}
            Call-outs answered:  {(b.CallOutsAnswered.Count > 0 ? string.Join(", ", b.CallOutsAnswered.Select(x => $"{x.Kind.ToString().ToLowerInvariant()} {x.Count}")) : "none")}
            Actions reported:    {b.ActionsReported}
            (For your network's own reflection: this is never shared and never a score.)
            """;
    }

    public static string State(CallOutState c) => c.Cancelled ? "cancelled" : c.Expired ? "expired" : c.Closed ? "closed" : "open";

    /// <summary>One call-out in full; <paramref name="names"/> says which network is which.</summary>
    public static string CallOut(CallOutState c, Networks names)
    {
        var s = new StringBuilder();
        s.AppendLine($"Call-out {c.Id}");
        s.AppendLine($"  {c.Content.Title} — target {c.Content.Target.Name}{(c.Content.Target.ParentCompany.Length > 0 ? $" ({c.Content.Target.ParentCompany})" : "")}");
        s.AppendLine($"  state:   {State(c)}{(c.CloseReason.Length > 0 ? $" ({c.CloseReason})" : "")}");
        s.AppendLine($"  from:    {names.Who(c.OriginNode)}");
        s.AppendLine($"  to:      {Audience(c)}");
        if (c.FediversePublic)
        {
            s.AppendLine("  public:  posted to this node's fediverse followers (title, target, demand, places, window, actions)");
        }
        s.AppendLine($"  demand:  {c.Content.DemandSummary}");
        foreach (var p in c.Content.Places)
        {
            s.AppendLine($"  place:   {p.City} {p.Address}");
        }
        if (c.Content.ActionTypes.Count > 0)
        {
            s.AppendLine($"  actions: {string.Join(", ", c.Content.ActionTypes.Select(Action))}");
        }
        if (c.Content.WindowStart is not null)
        {
            s.AppendLine($"  window:  {When(c.Content.WindowStart)} – {(c.Content.WindowEnd is null ? "?" : When(c.Content.WindowEnd))} {c.Content.TimeZone}");
        }
        if (c.Content.ExpiresAt is not null)
        {
            s.AppendLine($"  expires: {When(c.Content.ExpiresAt)}");
        }
        if (c.Content.FightId.Length > 0)
        {
            s.AppendLine($"  fight:   {c.Content.FightId}");
        }
        if (c.Content.TalkingPoints.Length > 0)
        {
            s.AppendLine($"  talking points: {c.Content.TalkingPoints}");
        }
        if (c.Content.SafetyNotes.Length > 0)
        {
            s.AppendLine($"  safety and legal notes: {c.Content.SafetyNotes}");
        }
        foreach (var r in c.Revisions)
        {
            s.AppendLine($"  updated {When(r.At)}: {string.Join(", ", r.ChangedFields)}");
        }
        s.AppendLine($"  responses ({c.Responses.Count}):");
        foreach (var r in c.Responses)
        {
            s.AppendLine($"    {names.Who(r.Network)}  {Response(r.Latest)}");
        }
        return s.ToString().TrimEnd();
    }

    private static string Response(CallOutResponse r) => r.Kind switch
    {
        ResponseKind.Pledge => $"pledged: {Planned(r.PlannedDate)} {r.Place}".TrimEnd(),
        ResponseKind.Decline => $"declined{(r.Reason.Length > 0 ? $": {r.Reason}" : "")}",
        ResponseKind.Unable => $"unable after all{(r.Reason.Length > 0 ? $": {r.Reason}" : "")}",
        ResponseKind.ReportBack when r.Withheld => "reported back (to the issuer only)",
        ResponseKind.ReportBack => $"reported back: {r.Report} (turnout {r.Turnout})"
            + (r.TargetResponse.Length > 0 ? $"; target: {r.TargetResponse}" : "")
            + (r.Incidents.Length > 0 ? $"; incidents: {r.Incidents}" : ""),
        _ => r.Kind.ToString(),
    };

    /// <summary>A pledge's planned time: a UTC time ("2026-12-05T17:00Z", what the dashboard's picker sends) in the node's zone; free text as typed.</summary>
    private static string Planned(string planned) =>
        planned.EndsWith('Z') && DateTimeOffset.TryParse(planned, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
            ? When(Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(at), "yyyy-MM-dd HH:mm'Z'") : planned;

    private static string Audience(CallOutState c) => c.Audience?.Kind switch
    {
        AudienceKind.Regions => $"peers in {string.Join(", ", c.Audience.Regions)} ({Networks(RecipientCount(c))})",
        AudienceKind.ChosenPeers => $"chosen peers ({Networks(RecipientCount(c))})",
        _ => $"all peers ({Networks(RecipientCount(c))})",
    };

    private static string Networks(int n) => n == 1 ? "1 network" : $"{n} networks";

    // A recipient of a call-out published to a digest of its audience holds only the count (docs/adr/0030).
    private static int RecipientCount(CallOutState c) => c.RecipientCount > 0 ? (int)c.RecipientCount : c.Recipients.Count;

    private static string Action(ActionType a) => a switch
    {
        ActionType.Picket => "picket",
        ActionType.PhoneEmailBlockade => "phone/e-mail blockade",
        ActionType.Leafleting => "leafleting",
        ActionType.NoiseDemo => "noise demo",
        ActionType.CallInDay => "call-in day",
        ActionType.Online => "online",
        _ => a.ToString(),
    };

    /// <summary>One line per change; a fight's notice adds what answers it, where to open it, and a briefing's text.</summary>
    public static string Item(InboxItem i)
    {
        if (i.FightId.Length == 0)
        {
            return $"[{i.Cursor}] {When(i.At)}  {i.Summary}  ({i.CallOutId})";
        }
        var s = new StringBuilder($"[{i.Cursor}] {When(i.At)}  {i.Summary}  ({i.FightId})");
        if (i.Detail.Length > 0)
        {
            s.Append($"\n    {(i.Change == InboxChange.BriefingPosted ? "Briefing" : "Detail")}: {i.Detail.ReplaceLineEndings(" ")}");
        }
        s.Append($"\n    Answer: {i.Act}");
        if (i.Link.Length > 0)
        {
            s.Append($"\n    Open: {i.Link}");
        }
        return s.ToString();
    }

    /// <summary>Something that waits for this network's answer (issue 17 #2): what, and the command that answers it.</summary>
    public static string Waiting(InboxItem i)
    {
        var s = new StringBuilder($"{i.Summary}  ({(i.FightId.Length > 0 ? i.FightId : i.CallOutId)})");
        s.Append($"\n    Answer: {i.Act}");
        if (i.Link.Length > 0)
        {
            s.Append($"\n    Open: {i.Link}");
        }
        return s.ToString();
    }

    public static string Channel(NotificationChannel c) =>
        $"{c.Id}  {c.Kind,-7} {c.Target}{(c.Kinds.Count > 0 ? $"  only: {string.Join(",", c.Kinds)}" : "")}{(c.Active ? "" : "  (removed)")}";

    /// <summary>One fight in full; <paramref name="names"/> says which network is which.</summary>
    public static string Fight(FightState f, Networks names)
    {
        var s = new StringBuilder();
        s.AppendLine($"Fight {f.Id}");
        s.AppendLine($"  {f.Title} — target {f.Target.Name}");
        s.AppendLine($"  status:     {Status(f.Status)}");
        s.AppendLine($"  initiator:  {names.Who(f.OriginNode)}");
        s.AppendLine($"  terms hash: {(f.TermsHash.Length > 0 ? f.TermsHash : "(draft: not frozen yet)")}");
        foreach (var d in f.Terms.Demands)
        {
            s.AppendLine($"  demand:     {d}");
        }
        s.AppendLine($"  strategy:   {f.Terms.Strategy}");
        // Facts and materials are part of the terms a network accepts, so they are shown with them.
        if (f.Terms.Facts.Length > 0)
        {
            s.AppendLine($"  facts:      {f.Terms.Facts}");
        }
        s.AppendLine($"  ends when:  {f.Terms.EndConditions}");
        if (f.Terms.Materials.Length > 0)
        {
            s.AppendLine($"  materials:  {f.Terms.Materials}");
        }
        if (f.DemandDeliveredAt is not null)
        {
            s.AppendLine($"  demand delivered {When(f.DemandDeliveredAt)}{(f.DemandDeadline is not null ? $", deadline {When(f.DemandDeadline)}" : "")}");
        }
        if (f.Versions.Count > 1)
        {
            s.AppendLine($"  terms amended ({f.Versions.Count} versions); latest changes:");
            foreach (var line in f.AmendmentDiff)
            {
                s.AppendLine($"    {line}");
            }
        }
        foreach (var p in f.Participants)
        {
            var state = ParticipantState(p.State);
            var notes = new List<string>();
            if (p.Reason.Length > 0) notes.Add(p.Reason);
            if (p.Offer.Length > 0) notes.Add($"offers: {p.Offer}");
            if (p.ReleaseRequested) notes.Add($"asks to be released: {p.ReleaseReason}");
            if (p.StandDownPending) notes.Add("stand-down not yet acknowledged");
            s.AppendLine($"  network {names.Who(p.Network)}: {state}{(notes.Count > 0 ? $" ({string.Join("; ", notes)})" : "")}");
        }
        foreach (var c in f.Communications)
        {
            s.AppendLine($"  {When(c.At)}  target: {c.Kind.ToString().ToLowerInvariant()}: {c.Summary}");
        }
        foreach (var x in f.Actions)
        {
            s.AppendLine($"  action {x.ActionId} by {names.Who(x.Network)}: {(x.Plan.What.Length > 0 ? x.Plan.What : "sealed: the node is locked")}, {When(x.Plan.StartsAt)} {x.Plan.Place} [{x.Status.ToString().ToLowerInvariant()}]{(x.Report.Length > 0 ? $" — {x.Report}" : "")}");
        }
        foreach (var h in f.History)
        {
            s.AppendLine($"  {When(h.At)}  {Status(h.From)} → {Status(h.To)}{(h.Note.Length > 0 ? $": {h.Note}" : "")}");
        }
        return s.ToString().TrimEnd();
    }

    public static string ParticipantState(ParticipantState s) =>
        s == Contracts.V1.ParticipantState.AwaitingReaffirmation ? "asked to reaffirm the amended terms" : s.ToString().ToLowerInvariant();

    public static string Status(FightStatus s) => s == FightStatus.CalledOff ? "called off" : s.ToString().ToLowerInvariant();

    // 64 bits, as Identifiers.ShortFingerprint shows them on the node (the CLI speaks only
    // the contracts): 32 bits could be matched by a made-up key in minutes.
    public static string Short(string nodeId) => nodeId.Length >= 16 ? string.Join('-', nodeId[..16].Chunk(4).Select(c => new string(c))) : nodeId;
}
