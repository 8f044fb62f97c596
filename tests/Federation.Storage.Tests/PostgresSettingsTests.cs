using Federation.Core;

namespace Federation.Storage.Tests;

/// <summary>Connection settings the PostgreSQL store refuses before it connects: no server needed.</summary>
public sealed class PostgresSettingsTests
{
    [Fact]
    public void AutomaticPreparationIsRefusedWithWhatToChange()
    {
        // Nothing listens here: the refusal must come before any connection is tried.
        var ex = Assert.Throws<NodeStartRefusedException>(() => new PostgresStore("Host=127.0.0.1;Port=1;Max Auto Prepare=20"));
        Assert.Contains("Max Auto Prepare=20", ex.Message);
        Assert.Contains("Remove Max Auto Prepare", ex.Message);
    }

    [Fact]
    public void AnEmptyConnectionStringIsRefused()
    {
        var ex = Assert.Throws<NodeStartRefusedException>(() => new PostgresStore(" "));
        Assert.Contains("Node:Postgres:ConnectionString is empty", ex.Message);
    }
}
