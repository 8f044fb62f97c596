using Federation.Contracts.V1;

namespace Federation.Domain;

/// <summary>Call-out rules: the issuing network is the authority; recipients respond to it.</summary>
public static class CallOuts
{
    public const int MaxPlaces = 200;

    public static EventBody Publish(CallOutContent content, IReadOnlyCollection<string> recipients)
    {
        var published = new CallOutPublished { Content = content };
        published.Recipients.AddRange(recipients.Distinct());
        return new EventBody { CallOutPublished = published };
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

    /// <summary>Checks a response before it is queued for the issuer, so the delegate hears "no" at once.</summary>
    public static void CheckResponse(CallOutState callOut, string network, CallOutResponse response)
    {
        var probe = new EventPayload
        {
            ObjectId = callOut.Id,
            ObjectKind = ObjectKind.CallOut,
            OriginNode = callOut.OriginNode,
            ActorNode = network,
            Sequence = callOut.LastSequence + 1,
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
            return new CallOutState
            {
                Id = e.ObjectId,
                OriginNode = e.OriginNode,
                Content = published.Content,
                Recipients = { published.Recipients },
                LastSequence = e.Sequence,
                PublishedAt = e.OccurredAt,
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
                callOut.Closed = true;
                callOut.Cancelled = body.CallOutClosed.Cancelled;
                callOut.CloseReason = body.CallOutClosed.Reason;
                break;
            default:
                throw RuleViolation.Invalid($"A call-out's log cannot hold a {body.KindCase} event.");
        }
        callOut.LastSequence = e.Sequence;
        return callOut;
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
