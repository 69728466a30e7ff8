using Crowd.Server.Features.Escrow;

namespace Crowd.Server.Tests.Features.Escrow;

public sealed class PaymentReferenceTests
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    [Fact]
    public void ANewReferenceIsShortTypeableAndReadsBackAsItself()
    {
        var references = Enumerable.Range(0, 2_000).Select(_ => PaymentReference.New()).ToList();

        references.ShouldAllBe(r => r.Length == PaymentReference.MaxLength && r.StartsWith("CW-", StringComparison.Ordinal) && r[7] == '-');
        references.ShouldAllBe(r => r.Replace("-", "", StringComparison.Ordinal).All(c => char.IsAsciiDigit(c) || char.IsAsciiLetterUpper(c)));
        references.SelectMany(r => r.Skip(3)).ShouldNotContain(c => "ILOU".Contains(c, StringComparison.Ordinal));
        references.Where(r => PaymentReference.Parse(r) != (PaymentReferenceCheck.Valid, r)).ShouldBeEmpty();
        references.Distinct().Count().ShouldBe(references.Count);
    }

    [Fact]
    public void TheExampleThePagesShowIsAValidReference() =>
        PaymentReference.Parse("CW-7K3M-9Q2R").ShouldBe((PaymentReferenceCheck.Valid, "CW-7K3M-9Q2R"));

    [Fact]
    public void EverySingleMistypedCharacterIsCaught()
    {
        for (var sample = 0; sample < 50; sample++)
        {
            // Only the leading prefix goes: a payload like "CW-ABCW-…" holds "CW-" a second time.
            var symbols = PaymentReference.New()["CW-".Length..].Replace("-", "", StringComparison.Ordinal);
            for (var position = 0; position < symbols.Length; position++)
            {
                foreach (var other in Alphabet.Where(c => c != symbols[position]))
                {
                    var typed = symbols[..position] + other + symbols[(position + 1)..];
                    PaymentReference.Parse(typed).Check.ShouldBe(PaymentReferenceCheck.Mistyped, typed);
                }
            }
        }
    }

    [Fact]
    public void EverySwapOfTwoNeighboursIsCaughtExceptZeroAndZAsInLuhnsOwnNineAndZero()
    {
        var missed = new HashSet<string>();
        for (var sample = 0; sample < 300; sample++)
        {
            // Only the leading prefix goes: a payload like "CW-ABCW-…" holds "CW-" a second time.
            var symbols = PaymentReference.New()["CW-".Length..].Replace("-", "", StringComparison.Ordinal);
            for (var i = 0; i + 1 < symbols.Length; i++)
            {
                if (symbols[i] == symbols[i + 1])
                {
                    continue;
                }
                var swapped = symbols[..i] + symbols[i + 1] + symbols[i] + symbols[(i + 2)..];
                if (PaymentReference.Parse(swapped).Check != PaymentReferenceCheck.Mistyped)
                {
                    missed.Add(string.Concat(new[] { symbols[i], symbols[i + 1] }.Order()));
                }
            }
        }

        missed.ShouldBeSubsetOf(["0Z"]);
    }

    [Fact]
    public void ReadingForgivesCaseSpacesDashesAMissingPrefixAndLookAlikeLetters()
    {
        var reference = FirstWith(r => r[3..].Any(c => c is '0' or '1'));
        var expected = (PaymentReferenceCheck.Valid, reference);

        PaymentReference.Parse(reference.ToLowerInvariant()).ShouldBe(expected);
        PaymentReference.Parse(" " + reference.Replace("-", " ", StringComparison.Ordinal) + " ").ShouldBe(expected);
        PaymentReference.Parse(reference[3..].Replace("-", "", StringComparison.Ordinal)).ShouldBe(expected);
        PaymentReference.Parse(reference[..3] + reference[3..].Replace('0', 'O').Replace('1', 'l')).ShouldBe(expected);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("CW-7K3M")]
    [InlineData("CW-7K3M-9Q2R-1")]
    [InlineData("CW-7K3M-9Q2U")]
    [InlineData("BOC-20261121")]
    [InlineData("CW-7K3M-9Q2*")]
    public void WhatIsNotShapedLikeAReferenceIsMalformed(string? typed) =>
        PaymentReference.Parse(typed).ShouldBe((PaymentReferenceCheck.Malformed, (string?)null));

    private static string FirstWith(Func<string, bool> condition)
    {
        while (true)
        {
            var reference = PaymentReference.New();
            if (condition(reference))
            {
                return reference;
            }
        }
    }
}
