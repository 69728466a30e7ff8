using System.Text.RegularExpressions;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;

namespace Crowd.Server.Features.RateFloors;

/// <summary>The pay-floor rule, with no HTTP or database in it.</summary>
public static class PayFloor
{
    /// <summary>A job may pay no less than the legal part-time minimum, nor less than what the market pays for the same work.</summary>
    public static long Of(long legalMinimumMinor, long marketReferenceMinor) => Math.Max(legalMinimumMinor, marketReferenceMinor);

    public static Money Of(RateFloor floor) => new(Of(floor.LegalMinimumMinor, floor.MarketReferenceMinor), floor.Currency);

    public static bool IsMetBy(Money hourlyRate, RateFloor floor) =>
        string.Equals(hourlyRate.Currency, floor.Currency, StringComparison.Ordinal) && hourlyRate.Minor >= Of(floor).Minor;

    /// <summary>
    /// The highest rate a job in the floor's region may offer: <see cref="JobRules.MaxRateToFloorRatio"/> × the floor, and
    /// never more than <see cref="JobRules.MaxHourlyRateMinor"/> (which is also the ceiling where a floor is zero).
    /// </summary>
    public static Money Ceiling(RateFloor floor)
    {
        var floorMinor = Of(floor).Minor;
        var ceiling = floorMinor <= 0 ? JobRules.MaxHourlyRateMinor : (long)Int128.Min((Int128)floorMinor * JobRules.MaxRateToFloorRatio, JobRules.MaxHourlyRateMinor);
        return new Money(ceiling, floor.Currency);
    }

    public static bool IsUnderCeiling(Money hourlyRate, RateFloor floor) => hourlyRate.Minor <= Ceiling(floor).Minor;

    /// <summary>
    /// How a job's rate compares with the floor of a region (someone's home, not necessarily the job's): against the
    /// region's floor in the rate's currency, else against its floor in another currency without a percentage, since
    /// the platform converts no currencies. Null when the region has no floor.
    /// </summary>
    public static PayComparison? Compare(Money hourlyRate, IReadOnlyCollection<RateFloor> regionFloors)
    {
        var floor = regionFloors.FirstOrDefault(f => string.Equals(f.Currency, hourlyRate.Currency, StringComparison.Ordinal))
            ?? regionFloors.OrderBy(f => f.Currency, StringComparer.Ordinal).FirstOrDefault();
        if (floor is null)
        {
            return null;
        }
        var minimum = Of(floor);
        var comparable = string.Equals(minimum.Currency, hourlyRate.Currency, StringComparison.Ordinal) && minimum.Minor > 0;
        return new PayComparison(hourlyRate, minimum, floor.RegionName, comparable ? PercentAbove(hourlyRate.Minor, minimum.Minor) : null);
    }

    /// <summary>
    /// Whole percent by which a rate exceeds a positive floor (negative below it), rounded towards the floor's side: pay
    /// above it is never overstated, and pay below it is never made to look closer than it is.
    /// </summary>
    public static int PercentAbove(long rateMinor, long floorMinor)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(floorMinor);
        var difference = ((Int128)rateMinor - floorMinor) * 100;
        var percent = difference >= 0 ? difference / floorMinor : -MoneyMath.CeilDiv(-difference, floorMinor);
        return (int)Int128.Clamp(percent, int.MinValue, int.MaxValue);
    }
}

/// <summary>A rate against a region's floor; <see cref="PercentAbove"/> is null when the two are in different currencies.</summary>
public sealed record PayComparison(Money Rate, Money Floor, string RegionName, int? PercentAbove);

public sealed record RateFloorRequest(string? RegionName, Money? LegalMinimum, Money? MarketReference, string? Source);

