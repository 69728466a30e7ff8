using System.Security.Cryptography;
using System.Text;
using Crowd.Server.Infrastructure.Web;

namespace Crowd.Server.Features.Jobs;

public sealed record ParsedPrompt(string Text, string? ExternalRef);

/// <summary>Prompts read from a file, with the SHA-256 of their content (what a contributor's consent covers).</summary>
public sealed record PromptSet(IReadOnlyList<ParsedPrompt> Prompts, string Sha256)
{
    public static PromptSet Empty { get; } = new([], Hash([]));

    public static string Hash(IEnumerable<ParsedPrompt> prompts)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var p in prompts)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{p.ExternalRef}\t{p.Text}\n"));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}

/// <summary>
/// Reads a prompt file: UTF-8 (a BOM is allowed), one prompt per line, blank lines skipped, "ref&lt;TAB&gt;text" keeps the ref.
/// Pure: no HTTP, no database. Errors name the line so a person can fix the file.
/// </summary>
public static class PromptParsing
{
    public const string Field = "prompts";
    public const int MaxExternalRefLength = 200;
    private const int MaxErrors = 20;
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static (PromptSet? Prompts, List<FieldError> Errors) Parse(ReadOnlySpan<byte> file)
    {
        var errors = new List<FieldError>();
        if (file.Length > PromptRules.MaxUploadBytes)
        {
            errors.Add(TooLarge(file.Length));
            return (null, errors);
        }
        if (file.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            file = file[3..];
        }

        string text;
        try
        {
            text = s_strictUtf8.GetString(file);
        }
        catch (DecoderFallbackException e)
        {
            var at = Math.Clamp(e.Index, 0, file.Length);
            var line = file[..at].Count((byte)'\n') + 1;
            errors.Add(new(Field, "The prompt file is not UTF-8 text: line {0} has an invalid byte (at byte {1}). Save the file as UTF-8 and upload it again.",
                line, at + 1));
            return (null, errors);
        }
        return Parse(text);
    }

    /// <summary>bytes is null when the upload was cut off at the limit and its size is unknown.</summary>
    public static FieldError TooLarge(long? bytes) =>
        bytes is { } size
            ? new(Field, "The prompt file is {0:0.0} MB; the limit is {1} MB. Split it into several jobs.", size / 1048576.0, PromptRules.MaxUploadBytes / 1048576)
            : new(Field, "The prompt file is larger than {0} MB. Split it into several jobs.", PromptRules.MaxUploadBytes / 1048576);

    public static (PromptSet? Prompts, List<FieldError> Errors) Parse(string text)
    {
        var errors = new List<FieldError>();
        var prompts = new List<ParsedPrompt>();
        var lineNumber = 0;
        var rest = text.AsSpan();
        // Lines end at '\n' only (with an optional '\r'), so line numbers match what a text editor shows.
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf('\n');
            var rawLine = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 1)..];
            lineNumber++;
            if (rawLine.IsWhiteSpace())
            {
                continue;
            }
            if (prompts.Count == PromptRules.MaxPromptsPerJob)
            {
                errors.Add(new(Field, "The file has more than {0} prompts (line {1} is one too many). Split it into several jobs.",
                    PromptRules.MaxPromptsPerJob, lineNumber));
                break;
            }

            string? externalRef = null;
            var line = rawLine;
            var tab = line.IndexOf('\t');
            if (tab >= 0)
            {
                var reference = line[..tab].Trim();
                externalRef = reference.IsEmpty ? null : reference.ToString();
                line = line[(tab + 1)..];
            }
            line = line.Trim();
            if (tab >= 0 && line.IsEmpty)
            {
                errors.Add(new(Field, "Line {0} has a reference but no prompt text after the tab.", lineNumber));
            }
            else if (externalRef is { Length: > MaxExternalRefLength })
            {
                errors.Add(new(Field, "Line {0}: the reference before the tab is longer than {1} characters.", lineNumber, MaxExternalRefLength));
            }
            if ((TextRules.Find(line, TextKind.Line) ?? TextRules.Find(externalRef, TextKind.Line)) is { } fault)
            {
                errors.Add(LineError(lineNumber, fault));
            }
            else if (line.Length > PromptRules.MaxPromptLength && CodePoints(line) > PromptRules.MaxPromptLength)
            {
                errors.Add(new(Field, "Line {0} is {1} characters long; a prompt can have at most {2}.",
                    lineNumber, CodePoints(line), PromptRules.MaxPromptLength));
            }
            if (errors.Count >= MaxErrors)
            {
                break;
            }
            if (!line.IsEmpty)
            {
                prompts.Add(new ParsedPrompt(line.ToString(), externalRef));
            }
        }
        if (errors.Count > 0)
        {
            return (null, errors);
        }
        if (prompts.Count == 0)
        {
            errors.Add(new(Field, "The prompt file has no prompts. Put one prompt on each line."));
            return (null, errors);
        }
        return (new PromptSet(prompts, PromptSet.Hash(prompts)), errors);
    }

    private static FieldError LineError(int line, TextFault fault) => fault.Kind switch
    {
        TextFaultKind.Control when fault.CodePoint == 0 =>
            new(Field, "Line {0} contains a NUL character; the file may be UTF-16. Save it as UTF-8.", line),
        TextFaultKind.Control =>
            new(Field, "Line {0} contains an invisible control character ({1}) at position {2}. Remove it and upload the file again.",
                line, fault.CodePointName, fault.Position),
        TextFaultKind.Bidi =>
            new(Field, "Line {0} contains a text-direction control character ({1}) at position {2}, which can make the prompt read differently from what it says. Remove it and upload the file again.",
                line, fault.CodePointName, fault.Position),
        TextFaultKind.Broken => new(Field, "Line {0} contains a broken character at position {1}. Save the file as UTF-8 and upload it again.", line, fault.Position),
        _ => new(Field, "Line {0} has no visible characters. Write the prompt or remove the line.", line),
    };

    private static int CodePoints(ReadOnlySpan<char> text)
    {
        var count = 0;
        foreach (var _ in text.EnumerateRunes())
        {
            count++;
        }
        return count;
    }
}
