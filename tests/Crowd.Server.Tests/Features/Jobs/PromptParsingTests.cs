using System.Text;
using Crowd.Server.Features.Jobs;

namespace Crowd.Server.Tests.Features.Jobs;

public sealed class PromptParsingTests
{
    private static PromptSet Parsed(string text)
    {
        var (prompts, errors) = PromptParsing.Parse(Encoding.UTF8.GetBytes(text));
        errors.ShouldBeEmpty();
        return prompts!;
    }

    private static string OnlyError(byte[] file)
    {
        var (prompts, errors) = PromptParsing.Parse(file);
        prompts.ShouldBeNull();
        var error = errors.ShouldHaveSingleItem();
        error.Field.ShouldBe("prompts");
        return string.Format(System.Globalization.CultureInfo.InvariantCulture, error.Message, error.Arguments);
    }

    [Fact]
    public void OnePromptPerLineWithBlankLinesSkippedAndCrLfHandled() =>
        Parsed("第一句。\r\n\r\n  第二句。  \n\n").Prompts.ShouldBe([new("第一句。", null), new("第二句。", null)]);

    [Fact]
    public void TsvLinesKeepTheirReference() =>
        Parsed("a1\t你好。\n\t没有编号。\n").Prompts.ShouldBe([new("你好。", "a1"), new("没有编号。", null)]);

    [Fact]
    public void AByteOrderMarkIsAllowed() =>
        PromptParsing.Parse([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("hello")]).Prompts!.Prompts.ShouldBe([new("hello", null)]);

    [Fact]
    public void GbkTextIsRefusedNamingTheLineAndByte() =>
        OnlyError([(byte)'o', (byte)'k', (byte)'\n', (byte)'o', (byte)'k', (byte)'\n', 0xC4, 0xE3]).ShouldBe(
            "The prompt file is not UTF-8 text: line 3 has an invalid byte (at byte 7). Save the file as UTF-8 and upload it again.");

    [Fact]
    public void Utf16IsRefused() => OnlyError(Encoding.Unicode.GetBytes("\uFEFFhello")).ShouldContain("not UTF-8");

    [Fact]
    public void APromptOverTheLimitNamesItsLine() =>
        OnlyError(Encoding.UTF8.GetBytes("ok\n" + new string('x', PromptRules.MaxPromptLength + 1))).ShouldBe(
            "Line 2 is 1001 characters long; a prompt can have at most 1000.");

    [Fact]
    public void APromptOfExactlyTheLimitCountingCodePointsIsAccepted() =>
        Parsed(string.Concat(Enumerable.Repeat("😀", PromptRules.MaxPromptLength))).Prompts.ShouldHaveSingleItem();

    [Fact]
    public void AReferenceWithoutTextIsRefused() => OnlyError("a1\t\n"u8.ToArray()).ShouldStartWith("Line 1 has a reference");

    [Fact]
    public void AnEmptyFileIsRefused() => OnlyError("\n\n  \n"u8.ToArray()).ShouldStartWith("The prompt file has no prompts");

    [Fact]
    public void OneHundredThousandPromptsAreAcceptedAndOneMoreIsNot()
    {
        var lines = string.Concat(Enumerable.Range(1, PromptRules.MaxPromptsPerJob).Select(i => $"p{i}\n"));
        Parsed(lines).Prompts.Count.ShouldBe(100_000);
        OnlyError(Encoding.UTF8.GetBytes(lines + "\nlast")).ShouldBe(
            "The file has more than 100000 prompts (line 100002 is one too many). Split it into several jobs.");
    }

    [Fact]
    public void AFileOverTheSizeLimitIsRefusedBeforeDecoding() =>
        OnlyError(new byte[PromptRules.MaxUploadBytes + 1]).ShouldContain("the limit is 20 MB");

    [Fact]
    public void TheHashFollowsTheContentAndOrder()
    {
        var a = Parsed("one\ntwo").Sha256;
        Parsed("one\n\ntwo\n").Sha256.ShouldBe(a);
        Parsed("two\none").Sha256.ShouldNotBe(a);
        Parsed("r\tone\ntwo").Sha256.ShouldNotBe(a);
        a.Length.ShouldBe(64);
    }
}
