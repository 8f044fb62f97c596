using Federation.Contracts.V1;

namespace Federation.Domain;

/// <summary>A call-out's events applied to its state: checked at the issuer and at every recipient.</summary>
public static partial class CallOuts
{
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
            if (!published.RecipientsDigest.IsEmpty)
            {
                CheckDigest(published);
            }
            else if (published.Recipients.Count == 0)
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
                RecipientsDigest = published.RecipientsDigest,
                RecipientCount = published.RecipientCount,
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
                callOut.ClosedAt = e.OccurredAt;
                break;
            case EventBody.KindOneofCase.CallOutUpdated:
                ApplyUpdated(callOut, e, body.CallOutUpdated);
                break;
            default:
                throw RuleViolation.Invalid($"A call-out's log cannot hold a {body.KindCase} event.");
        }
        callOut.LastSequence = e.Sequence;
        // A late report-back to a call-out this node already purged keeps no more than the purge would.
        return callOut.Purged ? CallOutPurge.Purged(callOut) : callOut;
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
        if (!IsRecipient(callOut, responded.Network))
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
                // Every recipient holds this log, so a report-back's content is in it only
                // when its reporter shared it; otherwise only "withheld" (issue 15 #9).
                if (r.Withheld)
                {
                    if (r.Report.Length > 0 || r.Turnout > 0 || r.TargetResponse.Length > 0 || r.Incidents.Length > 0 || r.ShareWithRecipients)
                    {
                        throw RuleViolation.Invalid("A withheld report-back carries no report, turnout, target response or incidents.");
                    }
                    break;
                }
                if (!r.ShareWithRecipients)
                {
                    throw new RuleViolation(RefusalKind.PermissionDenied, Rules.Recipients,
                        "A report-back reaches the issuer only unless its reporter shares it; this one is not shared, so it cannot be in the call-out's shared log.");
                }
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
