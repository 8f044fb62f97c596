using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace Federation.Domain.Tests;

/// <summary>Local time (issue 17, item 5): people read and type their city's time; UTC is what is stored.</summary>
public sealed class LocalTimeTests
{
    private static readonly TimeZoneInfo London = TimeZoneInfo.FindSystemTimeZoneById("Europe/London");

    [Fact]
    public void AStoredTimeIsShownAsTheClockOnTheWallReadsIt()
    {
        var summer = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 7, 1, 9, 0, 0, TimeSpan.Zero));
        var winter = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));

        Assert.Equal("2026-07-01 10:00", Dates.ShowIn(summer, London, "yyyy-MM-dd HH:mm"));
        Assert.Equal("2026-12-01 09:00", Dates.ShowIn(winter, London, "yyyy-MM-dd HH:mm"));
        Assert.Equal("2026-07-01 09:00", Dates.ShowIn(summer, TimeZoneInfo.Utc, "yyyy-MM-dd HH:mm"));
        Assert.Equal(Dates.Invalid, Dates.ShowIn(new Timestamp { Seconds = long.MaxValue }, London, "yyyy-MM-dd HH:mm"));
    }

    [Fact]
    public void ATypedLocalTimeIsStoredAsTheInstantItNames()
    {
        var typed = Dates.FromWallClock(new DateTime(2026, 7, 1, 10, 0, 0), London, "starts");

        Assert.Equal(new DateTimeOffset(2026, 7, 1, 9, 0, 0, TimeSpan.Zero), typed.ToDateTimeOffset());
    }

    [Fact]
    public void ATimeTheClocksSkipIsRefusedWithTheReason()
    {
        // 2026-03-29 01:30 never happens in London: the clocks go from 01:00 to 02:00.
        var refusal = Assert.Throws<RuleViolation>(() => Dates.FromWallClock(new DateTime(2026, 3, 29, 1, 30, 0), London, "starts"));

        Assert.Contains("starts: 2026-03-29 01:30 does not exist in Europe/London", refusal.Message);
    }

    [Fact]
    public void ATimeTheClocksRepeatIsTheEarlierOfTheTwo()
    {
        // 2026-10-25 01:30 happens twice in London: first in summer time (00:30 UTC), then in winter time.
        var typed = Dates.FromWallClock(new DateTime(2026, 10, 25, 1, 30, 0), London, "starts");

        Assert.Equal(new DateTimeOffset(2026, 10, 25, 0, 30, 0, TimeSpan.Zero), typed.ToDateTimeOffset());
    }
}
