using System.Text.RegularExpressions;
using Crowd.Server.Features.RateFloors;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;

namespace Crowd.Server.Features.Jobs;

/// <summary>A job's fields as a requester sends them; a missing field keeps its current (or default) value.</summary>
public sealed record JobRequest(
    string? Title = null, string? Description = null, string? Language = null, int? TakesPerPrompt = null,
    int? ClipMinMs = null, int? ClipMaxMs = null, double? MinSnrDb = null, double? MaxClippingRatio = null,
    double? MinSpeechRatio = null, string? EnvironmentNotes = null, Money? HourlyRate = null, string? Region = null,
    int? EstimatedSecondsPerClip = null, string? BuyerName = null, bool? PurposeSpeechRecognition = null,
    bool? PurposeVoiceCloning = null, int? RetentionDays = null, int? TargetHours = null, bool? PeerValidation = null, int? SupplierFeeBp = null);

/// <summary>Everything a job asks of a contributor and promises them. Two equal values mean nothing changed.</summary>
/// <param name="PurposeVoiceCloning">Voice cloning / speech synthesis is its own opt-in, never implied by speech recognition.</param>
public sealed record JobTerms(
    string Title = "", string Description = "", string Language = "", int TakesPerPrompt = 1, int ClipMinMs = 1_000,
    int ClipMaxMs = 15_000, double MinSnrDb = 15, double MaxClippingRatio = 0.005, double MinSpeechRatio = 0.3,
    string EnvironmentNotes = "", long HourlyRateMinor = 0, string Currency = "", string Region = "",
    int EstimatedSecondsPerClip = 20, string BuyerName = "", bool PurposeSpeechRecognition = true,
    bool PurposeVoiceCloning = false, int RetentionDays = 365)
{
    public static JobTerms Defaults { get; } = new();

    public Money HourlyRate => new(HourlyRateMinor, Currency);

    public JobTerms With(JobRequest r) => new(
        r.Title?.Trim() ?? Title, r.Description?.Trim() ?? Description, r.Language?.Trim() ?? Language,
        r.TakesPerPrompt ?? TakesPerPrompt, r.ClipMinMs ?? ClipMinMs, r.ClipMaxMs ?? ClipMaxMs, r.MinSnrDb ?? MinSnrDb,
        r.MaxClippingRatio ?? MaxClippingRatio, r.MinSpeechRatio ?? MinSpeechRatio,
        r.EnvironmentNotes?.Trim() ?? EnvironmentNotes, r.HourlyRate?.Minor ?? HourlyRateMinor,
        r.HourlyRate is { } rate ? rate.Currency?.Trim().ToUpperInvariant() ?? "" : Currency,
        r.Region?.Trim().ToUpperInvariant() ?? Region, r.EstimatedSecondsPerClip ?? EstimatedSecondsPerClip,
        r.BuyerName?.Trim() ?? BuyerName, r.PurposeSpeechRecognition ?? PurposeSpeechRecognition,
        r.PurposeVoiceCloning ?? PurposeVoiceCloning, r.RetentionDays ?? RetentionDays);
}

/// <summary>What a job's fields must satisfy before any row is written. Pure: no HTTP, no database.</summary>
public static partial class JobRules
{
    public const int MaxTitleLength = 200;
    public const int MaxDescriptionLength = 10_000;
    public const int MaxLanguageLength = 35;
    public const int MaxTakesPerPrompt = 1_000;
    public const int MaxClipMs = 60_000;
    public const double MaxSnrDb = 60;
    public const int MaxSecondsPerClip = 3_600;
    public const int MaxBuyerNameLength = 200;
    public const int MaxRetentionDays = 1_095;
    public const int MaxEnvironmentNotesLength = 2_000;
    public const int MaxTargetHours = Escrow.BudgetRules.MaxTargetHours;

    /// <summary>
    /// The highest hourly rate any job may offer, whatever its region: 1,000,000.00 in a two-decimal currency. With at most
    /// <see cref="MaxTargetHours"/> hours and fees of at most 100 % and 50 %, every budget stays under 10^15 minor units.
    /// </summary>
    public const long MaxHourlyRateMinor = 100_000_000;

    /// <summary>A rate may be at most this many times its region's floor: a higher one is a typing mistake, not generosity.</summary>
    public const int MaxRateToFloorRatio = 100;

    /// <summary>A BCP 47 language tag in its common shape: "en", "zh-CN", "zh-Hans-CN", "yue".</summary>
    public static bool IsLanguageTag(string? tag) =>
        tag is { Length: > 0 and <= MaxLanguageLength } && LanguageShape().IsMatch(tag);

