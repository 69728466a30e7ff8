using Microsoft.EntityFrameworkCore;
using System.Security.Cryptography;
using System.Text;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Features.Recording.Sessions;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.AspNetCore.Hosting;

namespace Crowd.Server.Tests.Features.Recording;

/// <summary>The server with recording settings small enough for tests, and clips in a folder of its own.</summary>
public class RecordingApp : CrowdApp
{
    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "crowd-rec-" + Guid.NewGuid().ToString("N")[..12]);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crowd:DataDirectory", DataDirectory);
        // Recording tests open many connections at once (50 parallel claims); give them back to the shared test
        // cluster soon after, so that the other test classes do not run out of connections.
        builder.UseSetting("ConnectionStrings:Crowd", ApplicationConnectionString + ";Connection Idle Lifetime=2;Connection Pruning Interval=1");
        builder.UseSetting("Logging:LogLevel:Microsoft.AspNetCore.SignalR", "Critical");
        builder.UseSetting("Crowd:Recording:MaxTakeSeconds", "20");
    }
}

public sealed record TestJob(Guid Id, int Version, Guid[] PromptIds);

public static class RecordingTestData
{
    /// <summary>A job as publishing leaves it: Published, version 1 with its terms, its prompts and a funded budget.</summary>
    public static async Task<TestJob> PublishedJobAsync(CrowdApp app, int prompts = 3, int takesPerPrompt = 1, string title = "Read short sentences",
        long hourlyRateMinor = 3000, Action<Job>? adjust = null)
    {
        var org = new Organisation { Id = Guid.CreateVersion7(), Name = "Acme Speech AI", Kind = OrganisationKind.Requester, CreatedAt = DateTimeOffset.UtcNow };
        await app.WithDbAsync(async db =>
        {
            db.Organisations.Add(org);
            await db.SaveChangesAsync();
        });
        var requester = await app.CreateUserAsync(Roles.Requester, organisationId: org.Id);
        var now = DateTimeOffset.UtcNow;
        var job = new Job
        {
            Id = Guid.CreateVersion7(),
            OrganisationId = org.Id,
            CreatedByUserId = requester.Id,
            Status = JobStatus.Published,
            Version = 1,
            Terms = new JobTerms(
                Title: title,
                Description: "Read each sentence aloud in a quiet room.",
                Language: "en",
                TakesPerPrompt: takesPerPrompt,
                ClipMinMs: 1_000,
                ClipMaxMs: 15_000,
                MinSnrDb: 15,
                MaxClippingRatio: 0.005,
                MinSpeechRatio: 0.2,
                HourlyRateMinor: hourlyRateMinor,
                Currency: "CNY",
                Region: "CN-BJ",
                BuyerName: "Acme Speech AI",
                RetentionDays: 365),
            PromptCount = prompts,
            CreatedAt = now,
            UpdatedAt = now,
            PublishedAt = now,
        };
        adjust?.Invoke(job);
        var terms = $$"""{"title":"{{job.Terms.Title}}","buyer":"{{job.Terms.BuyerName}}","hourlyRateMinor":{{job.Terms.HourlyRateMinor}}}""";
        var promptRows = Enumerable.Range(1, prompts).Select(i => new Prompt
        {
            Id = Guid.CreateVersion7(),
            JobId = job.Id,
            Ordinal = i,
            Text = $"Sentence number {i}: the quick brown fox jumps over the lazy dog.",
        }).ToArray();
        await app.WithDbAsync(async db =>
        {
            db.Jobs.Add(job);
            db.JobVersions.Add(new JobVersion
            {
                JobId = job.Id,
                Version = 1,
                TermsJson = terms,
                TermsSha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(terms))),
                PublishedAt = now,
                PurposeSpeechRecognition = job.Terms.PurposeSpeechRecognition,
                PurposeVoiceCloning = job.Terms.PurposeVoiceCloning,
            });
            db.Prompts.AddRange(promptRows);
            await db.SaveChangesAsync();
            await BudgetAndFundAsync(db, job.Id);
        });
        return new TestJob(job.Id, job.Version, promptRows.Select(p => p.Id).ToArray());
    }

    /// <summary>A published, funded job with its prompts written straight into a database that real server processes use.</summary>
    public static async Task<Guid> SeededJobAsync(string connectionString, int prompts, int takesPerPrompt = 1, int maxTakesPerSpeaker = 200,
        int targetHours = 100)
    {
        await using var db = new CrowdDb(new DbContextOptionsBuilder<CrowdDb>().UseNpgsql(connectionString).Options);
        var now = DateTimeOffset.UtcNow;
        var org = new Organisation { Id = Guid.CreateVersion7(), Name = "Acme Speech AI", Kind = OrganisationKind.Requester, CreatedAt = now };
        var requester = new CrowdUser
        {
            Id = Guid.CreateVersion7(), UserName = TestAccounts.NewEmail("requester"), DisplayName = "Requester", DateOfBirth = new DateOnly(1980, 1, 1),
            OrganisationId = org.Id, CreatedAt = now, SecurityStamp = Guid.NewGuid().ToString(),
        };
        var job = new Job
        {
            Id = Guid.CreateVersion7(), OrganisationId = org.Id, CreatedByUserId = requester.Id, Status = JobStatus.Published, Version = 1,
            Terms = new JobTerms(Title: "Read aloud", Language: "en", TakesPerPrompt: takesPerPrompt, HourlyRateMinor: 3000, Currency: "CNY",
                Region: "CN-BJ", BuyerName: "Acme Speech AI", MinSpeechRatio: 0.2),
            MaxTakesPerSpeaker = maxTakesPerSpeaker, PromptCount = prompts, CreatedAt = now, UpdatedAt = now, PublishedAt = now,
        };
        db.Organisations.Add(org);
        db.Users.Add(requester);
        db.Jobs.Add(job);
        db.JobVersions.Add(new JobVersion { JobId = job.Id, Version = 1, TermsJson = "{}", TermsSha256 = Convert.ToHexStringLower(SHA256.HashData("{}"u8)), PublishedAt = now });
        db.Prompts.AddRange(Enumerable.Range(1, prompts).Select(i => new Prompt { Id = Guid.CreateVersion7(), JobId = job.Id, Ordinal = i, Text = $"Sentence {i}." }));
        await db.SaveChangesAsync();
        await BudgetAndFundAsync(db, job.Id, targetHours);
        return job.Id;
    }

    /// <summary>Gives a job a budget of <paramref name="targetHours"/> (with the usual 10 % platform fee) and funds all of it.</summary>
    public static async Task BudgetAndFundAsync(CrowdDb db, Guid jobId, int targetHours = 100)
    {
        var escrow = new EscrowService(db, TimeProvider.System, NullLogger<EscrowService>.Instance);
        (await escrow.SetBudgetAsync(jobId, targetHours, platformFeeBp: 1000, supplierFeeBp: 0)).ShouldBeEmpty();
        await JobsTestData.FundAsync(db, jobId);
    }

    public static async Task<CrowdUser> ContributorAsync(CrowdApp app, TestJob? consentTo = null)
    {
        var user = await app.CreateUserAsync(Roles.Contributor);
        if (consentTo is not null)
        {
            await ConsentAsync(app, consentTo, user.Id);
        }
        return user;
    }

    public static Task ConsentAsync(CrowdApp app, TestJob job, Guid contributorId) =>
        app.WithDbAsync(async db =>
        {
            db.Consents.Add(new ConsentRecord
            {
                Id = Guid.CreateVersion7(),
                JobId = job.Id,
                JobVersion = job.Version,
                ContributorId = contributorId,
                TermsSha256 = new string('0', 64),
                GivenAt = DateTimeOffset.UtcNow,
            });
            await db.SaveChangesAsync();
        });

    /// <summary>A session as joining leaves it; joining needs a live consent, so one is given if there is none.</summary>
    public static async Task<Guid> OpenSessionRowAsync(CrowdApp app, TestJob job, Guid contributorId)
    {
        var consented = false;
        await app.WithDbAsync(async db => consented = await db.Consents.AnyAsync(c =>
            c.JobId == job.Id && c.JobVersion == job.Version && c.ContributorId == contributorId && c.WithdrawnAt == null));
        if (!consented)
        {
            await ConsentAsync(app, job, contributorId);
        }
        var now = DateTimeOffset.UtcNow;
        var session = new WorkerSession
        {
            Id = Guid.CreateVersion7(),
            JobId = job.Id,
            JobVersion = job.Version,
            ContributorId = contributorId,
            State = WorkerSessionState.Open,
            StartedAt = now,
            LastActivityAt = now,
            LastCheckpointAt = now,
        };
        await app.WithDbAsync(async db =>
        {
            db.WorkerSessions.Add(session);
            await db.SaveChangesAsync();
        });
        return session.Id;
    }
}
