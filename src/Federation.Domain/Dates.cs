using System.Collections;
using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Domain;

/// <summary>Checks on dates coming from people and peers, and a safe way to show stored ones.</summary>
public static class Dates
{
    /// <summary>
    /// Refuses a Timestamp outside what protobuf allows (0001-01-01 to 9999-12-31, nanos
    /// 0–999,999,999). Why: ToDateTimeOffset throws InvalidOperationException on one, so an
    /// impossible date from a delegate or a signed peer event escaped as INTERNAL (found by
    /// the hostile-input catalogue and fuzz tests). Check before any comparison.
    /// </summary>
    public static void Check(string field, Timestamp? value)
    {
        if (value is not null && !IsValid(value))
        {
            throw RuleViolation.Invalid($"{field} is not a valid date (seconds {value.Seconds}, nanos {value.Nanos}); send a date between the years 1 and 9999.");
        }
    }

    public static bool IsValid(Timestamp t) =>
        t.Seconds is >= -62_135_596_800 and <= 253_402_300_799 && t.Nanos is >= 0 and <= 999_999_999;

    /// <summary>
    /// Checks every Timestamp anywhere inside <paramref name="message"/>, however deep. Why one
    /// walk and not a check per field: a new event field with a date is covered without anyone
    /// remembering to add a check, and the origin and every replica run the same walk
    /// (issue 15 #19: one deadline with nanos 2e9 was signed into a shared log and took every
    /// node's fight page down).
    /// </summary>
    public static void CheckAll(IMessage message) => Walk(message, message.Descriptor.Name, 0);

    private static void Walk(IMessage message, string path, int depth)
    {
        if (message is Timestamp t)
        {
            Check($"{Words(path[(path.LastIndexOf('.') + 1)..])} ({path})", t);
            return;
        }
        // Protobuf parsing already bounds nesting; this bound only keeps a hand-built cycle finite.
        if (depth > 32)
        {
            return;
        }
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            if (field.FieldType != FieldType.Message)
            {
                continue;
            }
            var value = field.Accessor.GetValue(message);
            var name = $"{path}.{field.Name}";
            if (field.IsMap && value is IDictionary map)
            {
                foreach (var v in map.Values)
                {
                    if (v is IMessage m)
                    {
                        Walk(m, name, depth + 1);
                    }
                }
            }
            else if (field.IsRepeated && value is IList list)
            {
                foreach (var v in list)
                {
                    if (v is IMessage m)
                    {
                        Walk(m, name, depth + 1);
                    }
                }
            }
            else if (value is IMessage m)
            {
                Walk(m, name, depth + 1);
            }
        }
    }

    /// <summary>A field's name as the per-field checks word it, so a message reads the same whichever check refused.</summary>
    private static string Words(string field) => field switch
    {
        "expires_at" => "expiry",
        "starts_at" => "start",
        "ends_at" => "end",
        _ => field.Replace('_', ' '),
    };

    /// <summary>The time, or null when the stored value is not a date at all.</summary>
    public static DateTimeOffset? Read(Timestamp? t) => t is not null && IsValid(t) ? t.ToDateTimeOffset() : null;

    /// <summary>
    /// Renders a stored time for a page or a terminal. A bad value shows as "(invalid date)"
    /// instead of throwing: whatever got stored (an old copy, a bug), one value must never take
    /// a whole page or listing down (issue 15 #19).
    /// </summary>
    public static string Show(Timestamp? t, string format) =>
        t is null ? "" : Read(t) is { } at ? at.ToString(format, CultureInfo.InvariantCulture) : Invalid;

    public const string Invalid = "(invalid date)";

    /// <summary>
    /// A stored time as the clock on the wall reads it in <paramref name="zone"/> (the node's
    /// Node:TimeZone): people think in their city's time (issue 17, item 5). UTC stays on the
    /// wire and in storage; only what a person reads or types is local.
    /// </summary>
    public static string ShowIn(Timestamp? t, TimeZoneInfo zone, string format) =>
        t is null ? "" : Read(t) is { } at ? TimeZoneInfo.ConvertTime(at, zone).ToString(format, CultureInfo.InvariantCulture) : Invalid;

    /// <summary>
    /// The instant a wall-clock time in <paramref name="zone"/> names. A time the clocks skip
    /// (the hour they go forward) names no instant and is refused; one they repeat (the hour
    /// they go back) is taken as the first, the earlier instant, so a pledge is never late.
    /// </summary>
    public static Timestamp FromWallClock(DateTime wallClock, TimeZoneInfo zone, string field)
    {
        var local = DateTime.SpecifyKind(wallClock, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(local))
        {
            throw RuleViolation.Invalid($"{field}: {local.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} does not exist in {zone.Id}: the clocks go forward then. Choose a time an hour later.");
        }
        var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Max() : zone.GetUtcOffset(local);
        return Timestamp.FromDateTimeOffset(new DateTimeOffset(local, offset));
    }
}
