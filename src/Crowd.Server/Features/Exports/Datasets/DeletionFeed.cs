using System.Security.Cryptography;
using Crowd.Server.Features.DeletionNotices;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Exports.Datasets;

/// <summary>One clip an organisation received in an export and must delete. Rows are only ever added (the table refuses the rest).</summary>
public sealed class DatasetDeletion
{
    public long Seq { get; set; }
    public Guid OrganisationId { get; set; }
    public Guid ClipId { get; set; }
    public Guid ExportId { get; set; }
    public DeletionReason Reason { get; set; }
    public DateTimeOffset RecordedAt { get; set; }
}

/// <summary>
/// The buyers' deletion feed: every clip withdrawn (or past retention) from each organisation's exports, numbered in
/// the order the deletions committed, served in signed pages so a buyer can check them offline and keep a fixed list.
/// </summary>
public sealed class DeletionFeed(CrowdDb db, DatasetSigningKeys keys, TimeProvider clock)
{
    public const int PageSize = 1_000;

    /// <summary>
    /// Inside the caller's transaction (the one that destroys the clips): one row per recipient of each clip. Appends are
    /// serialised by a transaction lock, so sequence numbers are handed out in commit order and a reader that asks for
    /// everything after N never misses a row that commits later with a smaller number.
    /// </summary>
    public static async Task AppendAsync(CrowdDb db, IReadOnlyCollection<Guid> clipIds, DeletionReason reason, DateTimeOffset now, CancellationToken ct)
    {
        var ids = clipIds.ToArray();
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtext('dataset_deletions'))", ct);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO dataset_deletions (organisation_id, clip_id, export_id, reason, recorded_at)
            SELECT organisation_id, clip_id, export_id, {(int)reason}, {now} FROM clip_recipients WHERE clip_id = ANY({ids})
            ORDER BY exported_at, clip_id
            ON CONFLICT DO NOTHING
            """, ct);
    }

    /// <summary>The organisation's deletions after <paramref name="since"/>, at most a page, signed by the current key.</summary>
    public async Task<SignedFeed> PageAsync(Guid organisationId, long since, CancellationToken ct)
    {
        var rows = await db.Set<DatasetDeletion>().AsNoTracking()
            .Where(d => d.OrganisationId == organisationId && d.Seq > since)
            .OrderBy(d => d.Seq).Take(PageSize + 1).ToListAsync(ct);
        var more = rows.Count > PageSize;
        var entries = rows.Take(PageSize)
            .Select(d => new FeedEntry(d.Seq, d.ClipId, d.ExportId, DeletionNoticeWriter.ReasonCode(d.Reason), d.RecordedAt)).ToList();
        var (keyId, privateKey) = await keys.CurrentAsync(ct);
        var page = new DeletionFeedPage(organisationId, since, entries.Count == 0 ? since : entries[^1].Seq, more, clock.GetUtcNow(), entries);
        try
        {
            return DatasetSignature.SignFeed(page, keyId, privateKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(privateKey);
        }
    }
}

internal sealed class DatasetDeletionConfiguration : IEntityTypeConfiguration<DatasetDeletion>
{
    public void Configure(EntityTypeBuilder<DatasetDeletion> e)
    {
        e.ToTable("dataset_deletions");
        e.HasKey(x => x.Seq);
        e.Property(x => x.Seq).UseIdentityAlwaysColumn();
        e.HasIndex(x => new { x.OrganisationId, x.Seq });
        e.HasIndex(x => new { x.OrganisationId, x.ClipId, x.ExportId }).IsUnique();
        e.HasOne<Accounts.Organisation>().WithMany().HasForeignKey(x => x.OrganisationId).OnDelete(DeleteBehavior.Restrict);
    }
}
