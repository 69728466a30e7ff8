using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

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

internal sealed class RateFloorConfiguration : IEntityTypeConfiguration<RateFloor>
{
    public void Configure(EntityTypeBuilder<RateFloor> e)
    {
        e.HasKey(f => new { f.Region, f.Currency });
        e.Property(f => f.Region).HasMaxLength(16);
        e.Property(f => f.Currency).HasMaxLength(3).IsFixedLength();
        e.Property(f => f.RegionName).HasMaxLength(100);
        e.Property(f => f.Source).HasMaxLength(1000);
        e.Ignore(f => f.FloorMinor);
    }
}
