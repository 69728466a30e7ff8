using Crowd.Server.Infrastructure.Web;

namespace Crowd.Server.Tests.Web;

public sealed class TextRulesTests
{
    [Theory]
    [InlineData("Li Wei")]
    [InlineData("王芳")]
    [InlineData("Zoë O'Brien-Łukasz")]
    [InlineData("مرحبا")]
    [InlineData("👩‍💻 team")]
    [InlineData("کتاب‌ها")]
    [InlineData("a")]
    public void OrdinaryNamesInAnyScriptAreStoredAsTheyAre(string name) =>
        TextRules.Find(name, TextKind.Line).ShouldBeNull();

    [Theory]
    [InlineData("Li\u0000Wei", TextFaultKind.Control, 3, 0x0)]
    [InlineData("Li\tWei", TextFaultKind.Control, 3, 0x9)]
    [InlineData("Li\nWei", TextFaultKind.Control, 3, 0xA)]
    [InlineData("Li\u0085Wei", TextFaultKind.Control, 3, 0x85)]
    [InlineData("Li\u007FWei", TextFaultKind.Control, 3, 0x7F)]
    [InlineData("Li\u2028Wei", TextFaultKind.Control, 3, 0x2028)]
    [InlineData("\u202Eabc", TextFaultKind.Bidi, 1, 0x202E)]
    [InlineData("ab\u2066c\u2069", TextFaultKind.Bidi, 3, 0x2066)]
    [InlineData("ab\u200Fc", TextFaultKind.Bidi, 3, 0x200F)]
    [InlineData("ab\u061Cc", TextFaultKind.Bidi, 3, 0x061C)]
    [InlineData("\u200B", TextFaultKind.Invisible, 1, 0x200B)]
    [InlineData(" \u3000\u00A0", TextFaultKind.Invisible, 1, 0x20)]
    [InlineData("\u3164\u115F\u2800", TextFaultKind.Invisible, 1, 0x3164)]
    [InlineData("\u0301\u20DD", TextFaultKind.Invisible, 1, 0x0301)]
    [InlineData("\uFE0F\u034F", TextFaultKind.Invisible, 1, 0xFE0F)]
    public void ANameIsRefusedForTheFirstThingThatIsWrongAndWhereItIs(string name, TextFaultKind kind, int position, int codePoint) =>
        TextRules.Find(name, TextKind.Line).ShouldBe(new TextFault(kind, position, codePoint));

    [Fact]
    public void HalfASurrogatePairIsABrokenCharacter() =>
        TextRules.Find(new string(['a', 'b', (char)0xD800, 'c']), TextKind.Line).ShouldBe(new TextFault(TextFaultKind.Broken, 3, 0xD800));

    [Fact]
    public void PositionsCountCharactersNotUtf16Units() =>
        TextRules.Find("😀😀\u0000", TextKind.Line).ShouldBe(new TextFault(TextFaultKind.Control, 3, 0));

    [Fact]
    public void ProseMayBreakLinesAndUseTabsButNotOtherControls()
    {
        TextRules.Find("one\r\ntwo\tthree\n", TextKind.Prose).ShouldBeNull();
        TextRules.Find("one\u0000", TextKind.Prose)!.Value.Kind.ShouldBe(TextFaultKind.Control);
        TextRules.Find("one \u202Eowt", TextKind.Prose)!.Value.Kind.ShouldBe(TextFaultKind.Bidi);
        TextRules.Find("\n\t\u200B\n", TextKind.Prose)!.Value.Kind.ShouldBe(TextFaultKind.Invisible);
    }

    [Fact]
    public void EmptyTextIsForTheCallerToJudge()
    {
        TextRules.Find("", TextKind.Line).ShouldBeNull();
        TextRules.Check("title", null, TextKind.Line).ShouldBeNull();
    }

    [Fact]
    public void TheErrorNamesTheFieldThePositionAndTheCharacter()
    {
        var error = TextRules.Check("buyerName", "Acme\u202E", TextKind.Line)!;

        error.Field.ShouldBe("buyerName");
        string.Format(System.Globalization.CultureInfo.InvariantCulture, error.Message, error.Arguments)
            .ShouldBe("This contains a text-direction control character (U+202E) at position 5, which can make it read differently from what it says. Remove it and try again.");
    }
}