    public static List<FieldError> Validate(JobTerms t)
    {
        var errors = new List<FieldError>();
        Text(errors, "title", t.Title, TextKind.Line, MaxTitleLength, required: true, "Give the job a title.");
        Text(errors, "description", t.Description, TextKind.Prose, MaxDescriptionLength, required: false, "");
        if (string.IsNullOrEmpty(t.Language))
        {
            errors.Add(new("language", "Enter the language to be recorded, like zh-CN or en."));
        }
        else if (!IsLanguageTag(t.Language))
        {
            errors.Add(new("language", "Use a language tag like zh-CN or en (letters, digits and hyphens, at most {0} characters).", MaxLanguageLength));
        }
        if (t.TakesPerPrompt is < 1 or > MaxTakesPerPrompt)
        {
            errors.Add(new("takesPerPrompt", "Takes per prompt must be between 1 and {0}.", MaxTakesPerPrompt));
        }
        if (t.ClipMinMs <= 0)
        {
            errors.Add(new("clipMinMs", "The shortest clip must be longer than 0 seconds."));
        }
        if (t.ClipMaxMs > MaxClipMs)
        {
            errors.Add(new("clipMaxMs", "The longest clip can be at most {0} seconds.", MaxClipMs / 1000));
        }
        if (t.ClipMinMs > 0 && t.ClipMinMs >= t.ClipMaxMs)
        {
            errors.Add(new("clipMaxMs", "The longest clip must be longer than the shortest clip."));
        }
        Range(errors, "minSnrDb", t.MinSnrDb, 0, MaxSnrDb, "The minimum signal-to-noise ratio must be between 0 and {0} dB.", MaxSnrDb);
        Range(errors, "maxClippingRatio", t.MaxClippingRatio, 0, 1, "The maximum clipping ratio must be between 0 and 1 (0.005 means 0.5 %).");
        Range(errors, "minSpeechRatio", t.MinSpeechRatio, 0, 1, "The minimum speech ratio must be between 0 and 1 (0.3 means 30 %).");
        Text(errors, "environmentNotes", t.EnvironmentNotes, TextKind.Prose, MaxEnvironmentNotesLength, required: false, "");
        if (!Currencies.IsSupported(t.Currency))
        {
            errors.Add(new("currency", "The currency \"{0}\" is not supported. Use one of: {1}.", t.Currency, string.Join(", ", Currencies.Supported)));
        }
        if (t.HourlyRateMinor <= 0)
        {
            errors.Add(new("hourlyRate", "The hourly rate must be more than zero."));
        }
        else if (t.HourlyRateMinor > MaxHourlyRateMinor)
        {
            errors.Add(new("hourlyRate", "The hourly rate can be at most {0}. Check the figure: it looks like a typing mistake.",
                Currencies.Format(new Money(MaxHourlyRateMinor, t.Currency))));
        }
        if (string.IsNullOrEmpty(t.Region))
        {
            errors.Add(new("region", "Choose the region the contributors work in, like CN-BJ."));
        }
        else if (!RateFloorRules.IsRegionCode(t.Region))
        {
            errors.Add(new("region", "Use a region code like CN-BJ or GB (capital letters, at most {0} characters).", RateFloorRules.MaxRegionLength));
        }
        if (t.EstimatedSecondsPerClip is < 1 or > MaxSecondsPerClip)
        {
            errors.Add(new("estimatedSecondsPerClip", "The estimated time per clip must be between 1 and {0} seconds.", MaxSecondsPerClip));
        }
        Text(errors, "buyerName", t.BuyerName, TextKind.Line, MaxBuyerNameLength, required: true, "Name the buyer who will receive the recordings.");
        if (!t.PurposeSpeechRecognition && !t.PurposeVoiceCloning)
        {
            errors.Add(new("purposes", "Choose at least one purpose the recordings will be used for."));
        }
        if (t.RetentionDays is < 1 or > MaxRetentionDays)
        {
            errors.Add(new("retentionDays", "The retention period must be between 1 and {0} days.", MaxRetentionDays));
        }
        return errors;
    }

    public const int MaxSupplierFeeBp = 5_000;

    /// <summary>
    /// The supplier fee rate (basis points of contributor pay, paid on top by the requester). Contributors see it before they
    /// consent, so it is fixed once the job is published; it needs target hours because it is part of the budget.
    /// </summary>
    public static List<FieldError> ValidateSupplierFee(int? supplierFeeBp, int? currentBp, int? targetHours, bool published)
    {
        if (supplierFeeBp is null || supplierFeeBp == (currentBp ?? 0))
        {
            return [];
        }
        if (supplierFeeBp is < 0 or > MaxSupplierFeeBp)
        {
            return [new("supplierFeeBp", "The supplier fee must be between 0 and {0} basis points ({1} %).", MaxSupplierFeeBp, MaxSupplierFeeBp / 100)];
        }
        if (published)
        {
            return [new("supplierFeeBp", "The supplier fee can only be changed before the job is published: contributors see it before they consent.")];
        }
        return targetHours is null
            ? [new("supplierFeeBp", "Set the target hours together with the supplier fee: the fee is part of the job's budget.")]
            : [];
    }

    /// <summary>The hours of recording the job's budget pays for; required before publishing, checked whenever it is sent.</summary>
    public static List<FieldError> ValidateTargetHours(int? targetHours, bool required)
    {
        if (targetHours is null)
        {
            return required ? [new("targetHours", "Set the target hours of recording before publishing; the budget is worked out from them.")] : [];
        }
        return targetHours is < 1 or > MaxTargetHours
            ? [new("targetHours", "Target hours must be between 1 and {0}.", MaxTargetHours)]
            : [];
    }

    private static void Text(List<FieldError> errors, string field, string value, TextKind kind, int max, bool required, string missing)
    {
        if (required && string.IsNullOrEmpty(value))
        {
            errors.Add(new(field, missing));
        }
        else if (value.Length > max)
        {
            errors.Add(new(field, "Keep this to {0} characters or fewer (it has {1}).", max, value.Length));
        }
        else if (TextRules.Check(field, value, kind) is { } error)
        {
            errors.Add(error);
        }
    }

    private static void Range(List<FieldError> errors, string field, double value, double min, double max, string message, params object[] args)
    {
        if (double.IsNaN(value) || value < min || value > max)
        {
            errors.Add(new(field, message, args));
        }
    }

    [GeneratedRegex("^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", RegexOptions.CultureInvariant)]
    private static partial Regex LanguageShape();
}
