using System.Globalization;
using Federation.Contracts.V1;
using Federation.Domain;
using Grpc.Core;

namespace Federation.Node.Grpc;

/// <summary>
/// How a refusal travels between nodes. Below the node a refusal is a
/// <see cref="RuleViolation"/>; here it becomes a gRPC status with the trailers a sender
/// acts on, and here a sender reads a peer's refusal back: is it for good (park the item),
/// is it the clocks (retry), does the peer ask for a pause.
/// </summary>
public static class WireRefusals
{
    /// <summary>Names the rule that refused, for a person reading the error.</summary>
    public const string RuleTrailer = "x-fed-rule";

    /// <summary>
    /// Marks a refusal caused only by clocks disagreeing (<see cref="Rules.ClockSkew"/>).
    /// Senders treat it as temporary: it ends when a clock is fixed, so retrying is right.
    /// </summary>
    public const string ClockTrailer = "x-fed-clock";

    /// <summary>
    /// Marks a refusal for speaking another major protocol version (<see cref="Rules.ProtocolVersion"/>),
    /// with the refusing node's version. It ends when one side upgrades: senders keep what waits queued.
    /// </summary>
    public const string ProtocolTrailer = "x-fed-protocol";

    /// <summary>How long an overloaded node asks to be left alone, in milliseconds.</summary>
    public const string RetryAfterTrailer = "retry-after-ms";

    // The most a peer may ask us to pause; a larger hint (or a garbled one) is capped.
    private static readonly TimeSpan MaxHint = TimeSpan.FromDays(1);

    // ---- Saying no ----------------------------------------------------------------

    /// <summary>The status a refusal of this kind is sent as.</summary>
    public static StatusCode StatusOf(RefusalKind kind) => kind switch
    {
        RefusalKind.InvalidArgument => StatusCode.InvalidArgument,
        RefusalKind.PermissionDenied => StatusCode.PermissionDenied,
        RefusalKind.NotFound => StatusCode.NotFound,
        RefusalKind.Unauthenticated => StatusCode.Unauthenticated,
        _ => StatusCode.FailedPrecondition,
    };

    /// <summary>A rule's refusal as it goes on the wire: its status and message, the rule's name, and the clock mark when the rule is the clocks'.</summary>
    public static RpcException ToRpc(RuleViolation v)
    {
        var trailers = new Metadata { { RuleTrailer, v.Rule } };
        if (v.Rule == Rules.ClockSkew)
        {
            trailers.Add(ClockTrailer, "skew");
        }
        return new RpcException(new Status(StatusOf(v.Kind), v.Message), trailers);
    }

    /// <summary>Another major protocol version: the rule's refusal, marked with this node's version.</summary>
    public static RpcException ProtocolRefusal(RuleViolation v, string ourVersion) =>
        new(new Status(StatusOf(v.Kind), v.Message), new Metadata { { RuleTrailer, v.Rule }, { ProtocolTrailer, ourVersion } });

    /// <summary>RESOURCE_EXHAUSTED with the time to wait, which this node's own delivery honours when it gets one.</summary>
    public static RpcException TooManyRequests(string message, long retryAfterMs) =>
        new(new Status(StatusCode.ResourceExhausted, message),
            new Metadata { { RetryAfterTrailer, retryAfterMs.ToString(CultureInfo.InvariantCulture) } });

    /// <summary>One refused submission of a SubmitStream: what Submit would have said, trailers and all.</summary>
    public static SubmitRefusal ToSubmitRefusal(RpcException refusal)
    {
        var refused = new SubmitRefusal
        {
            StatusCode = (int)refusal.StatusCode,
            Detail = refusal.Status.Detail,
            Rule = refusal.Trailers.GetValue(RuleTrailer) ?? "",
        };
        // The sender classifies the refusal by these as it would Submit's (a clock refusal
        // is retried, not parked; a retry-after-ms hint is honoured).
        foreach (var trailer in refusal.Trailers.Where(t => !t.IsBinary))
        {
            refused.Trailers[trailer.Key] = trailer.Value;
        }
        return refused;
    }

    // ---- Reading a peer's no --------------------------------------------------------

    /// <summary>
    /// A submission the stream refused, as the <see cref="RpcException"/> Submit would have
    /// thrown for it: its status, detail and trailers (x-fed-rule, x-fed-clock, retry-after-ms).
    /// </summary>
    public static RpcException FromSubmitRefusal(SubmitRefusal refused)
    {
        var trailers = new Metadata();
        foreach (var (key, value) in refused.Trailers)
        {
            try
            {
                trailers.Add(key, value);
            }
            catch (ArgumentException)
            {
                // A key gRPC would not carry (upper case, binary): it could not have been a trailer.
            }
        }
        if (refused.Rule.Length > 0 && trailers.Get(RuleTrailer) is null)
        {
            trailers.Add(RuleTrailer, refused.Rule);
        }
        return new RpcException(new Status((StatusCode)refused.StatusCode, refused.Detail), trailers);
    }

    /// <summary>Whether the refusal is marked as the clocks' (<see cref="ClockTrailer"/>).</summary>
    public static bool IsClockRefusal(RpcException ex) => ex.Trailers.GetValue(ClockTrailer) is not null;

    /// <summary>
    /// Whether a peer's refusal parks the item as a dead letter: a permanent status, unless it
    /// is marked as a clock refusal (x-fed-clock), which ends when a clock is put right, or as a
    /// protocol refusal (x-fed-protocol), which ends when a node upgrades; those are retried. Used alike for Deliver, Submit and each answer of a SubmitStream.
    /// </summary>
    public static bool Parks(RpcException refused) => IsPermanent(refused.StatusCode) && !IsClockRefusal(refused)
        && refused.Trailers.GetValue(ProtocolTrailer) is null;

    /// <summary>Refusals that will not change by retrying: park them, never retry them.</summary>
    public static bool IsPermanent(StatusCode code) => code is StatusCode.InvalidArgument or StatusCode.PermissionDenied
        or StatusCode.Unauthenticated or StatusCode.FailedPrecondition or StatusCode.NotFound or StatusCode.AlreadyExists
        or StatusCode.OutOfRange or StatusCode.Unimplemented;

    /// <summary>
    /// A peer that is overloaded answers RESOURCE_EXHAUSTED and may say, in the
    /// <c>retry-after-ms</c> trailer, how long to leave it alone. That is honoured (up to a day).
    /// </summary>
    public static TimeSpan? RetryAfter(RpcException ex)
    {
        if (ex.StatusCode != StatusCode.ResourceExhausted)
        {
            return null;
        }
        var value = ex.Trailers.GetValue(RetryAfterTrailer);
        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0
            ? ms >= MaxHint.TotalMilliseconds ? MaxHint : TimeSpan.FromMilliseconds(ms)
            : null;
    }
}
