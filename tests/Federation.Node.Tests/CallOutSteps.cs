using Federation.Contracts.V1;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Node.Tests;

/// <summary>The steps call-out tests take again and again, on real nodes.</summary>
public static class CallOutSteps
{
    public static async Task<CallOutState> PublishAsync(TestNode from, CallOutContent? content = null, params TestNode[] to)
    {
        var request = new PublishCallOutRequest { Content = content ?? Samples.CallOut() };
        request.Recipients.AddRange(to.Select(n => n.NodeId));
        return await from.Delegate.PublishCallOutAsync(request, from.Auth);
    }

    public static CallOutState Get(TestNode at, string id) => at.Delegate.GetCallOut(new GetObjectRequest { Id = id }, at.Auth);

    /// <summary>Waits until <paramref name="at"/>'s copy holds the call-out up to <paramref name="sequence"/>.</summary>
    public static async Task<CallOutState> ReachedAsync(TestNode at, string id, ulong sequence)
    {
        // Generous: on a loaded 2-core machine a retry after backoff can take a while.
        await Eventually.TrueAsync(() => at.Store.GetObject(id)?.LastSequence >= sequence, $"{id} to reach event {sequence} at {at.Name}", seconds: 60);
        return Get(at, id);
    }

    public static Task<SubmissionReceipt> RespondAsync(TestNode by, string id, CallOutResponse response) =>
        by.Delegate.RespondToCallOutAsync(new RespondToCallOutRequest { CallOutId = id, Response = response }, by.Auth).ResponseAsync;

    public static CallOutResponse Pledge(string date = "2026-12-05", string place = "Leeds, 1 High St") =>
        new() { Kind = ResponseKind.Pledge, PlannedDate = date, Place = place };

    public static CallOutResponse Decline(string reason = "") => new() { Kind = ResponseKind.Decline, Reason = reason };

    public static CallOutResponse Unable(string reason = "") => new() { Kind = ResponseKind.Unable, Reason = reason };

    public static CallOutResponse ReportBack(string report = "Twelve of us leafleted customers for an hour.") => new()
    {
        Kind = ResponseKind.ReportBack,
        Report = report,
        Turnout = 12,
        TargetResponse = "The manager took a leaflet and called head office.",
        Incidents = "Security filmed us; no police.",
    };

    public static Timestamp In(TimeSpan fromNow) => Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow + fromNow);
}
