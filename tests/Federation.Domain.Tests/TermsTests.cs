using Federation.Contracts.V1;
using Xunit;

namespace Federation.Domain.Tests;

public class TermsTests
{
    [Fact]
    public void CompleteTermsMissNothing()
    {
        Assert.Empty(Terms.Missing(Make.CompleteTerms()));
    }

    [Fact]
    public void AbsentTermsMissEveryPart()
    {
        Assert.Equal(new[] { "demands", "strategy", "facts of the conflict", "end conditions" }, Terms.Missing(null));
        Assert.Equal(new[] { "demands", "strategy", "facts of the conflict", "end conditions" }, Terms.Missing(new FightTerms()));
    }

    [Fact]
    public void TermsWithoutDemandsMissDemands()
    {
        var terms = Make.CompleteTerms();
        terms.Demands.Clear();

        Assert.Equal(new[] { "demands" }, Terms.Missing(terms));
    }

    [Fact]
    public void TermsWithABlankDemandMissDemands()
    {
        var terms = Make.CompleteTerms();
        terms.Demands.Add("   ");

        Assert.Equal(new[] { "demands" }, Terms.Missing(terms));
    }

    [Fact]
    public void TermsWithoutStrategyMissStrategy()
    {
        var terms = Make.CompleteTerms();
        terms.Strategy = " ";

        Assert.Equal(new[] { "strategy" }, Terms.Missing(terms));
    }

    [Fact]
    public void TermsWithoutFactsMissTheFactsOfTheConflict()
    {
        var terms = Make.CompleteTerms();
        terms.Facts = "";

        Assert.Equal(new[] { "facts of the conflict" }, Terms.Missing(terms));
    }

    [Fact]
    public void TermsWithoutEndConditionsMissEndConditions()
    {
        var terms = Make.CompleteTerms();
        terms.EndConditions = "";

        Assert.Equal(new[] { "end conditions" }, Terms.Missing(terms));
    }

    [Fact]
    public void MaterialsAreOptional()
    {
        var terms = Make.CompleteTerms();
        terms.Materials = "";

        Assert.Empty(Terms.Missing(terms));
    }

    [Fact]
    public void CompleteTermsMayBeOffered()
    {
        Assert.Null(Record.Exception(() => Terms.RequireComplete(Make.CompleteTerms())));
    }

    [Fact]
    public void IncompleteTermsCannotBeOffered()
    {
        var terms = Make.CompleteTerms();
        terms.Strategy = "";
        terms.EndConditions = "";

        var ex = Make.Refused(() => Terms.RequireComplete(terms), RefusalKind.FailedPrecondition, Rules.TermsFirst);
        Assert.Contains("strategy", ex.Message);
        Assert.Contains("end conditions", ex.Message);
        Assert.DoesNotContain("demands", ex.Message);
    }

    [Fact]
    public void AbsentTermsCannotBeOffered()
    {
        Make.Refused(() => Terms.RequireComplete(null), RefusalKind.FailedPrecondition, Rules.TermsFirst);
    }

    [Fact]
    public void FrozenTermsAreNamedByTheHashOfTheirBytes()
    {
        var terms = Make.CompleteTerms();

        var (bytes, hash) = Terms.Freeze(terms);

        Assert.Equal(Terms.Hash(bytes.Span), hash);
        Assert.Equal(64, hash.Length);
        Assert.Equal(terms, FightTerms.Parser.ParseFrom(bytes));
    }

    [Fact]
    public void DifferentTermsHaveDifferentHashes()
    {
        var (_, first) = Terms.Freeze(Make.CompleteTerms("Pay the withheld wages"));
        var (_, second) = Terms.Freeze(Make.CompleteTerms("Pay the withheld wages and holiday pay"));

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void SameTermsHaveTheSameHash()
    {
        Assert.Equal(Terms.Freeze(Make.CompleteTerms()).Hash, Terms.Freeze(Make.CompleteTerms()).Hash);
    }

    [Fact]
    public void ShortHashIsTheFirstTwelveDigits()
    {
        var (_, hash) = Terms.Freeze(Make.CompleteTerms());

        Assert.Equal(hash[..12], Terms.Short(hash));
        Assert.Equal("abc", Terms.Short("abc"));
    }

    [Fact]
    public void TooManyDemandsAreRefused()
    {
        var terms = Make.CompleteTerms();
        terms.Demands.Clear();
        terms.Demands.Add(Enumerable.Range(1, Terms.MaxDemands).Select(i => $"Demand {i}"));
        Assert.Null(Record.Exception(() => Terms.CheckText(terms)));

        terms.Demands.Add("One too many");

        Make.Invalid(() => Terms.CheckText(terms));
    }

    [Fact]
    public void DemandWithAControlCharacterIsRefused()
    {
        var terms = Make.CompleteTerms();
        terms.Demands.Add("Pay up\u001b[2J");

        Make.Invalid(() => Terms.CheckText(terms));
    }

    [Fact]
    public void OverLongStrategyIsRefused()
    {
        var terms = Make.CompleteTerms();
        terms.Strategy = new string('s', Text.LongMax + 1);

        Make.Invalid(() => Terms.CheckText(terms));
    }
}

public class TextTests
{
    [Fact]
    public void TextWithinTheLimitIsAccepted()
    {
        Assert.Null(Record.Exception(() => Text.Check("field", new string('x', Text.ShortMax), Text.ShortMax, required: true)));
    }

    [Fact]
    public void LineBreaksAndTabsAreAccepted()
    {
        Assert.Null(Record.Exception(() => Text.Check("field", "one\r\ntwo\tthree", Text.ShortMax)));
    }

    [Fact]
    public void OverLongTextIsRefused()
    {
        var ex = Make.Invalid(() => Text.Check("field", new string('x', Text.ShortMax + 1), Text.ShortMax));
        Assert.Contains("field", ex.Message);
    }

    [Theory]
    [InlineData("\u001b[31mred")]
    [InlineData("nul\0")]
    [InlineData("bell\u0007")]
    [InlineData("del\u007f")]
    [InlineData("c1\u009b")]
    [InlineData("reversed \u202Etxt.exe")]
    [InlineData("isolate \u2066x\u2069")]
    public void ControlCharactersAreRefused(string value)
    {
        Make.Invalid(() => Text.Check("field", value, Text.ShortMax));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void MissingRequiredTextIsRefused(string? value)
    {
        Make.Invalid(() => Text.Check("field", value, Text.ShortMax, required: true));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void MissingOptionalTextIsAccepted(string? value)
    {
        Assert.Null(Record.Exception(() => Text.Check("field", value, Text.ShortMax)));
    }
}
