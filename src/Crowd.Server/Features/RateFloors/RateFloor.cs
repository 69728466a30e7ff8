namespace Crowd.Server.Features.RateFloors;

/// <summary>
/// The lowest hourly rate a job in a region may pay: the larger of the legal part-time minimum and
/// the market reference rate for recording work.
/// </summary>
public sealed class RateFloor
{
    public string Region { get; set; } = "";
    public string Currency { get; set; } = "";
    public string RegionName { get; set; } = "";
    public long LegalMinimumMinor { get; set; }
    public long MarketReferenceMinor { get; set; }
    public string Source { get; set; } = "";
    public DateTimeOffset UpdatedAt { get; set; }
    public Guid? UpdatedByUserId { get; set; }

    public long FloorMinor => PayFloor.Of(LegalMinimumMinor, MarketReferenceMinor);
}
