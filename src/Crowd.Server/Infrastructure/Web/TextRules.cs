using System.Globalization;
using System.Text;

namespace Crowd.Server.Infrastructure.Web;

/// <summary>How a stored text is read: one line (a name, title, buyer name, prompt, reference) or paragraphs.</summary>
public enum TextKind
{
    /// <summary>Names, titles, buyer names, prompts, references: shown inline, copied into consent texts and mails.</summary>
    Line,
    /// <summary>Descriptions, notes, reasons: line breaks and tabs are welcome.</summary>
    Prose,
}

public enum TextFaultKind
{
    /// <summary>A C0/C1 control character (NUL among them), or a line break in a one-line text.</summary>
    Control,
    /// <summary>A bidirectional formatting character: it can make text display in another order than it is stored.</summary>
    Bidi,
    /// <summary>Half of a surrogate pair: not a character at all.</summary>
    Broken,
    /// <summary>Nothing a reader would see: only spaces, zero-width or other invisible characters.</summary>
    Invisible,
}

/// <summary>What is wrong with a text, and where: Position counts characters from 1; CodePoint is the offending one.</summary>
public readonly record struct TextFault(TextFaultKind Kind, int Position, int CodePoint)
{
    public string CodePointName => string.Create(CultureInfo.InvariantCulture, $"U+{CodePoint:X4}");
}

/// <summary>
/// The one rule for free text the platform stores and shows to others. PostgreSQL cannot store NUL, control characters
/// have no business in a name, and bidirectional overrides or invisible-only names let a buyer's or requester's name in
/// a consent text read differently from what is stored. Pure: every validator calls it, none repeats it.
/// </summary>
public static class TextRules
{
    /// <summary>The first thing wrong with the text, or null when it may be stored. Empty text is the caller's to judge.</summary>
    public static TextFault? Find(ReadOnlySpan<char> text, TextKind kind)
    {
        if (text.IsEmpty)
        {
            return null;
        }
        var position = 0;
        var visible = false;
        var rest = text;
        while (!rest.IsEmpty)
        {
            position++;
            if (Rune.DecodeFromUtf16(rest, out var rune, out var used) != System.Buffers.OperationStatus.Done)
            {
                return new TextFault(TextFaultKind.Broken, position, rest[0]);
            }
            rest = rest[used..];
            var value = rune.Value;
            if (IsBidiControl(value))
            {
                return new TextFault(TextFaultKind.Bidi, position, value);
            }
            if (IsControl(rune, kind))
            {
                return new TextFault(TextFaultKind.Control, position, value);
            }
            visible |= !IsInvisible(rune);
        }
        return visible ? null : new TextFault(TextFaultKind.Invisible, 1, text[0]);
    }

    /// <summary>The field error for a text that may not be stored, in words a person can act on; null when it may.</summary>
    public static FieldError? Check(string field, string? text, TextKind kind) =>
        Find(text, kind) is { } fault ? Error(field, fault) : null;

    public static FieldError Error(string field, TextFault fault) => fault.Kind switch
    {
        TextFaultKind.Control when fault.CodePoint == 0 =>
            new(field, "This contains a NUL character at position {0}. Remove it and try again.", fault.Position),
        TextFaultKind.Control =>
            new(field, "This contains an invisible control character ({1}) at position {0}. Remove it and try again.", fault.Position, fault.CodePointName),
        TextFaultKind.Bidi =>
            new(field, "This contains a text-direction control character ({1}) at position {0}, which can make it read differently from what it says. Remove it and try again.",
                fault.Position, fault.CodePointName),
        TextFaultKind.Broken =>
            new(field, "This contains a broken character at position {0}. Type the text again.", fault.Position),
        _ => new(field, "This has no visible characters. Enter text a person can read."),
    };

    /// <summary>Embedding, override and isolate controls and the directional marks (Unicode's Bidi_Control property).</summary>
    private static bool IsBidiControl(int c) =>
        c is 0x061C or 0x200E or 0x200F or (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069);

    private static bool IsControl(Rune rune, TextKind kind)
    {
        if (kind == TextKind.Prose && rune.Value is '\n' or '\r' or '\t')
        {
            return false;
        }
        return Rune.IsControl(rune) || rune.Value is 0x2028 or 0x2029;
    }

    /// <summary>Characters that draw nothing on their own: spaces, format characters (zero-width and the like), fillers, lone marks.</summary>
    private static bool IsInvisible(Rune rune) =>
        Rune.IsWhiteSpace(rune)
        || Rune.GetUnicodeCategory(rune) is UnicodeCategory.Format or UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.Control
        || rune.Value is 0x115F or 0x1160 or 0x3164 or 0xFFA0 or 0x2800 or 0x180E;
}
