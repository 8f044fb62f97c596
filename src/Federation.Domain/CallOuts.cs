using Federation.Contracts.V1;
using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;

namespace Federation.Domain;

/// <summary>Call-out rules: the issuing network is the authority; recipients respond to it.</summary>
public static partial class CallOuts
{
    public const int MaxPlaces = 200;

    public const int MaxRegions = 50;

    /// <param name="toDigest">Name the audience by its digest in what is signed (docs/adr/0030): when every recipient has "audience.digest".</param>
    public static EventBody Publish(CallOutContent content, IReadOnlyCollection<string> recipients, CallOutAudience? audience = null, bool toDigest = false)
    {
        var published = new CallOutPublished { Content = content, Audience = audience };
        published.Recipients.AddRange(recipients.Distinct());
        if (toDigest)
        {
            published.RecipientsDigest = RecipientsDigest(published.Recipients);
            published.RecipientCount = (uint)published.Recipients.Count;
        }
        return new EventBody { CallOutPublished = published };
    }

    /// <summary>
    /// Resolves who a call-out goes to from the issuer's active peers: all of them, the
    /// chosen ones (each must be a peer), or those whose region is one of the given
    /// regions (compared without regard to case or surrounding spaces).
    /// </summary>
    public static IReadOnlyList<string> ResolveAudience(CallOutAudience audience, IReadOnlyList<(string NodeId, string Region)> peers)
    {
        List<string> to;
        switch (audience.Kind)
        {
            case AudienceKind.AllPeers:
                to = peers.Select(p => p.NodeId).ToList();
                break;
            case AudienceKind.ChosenPeers:
                if (audience.Networks.Count == 0)
                {
                    throw RuleViolation.Invalid("Choose at least one peer for the call-out, or send it to all peers.");
                }
                var known = peers.Select(p => p.NodeId).ToHashSet();
                foreach (var n in audience.Networks.Where(n => !known.Contains(n)))
                {
                    throw new RuleViolation(RefusalKind.FailedPrecondition, "explicit peering",
                        $"{(Identifiers.IsNodeId(n) ? Identifiers.Fingerprint(n) : Identifiers.Truncate(n))} is not a peer of this node. Add it first (address and fingerprint).");
                }
                to = audience.Networks.Distinct().ToList();
                break;
            case AudienceKind.Regions:
                CheckRegions(audience.Regions);
                var wanted = audience.Regions.Select(NormaliseRegion).ToHashSet();
                to = peers.Where(p => wanted.Contains(NormaliseRegion(p.Region))).Select(p => p.NodeId).ToList();
                if (to.Count == 0)
                {
                    var regions = peers.Select(p => p.Region.Trim()).Where(r => r.Length > 0).Distinct().ToList();
                    throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Recipients,
                        $"No peer of this node is in {string.Join(" or ", audience.Regions.Select(r => $"'{r.Trim()}'"))}. "
                        + (regions.Count == 0 ? "No peer has told this node its region." : $"Peers' regions: {string.Join(", ", regions)}."));
                }
                break;
            default:
                throw RuleViolation.Invalid("The audience must be all peers, chosen peers, or peers in given regions.");
        }
        if (to.Count == 0)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Recipients, "This node has no peers yet: add one before publishing a call-out.");
        }
        return to;
    }

    public static string NormaliseRegion(string region) => region.Trim().ToLowerInvariant();

    private static void CheckRegions(IReadOnlyCollection<string> regions)
    {
        if (regions.Count == 0)
        {
            throw RuleViolation.Invalid("Name at least one region for the call-out.");
        }
        if (regions.Count > MaxRegions)
        {
            throw RuleViolation.Invalid($"A call-out can name at most {MaxRegions} regions.");
        }
        foreach (var r in regions)
        {
            Text.Check("region", r, Text.ShortMax, required: true);
        }
    }

    /// <summary>The issuer changes what it asks; the event carries the readable list of what changed.</summary>
    public static EventBody Update(CallOutState callOut, CallOutContent content)
    {
        CheckContent(content);
        var changed = ChangedFields(callOut.Content, content);
        if (changed.Count == 0)
        {
            throw RuleViolation.Invalid("Nothing changed: the new content is the same as the current one.");
        }
        return new EventBody { CallOutUpdated = new CallOutUpdated { Content = content, ChangedFields = { changed } } };
    }

    /// <summary>What differs between two versions of a call-out's content, named as a delegate would say it.</summary>
    public static IReadOnlyList<string> ChangedFields(CallOutContent before, CallOutContent after)
    {
        var changed = new List<string>();
        void Check(string name, bool same)
        {
            if (!same)
            {
                changed.Add(name);
            }
        }
        Check("title", before.Title == after.Title);
        Check("target", Equals(before.Target ?? new Target(), after.Target ?? new Target()));
        Check("places", before.Places.Equals(after.Places));
        Check("action types", before.ActionTypes.Equals(after.ActionTypes));
        Check("time window", Equals(before.WindowStart, after.WindowStart) && Equals(before.WindowEnd, after.WindowEnd));
        Check("time zone", before.TimeZone == after.TimeZone);
        Check("demand summary", before.DemandSummary == after.DemandSummary);
        Check("talking points", before.TalkingPoints == after.TalkingPoints);
        Check("safety and legal notes", before.SafetyNotes == after.SafetyNotes);
        Check("expiry", Equals(before.ExpiresAt, after.ExpiresAt));
        Check("fight", before.FightId == after.FightId);
        return changed;
    }

    /// <summary>True once the call-out's expiry has come; a call-out without one never expires.</summary>
    /// <summary>
    /// A pledge picked on the dashboard's date picker (issue 17, item 5) must fall inside the
    /// call-out's time window: the picker is limited to it, and a hand-made post is refused
    /// with the window named. Returns how a pledge's planned date is stored: UTC, as a
    /// calendar reads it ("2026-12-05T17:00Z").
    /// </summary>
    public static string PlannedInWindow(CallOutContent content, Timestamp at)
    {
        var when = at.ToDateTimeOffset();
        if ((content.WindowStart is { } start && Dates.Read(start) is { } from && when < from)
            || (content.WindowEnd is { } end && Dates.Read(end) is { } until && when > until))
        {
            throw RuleViolation.Invalid($"The pledged time is outside the call-out's time window ({Dates.Show(content.WindowStart, "yyyy-MM-dd HH:mm'Z'")} – {Dates.Show(content.WindowEnd, "yyyy-MM-dd HH:mm'Z'")}); choose a time inside it.");
        }
        return when.ToString("yyyy-MM-dd'T'HH:mm'Z'", System.Globalization.CultureInfo.InvariantCulture);
    }

    public static bool IsPastExpiry(CallOutState callOut, DateTimeOffset now) =>
        callOut.Content?.ExpiresAt is { } at && at.ToDateTimeOffset() <= now;

    /// <summary>The close the issuer's expiry sweep appends once the expiry has come.</summary>
    public static EventBody Expire(CallOutState callOut, DateTimeOffset now)
    {
        if (callOut.Closed)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.CallOutOpen, "This call-out is already closed.");
        }
        if (!IsPastExpiry(callOut, now))
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Expiry, "This call-out has not reached its expiry.");
        }
        return new EventBody
        {
            CallOutClosed = new CallOutClosed { Expired = true, Reason = $"Expired at {callOut.Content.ExpiresAt.ToDateTimeOffset():yyyy-MM-dd HH:mm} UTC." },
        };
    }

    public static EventBody Close(CallOutState callOut, bool cancelled, string reason)
    {
        Text.Check("reason", reason, Text.LongMax);
        return new EventBody { CallOutClosed = new CallOutClosed { Cancelled = cancelled, Reason = reason ?? "" } };
    }

    /// <summary>
    /// Turns a recipient's submission into the event the issuer appends to the shared log:
    /// a report-back its reporter did not share is there only as "withheld" (issue 15 #9);
    /// its content is what <see cref="IssuerOnly"/> gives the issuer to keep.
    /// </summary>
    public static EventBody FromSubmission(SubmissionPayload s)
    {
        if (s.KindCase != SubmissionPayload.KindOneofCase.CallOutResponse)
        {
            throw RuleViolation.Invalid($"A call-out does not take a {s.KindCase} submission.");
        }
        CheckReportText(s.CallOutResponse);
        return new EventBody { CallOutResponded = new CallOutResponded { Network = s.SubmitterNode, Response = InLog(s.CallOutResponse) } };
    }

    /// <summary>
    /// The response as the call-out's shared log carries it, which every recipient receives:
    /// pledges, declines and shared report-backs whole; an unshared report-back as its kind only.
    /// </summary>
    public static CallOutResponse InLog(CallOutResponse r)
    {
        if (IssuerOnly(r) is not null)
        {
            return new CallOutResponse { Kind = ResponseKind.ReportBack, Withheld = true };
        }
        // Only the issuer withholds; a submission cannot claim it.
        return r.Withheld ? new CallOutResponse(r) { Withheld = false } : r;
    }

    /// <summary>The part of a response that reaches the issuer only (null when all of it is shared).</summary>
    public static CallOutResponse? IssuerOnly(CallOutResponse? r) =>
        r is { Kind: ResponseKind.ReportBack, ShareWithRecipients: false } ? new CallOutResponse(r) { Withheld = false } : null;

    /// <summary>Where the issuer keeps a network's latest unshared report-back, next to the local details of fights.</summary>
    public static string IssuerOnlyKey(string callOutId, string network) => $"{callOutId}/report-back/{network}";

    /// <summary>The issuer's view: each withheld report-back replaced by the content it keeps (when it still has it).</summary>
    public static CallOutState WithIssuerOnly(CallOutState callOut, Func<string, CallOutResponse?> kept)
    {
        if (!callOut.Responses.Any(r => r.Latest?.Withheld == true))
        {
            return callOut;
        }
        var view = callOut.Clone();
        foreach (var row in view.Responses.Where(r => r.Latest?.Withheld == true))
        {
            if (kept(IssuerOnlyKey(callOut.Id, row.Network)) is { } full)
            {
                row.Latest = full;
            }
        }
        return view;
    }

    private static void CheckReportText(CallOutResponse? r)
    {
        if (r?.Kind == ResponseKind.ReportBack && !r.Withheld)
        {
            Text.Check("report", r.Report, Text.LongMax, required: true);
            Text.Check("target response", r.TargetResponse, Text.LongMax);
            Text.Check("incidents", r.Incidents, Text.LongMax);
        }
    }

    /// <summary>Only the issuing network changes what a call-out asks, or closes it.</summary>
    public static void RequireIssuer(CallOutState callOut, string network, string verb)
    {
        if (callOut.OriginNode != network)
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.OriginAuthority,
                $"Origin authority: only the issuing network can {verb} this call-out.");
        }
    }

    /// <summary>Checks a response before it is queued for the issuer, so the delegate hears "no" at once.</summary>
    public static void CheckResponse(CallOutState callOut, string network, CallOutResponse response, DateTimeOffset? now = null)
    {
        if (callOut.OriginNode == network)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Recipients, "This node issued the call-out; responses come from the networks it was sent to.");
        }
        var probe = new EventPayload
        {
            ObjectId = callOut.Id,
            ObjectKind = ObjectKind.CallOut,
            OriginNode = callOut.OriginNode,
            ActorNode = network,
            Sequence = callOut.LastSequence + 1,
            OccurredAt = now is { } t ? Timestamp.FromDateTimeOffset(t) : null,
        };
        CheckReportText(response);
        ApplyResponded(callOut.Clone(), probe, new CallOutResponded { Network = network, Response = InLog(response) });
    }

    public static void CheckContent(CallOutContent? content)
    {
        if (content is null)
        {
            throw RuleViolation.Invalid("The call-out has no content.");
        }
        Text.Check("title", content.Title, Text.ShortMax, required: true);
        Text.Check("target name", content.Target?.Name, Text.ShortMax, required: true);
        Text.Check("target parent company", content.Target?.ParentCompany, Text.ShortMax);
        if (content.Places.Count > MaxPlaces)
        {
            throw RuleViolation.Invalid($"A call-out can list at most {MaxPlaces} places.");
        }
        foreach (var place in content.Places)
        {
            Text.Check("place city", place.City, Text.ShortMax, required: true);
            Text.Check("place address", place.Address, Text.ShortMax);
        }
        if (content.ActionTypes.Any(a => a == ActionType.Unspecified || !Enum.IsDefined(a)))
        {
            throw RuleViolation.Invalid("Every action type must be one of: picket, phone/e-mail blockade, leafleting, noise demo, call-in day, online.");
        }
        Dates.Check("window start", content.WindowStart);
        Dates.Check("window end", content.WindowEnd);
        Dates.Check("expiry", content.ExpiresAt);
        if (content.WindowStart is not null && content.WindowEnd is not null && content.WindowEnd.ToDateTimeOffset() < content.WindowStart.ToDateTimeOffset())
        {
            throw RuleViolation.Invalid("The time window ends before it starts.");
        }
        Text.Check("time zone", content.TimeZone, Text.ShortMax);
        Text.Check("demand summary", content.DemandSummary, Text.LongMax, required: true);
        Text.Check("talking points", content.TalkingPoints, Text.LongMax);
        Text.Check("safety notes", content.SafetyNotes, Text.LongMax);
        if (content.FightId.Length > 0)
        {
            Identifiers.OriginOf(content.FightId);
        }
    }
}
