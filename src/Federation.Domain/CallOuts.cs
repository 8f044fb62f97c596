using Federation.Contracts.V1;
using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;

namespace Federation.Domain;

/// <summary>Call-out rules: the issuing network is the authority; recipients respond to it.</summary>
public static class CallOuts
{
    public const int MaxPlaces = 200;

    public const int MaxRegions = 50;

    public static EventBody Publish(CallOutContent content, IReadOnlyCollection<string> recipients, CallOutAudience? audience = null)
    {
        var published = new CallOutPublished { Content = content, Audience = audience };
        published.Recipients.AddRange(recipients.Distinct());
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

    /// <summary>Turns a recipient's submission into the event the issuer appends.</summary>
    public static EventBody FromSubmission(SubmissionPayload s) => s.KindCase switch
    {
        SubmissionPayload.KindOneofCase.CallOutResponse => new EventBody
        {
            CallOutResponded = new CallOutResponded { Network = s.SubmitterNode, Response = s.CallOutResponse },
        },
        _ => throw RuleViolation.Invalid($"A call-out does not take a {s.KindCase} submission."),
    };

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
        ApplyResponded(callOut.Clone(), probe, new CallOutResponded { Network = network, Response = response });
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

    internal static CallOutState Apply(CallOutState? state, EventPayload e, EventBody body)
    {
        if (body.KindCase == EventBody.KindOneofCase.CallOutPublished)
        {
            if (state is not null)
            {
                throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Sequence, "This call-out is already published.");
            }
            EventLog.RequireOrigin(e, Rules.OriginAuthority, "publishes its call-out");
            var published = body.CallOutPublished;
            CheckContent(published.Content);
            if (published.Recipients.Count == 0)
            {
                throw RuleViolation.Invalid("A call-out needs at least one recipient network: add a peer first.");
            }
            if (published.Recipients.Any(r => !Identifiers.IsNodeId(r) || r == e.OriginNode))
            {
                throw RuleViolation.Invalid("Recipients must be other networks' node ids.");
            }
            if (published.Recipients.Distinct().Count() != published.Recipients.Count)
            {
                throw RuleViolation.Invalid("A network is listed twice among the recipients.");
            }
            CheckExpiryAhead(published.Content, e);
            CheckAudience(published.Audience, published.Recipients);
            return new CallOutState
            {
                Id = e.ObjectId,
                OriginNode = e.OriginNode,
                Content = published.Content,
                Recipients = { published.Recipients },
                LastSequence = e.Sequence,
                PublishedAt = e.OccurredAt,
                Audience = published.Audience,
            };
        }
        var callOut = state ?? throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Sequence, $"{e.ObjectId} has not been published.");
        switch (body.KindCase)
        {
            case EventBody.KindOneofCase.CallOutResponded:
                ApplyResponded(callOut, e, body.CallOutResponded);
                break;
            case EventBody.KindOneofCase.CallOutClosed:
                EventLog.RequireOrigin(e, Rules.OriginAuthority, "closes or cancels its call-out");
                if (callOut.Closed)
                {
                    throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.CallOutOpen, "This call-out is already closed.");
                }
                Text.Check("reason", body.CallOutClosed.Reason, Text.LongMax);
                if (body.CallOutClosed.Expired)
                {
                    // Replicas check the claim too: a call-out cannot be "expired" before its expiry.
                    if (body.CallOutClosed.Cancelled || !IsPastExpiry(callOut, e.OccurredAt.ToDateTimeOffset()))
                    {
                        throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Expiry,
                            "Expiry: a call-out closes by expiry only once its expiry has come, and expiry is not a cancellation.");
                    }
                }
                callOut.Closed = true;
                callOut.Cancelled = body.CallOutClosed.Cancelled;
                callOut.Expired = body.CallOutClosed.Expired;
                callOut.CloseReason = body.CallOutClosed.Reason;
                break;
            case EventBody.KindOneofCase.CallOutUpdated:
                ApplyUpdated(callOut, e, body.CallOutUpdated);
                break;
            default:
                throw RuleViolation.Invalid($"A call-out's log cannot hold a {body.KindCase} event.");
        }
        callOut.LastSequence = e.Sequence;
        return callOut;
    }

    private static void ApplyUpdated(CallOutState callOut, EventPayload e, CallOutUpdated updated)
    {
        EventLog.RequireOrigin(e, Rules.OriginAuthority, "updates its call-out");
        if (callOut.Closed)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.CallOutOpen,
                callOut.Cancelled ? "This call-out was cancelled; it cannot be updated." : "This call-out is closed; it cannot be updated.");
        }
        CheckContent(updated.Content);
        CheckExpiryAhead(updated.Content, e);
        var changed = ChangedFields(callOut.Content, updated.Content);
        if (changed.Count == 0)
        {
            throw RuleViolation.Invalid("Nothing changed: the new content is the same as the current one.");
        }
        // Recipients read the list to see what changed, so it must say what really changed.
        if (!changed.SequenceEqual(updated.ChangedFields))
        {
            throw RuleViolation.Invalid($"The update says it changed {string.Join(", ", updated.ChangedFields)}, but it changed {string.Join(", ", changed)}.");
        }
        callOut.Content = updated.Content;
        callOut.Revisions.Add(new CallOutRevision { Revision = (uint)callOut.Revisions.Count + 2, ChangedFields = { changed }, At = e.OccurredAt });
    }

    private static void CheckExpiryAhead(CallOutContent content, EventPayload e)
    {
        if (content.ExpiresAt is { } at && at.ToDateTimeOffset() <= e.OccurredAt.ToDateTimeOffset())
        {
            throw new RuleViolation(RefusalKind.InvalidArgument, Rules.Expiry, "The expiry is in the past: a call-out must expire after it is published or updated.");
        }
    }

    private static void CheckAudience(CallOutAudience? audience, IReadOnlyCollection<string> recipients)
    {
        switch (audience?.Kind)
        {
            case null or AudienceKind.AllPeers:
                break;
            case AudienceKind.ChosenPeers:
                if (!audience.Networks.ToHashSet().SetEquals(recipients))
                {
                    throw RuleViolation.Invalid("The chosen peers and the recipients of the call-out differ.");
                }
                break;
            case AudienceKind.Regions:
                CheckRegions(audience.Regions);
                break;
            default:
                throw RuleViolation.Invalid("The audience must be all peers, chosen peers, or peers in given regions.");
        }
    }

    private static void ApplyResponded(CallOutState callOut, EventPayload e, CallOutResponded responded)
    {
        if (e.ActorNode != responded.Network)
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.Recipients, "Only a network itself can respond for itself.");
        }
        if (!callOut.Recipients.Contains(responded.Network))
        {
            throw new RuleViolation(RefusalKind.PermissionDenied, Rules.Recipients,
                $"Network {Identifiers.Fingerprint(responded.Network)} is not a recipient of this call-out.");
        }
        var r = responded.Response ?? throw RuleViolation.Invalid("The response is empty.");
        if (callOut.Cancelled)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.CallOutOpen, "This call-out was cancelled; it takes no more responses.");
        }
        // A report back tells what was done; it usually comes after the window, so a
        // closed (not cancelled) call-out still takes it.
        if (callOut.Closed && r.Kind != ResponseKind.ReportBack)
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.CallOutOpen, "This call-out is closed; only report-backs are taken now.");
        }
        // Between the expiry and the issuer's sweep the call-out is not closed yet, but it
        // takes no new commitments: the origin's clock (the event's time) decides.
        if (r.Kind != ResponseKind.ReportBack && e.OccurredAt is not null && IsPastExpiry(callOut, e.OccurredAt.ToDateTimeOffset()))
        {
            throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Expiry, "This call-out has expired; only report-backs are taken now.");
        }
        var row = callOut.Responses.FirstOrDefault(x => x.Network == responded.Network);
        switch (r.Kind)
        {
            case ResponseKind.Pledge:
                Text.Check("planned date", r.PlannedDate, Text.ShortMax, required: true);
                Text.Check("place", r.Place, Text.ShortMax);
                break;
            case ResponseKind.Decline:
                Text.Check("reason", r.Reason, Text.LongMax);
                break;
            case ResponseKind.Unable:
                if (row?.Latest.Kind != ResponseKind.Pledge)
                {
                    throw new RuleViolation(RefusalKind.FailedPrecondition, Rules.Recipients,
                        "'Unable' withdraws a pledge; this network has not pledged.");
                }
                Text.Check("reason", r.Reason, Text.LongMax);
                break;
            case ResponseKind.ReportBack:
                Text.Check("report", r.Report, Text.LongMax, required: true);
                Text.Check("target response", r.TargetResponse, Text.LongMax);
                Text.Check("incidents", r.Incidents, Text.LongMax);
                break;
            default:
                throw RuleViolation.Invalid("A response must be a pledge, decline, unable or report back.");
        }
        if (row is null)
        {
            row = new ResponseRow { Network = responded.Network };
            callOut.Responses.Add(row);
        }
        row.Latest = r;
        row.At = e.OccurredAt;
        row.Responses++;
    }
}
