using Federation.Contracts.V1;
using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;

namespace Federation.Domain;

/// <summary>
/// Data minimisation for call-outs (issue 15 #10): a set time after a call-out closes, the
/// issuer and every recipient delete its confidential content and keep only what its
/// outcome needs — who it went to, its title, whether and how it closed, and how each
/// network answered (the kind of answer, the turnout, how many answers), never what they said.
/// </summary>
public static class CallOutPurge
{
    /// <summary>
    /// When the call-out's purge clock started: when it closed. A call-out closed before
    /// the close time was recorded shows the latest time it holds instead (its publication,
    /// updates, answers, and its expiry when it expired); null while it is open.
    /// </summary>
    public static DateTimeOffset? ClockStart(CallOutState callOut)
    {
        if (!callOut.Closed)
        {
            return null;
        }
        if (callOut.ClosedAt is { } closedAt)
        {
            return closedAt.ToDateTimeOffset();
        }
        IEnumerable<Timestamp?> known = [callOut.PublishedAt, .. callOut.Revisions.Select(r => r.At), .. callOut.Responses.Select(r => r.At),
            callOut.Expired ? callOut.Content?.ExpiresAt : null];
        return known.OfType<Timestamp>().Select(t => t.ToDateTimeOffset()).DefaultIfEmpty(DateTimeOffset.MinValue).Max();
    }

    /// <summary>True when the call-out closed before <paramref name="cutoff"/> and this node still holds its content.</summary>
    public static bool IsDue(CallOutState callOut, DateTimeOffset cutoff) =>
        !callOut.Purged && ClockStart(callOut) is { } start && start < cutoff;

    /// <summary>
    /// What a node keeps of a purged call-out. Everything else — the details (target,
    /// places, demands, talking points, safety notes, time window), the close reason,
    /// the audience's regions, and every response's text (pledge date and place, decline
    /// reasons, report-backs, target responses, incidents) — is gone.
    /// </summary>
    public static CallOutState Purged(CallOutState callOut)
    {
        var kept = new CallOutState
        {
            Id = callOut.Id,
            OriginNode = callOut.OriginNode,
            Content = new CallOutContent
            {
                Title = callOut.Content?.Title ?? "",
                // Empty, not absent: every view of a call-out reads its target.
                Target = new Target(),
                FightId = callOut.Content?.FightId ?? "",
                ExpiresAt = callOut.Content?.ExpiresAt,
            },
            Recipients = { callOut.Recipients },
            RecipientsDigest = callOut.RecipientsDigest,
            RecipientCount = callOut.RecipientCount,
            Closed = callOut.Closed,
            Cancelled = callOut.Cancelled,
            Expired = callOut.Expired,
            LastSequence = callOut.LastSequence,
            PublishedAt = callOut.PublishedAt,
            ClosedAt = callOut.ClosedAt,
            Purged = true,
        };
        if (callOut.Audience is { } audience)
        {
            kept.Audience = new CallOutAudience { Kind = audience.Kind };
        }
        foreach (var r in callOut.Revisions)
        {
            kept.Revisions.Add(new CallOutRevision { Revision = r.Revision, At = r.At });
        }
        foreach (var row in callOut.Responses)
        {
            kept.Responses.Add(new ResponseRow
            {
                Network = row.Network,
                At = row.At,
                Responses = row.Responses,
                Latest = row.Latest is { } latest
                    ? new CallOutResponse { Kind = latest.Kind, Turnout = latest.Turnout, Withheld = latest.Withheld }
                    : null,
            });
        }
        return kept;
    }

    /// <summary>
    /// The local-details keys under which the issuer keeps unshared report-backs for this
    /// call-out (<see cref="CallOuts.IssuerOnlyKey"/>), one per network that could have sent one.
    /// </summary>
    public static IEnumerable<string> IssuerOnlyKeys(CallOutState callOut) =>
        callOut.Recipients.Concat(callOut.Responses.Select(r => r.Network)).Distinct()
            .Select(network => CallOuts.IssuerOnlyKey(callOut.Id, network));
}