public sealed record RateFloorResponse(
    string Region, string Currency, string RegionName, Money LegalMinimum, Money MarketReference, Money Floor,
    string FloorFormatted, string Source, DateTimeOffset UpdatedAt)
{
    public static RateFloorResponse From(RateFloor f) => new(
        f.Region, f.Currency, f.RegionName, new Money(f.LegalMinimumMinor, f.Currency), new Money(f.MarketReferenceMinor, f.Currency),
        PayFloor.Of(f), Currencies.Format(PayFloor.Of(f)), f.Source, f.UpdatedAt);
}

public static partial class RateFloorRules
{
    public const int MaxRegionLength = 16;
    public const int MaxRegionNameLength = 100;
    public const int MaxSourceLength = 1_000;

    /// <summary>The highest floor (legal minimum or market reference): a job may pay up to 100× its floor, within the absolute cap.</summary>
    public const long MaxAmountMinor = JobRules.MaxHourlyRateMinor / JobRules.MaxRateToFloorRatio;

    /// <summary>ISO 3166-1 alpha-2, optionally with an ISO 3166-2 subdivision: "GB", "CN-BJ".</summary>
    public static bool IsRegionCode(string? region) =>
        region is { Length: > 0 and <= MaxRegionLength } && RegionShape().IsMatch(region);

    public static List<FieldError> Validate(string region, string currency, RateFloorRequest request, bool creating)
    {
        var errors = new List<FieldError>();
        if (!IsRegionCode(region))
        {
            errors.Add(new("region", "Use a region code like CN-BJ or GB (capital letters, at most {0} characters).", MaxRegionLength));
        }
        if (!Currencies.IsSupported(currency))
        {
            errors.Add(new("currency", "The currency {0} is not supported. Use one of: {1}.", currency, string.Join(", ", Currencies.Supported)));
        }

        var name = request.RegionName?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            if (creating)
            {
                errors.Add(new("regionName", "Enter the region's name, like \"Beijing, mainland China\"."));
            }
        }
        else if (name.Length > MaxRegionNameLength)
        {
            errors.Add(new("regionName", "Keep the region name to {0} characters or fewer.", MaxRegionNameLength));
        }
        else if (TextRules.Check("regionName", name, TextKind.Line) is { } nameText)
        {
            errors.Add(nameText);
        }

        CheckAmount(errors, "legalMinimum", request.LegalMinimum, currency);
        CheckAmount(errors, "marketReference", request.MarketReference, currency);

        var source = request.Source?.Trim();
        if (string.IsNullOrEmpty(source))
        {
            errors.Add(new("source", "Say where the figures come from (law, date, job sites)."));
        }
        else if (source.Length > MaxSourceLength)
        {
            errors.Add(new("source", "Keep the source to {0} characters or fewer.", MaxSourceLength));
        }
        else if (TextRules.Check("source", source, TextKind.Prose) is { } sourceText)
        {
            errors.Add(sourceText);
        }
        return errors;
    }

    private static void CheckAmount(List<FieldError> errors, string field, Money? amount, string currency)
    {
        if (amount is not { } money)
        {
            errors.Add(new(field, "Enter an amount (zero or more)."));
        }
        else if (money.Minor < 0)
        {
            errors.Add(new(field, "The amount cannot be negative."));
        }
        else if (money.Minor > MaxAmountMinor)
        {
            errors.Add(new(field, "A floor can be at most {0}: jobs may pay up to {1} times their floor, and no rate can pass {2}.",
                Currencies.Format(new Money(MaxAmountMinor, currency)), JobRules.MaxRateToFloorRatio,
                Currencies.Format(new Money(JobRules.MaxHourlyRateMinor, currency))));
        }
        else if (money.Currency is not null && !string.Equals(money.Currency, currency, StringComparison.Ordinal))
        {
            errors.Add(new(field, "The amount is in {0} but this floor is in {1}.", money.Currency, currency));
        }
    }

    [GeneratedRegex("^[A-Z]{2}(-[A-Z0-9]{1,3})?$", RegexOptions.CultureInvariant)]
    private static partial Regex RegionShape();
}
