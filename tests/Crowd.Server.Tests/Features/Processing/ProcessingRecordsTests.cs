using System.Net;
using System.Net.Http.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Processing;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Features.Withdrawal;
using Crowd.Server.Tests.Infrastructure;

namespace Crowd.Server.Tests.Features.Processing;

public sealed class ProcessingRecordsTests(WithdrawalApp app) : IClassFixture<WithdrawalApp>
{
    [Fact]
    public async Task EachJobListsItsPurposesCategoriesRecipientsRetentionMeasuresAndCounts()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 2, title: "Read weather reports",
            adjust: j => j.Terms = j.Terms with { PurposeSpeechRecognition = true, RetentionDays = 180 });
        var stays = await RecordingTestData.ContributorAsync(app, job);
        var leaves = await RecordingTestData.ContributorAsync(app, job);
        await WithdrawalTestData.StoredClipAsync(app, job, stays.Id, prompt: 0);
        var withdrawn = await WithdrawalTestData.StoredClipAsync(app, job, leaves.Id, prompt: 1);
        var reseller = await app.CreateOrganisationAsync(name: "Reseller Data Ltd");
        await WithdrawalTestData.ExportedToAsync(app, reseller, withdrawn);
        (await (await app.SignedInClientAsync(leaves.Email!)).PostAsync($"/api/me/jobs/{job.Id}/withdraw", null)).EnsureSuccessStatusCode();
        var admin = await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);

        var report = (await admin.GetFromJsonAsync<ProcessingReport>("/api/admin/processing.json"))!;

        var record = report.Jobs.Single(r => r.JobId == job.Id);
        record.Controller.ShouldBe("Acme Speech AI");
        record.Purposes.ShouldBe([ProcessingRecords.SpeechRecognition]);
        record.DataCategories.ShouldContain(new DataCategory("Voice recordings (biometric data)", true));
        record.Recipients.ShouldBe(["Acme Speech AI", "Reseller Data Ltd"]);
        record.RetentionDays.ShouldBe(180);
        record.SecurityMeasures.ShouldContain(m => m.StartsWith("AES-256-GCM", StringComparison.Ordinal));
        record.Counts.ShouldBe(new ProcessingCounts(ConsentsGiven: 2, ConsentsWithdrawn: 1, ClipsRecorded: 2, AudioDestroyed: 1));
        var page = await admin.GetPageAsync("/Admin/Processing");
        page.ShouldContain("Read weather reports");
        page.ShouldContain("Voice recordings (biometric data)");
        var chinese = await admin.GetPageAsync("/Admin/Processing/Report", "zh-Hans");
        chinese.ShouldContain("处理活动记录");
        chinese.ShouldContain("语音录音（生物识别数据）");
        chinese.ShouldNotContain("site.css", Case.Sensitive, "the report is a standalone page");
    }

    [Fact]
    public async Task TheReportDownloadsAsAFileAndIsForAdminsOnly()
    {
        var admin = await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);
        var requester = await app.RequesterAsync();

        using var download = await admin.GetAsync("/Admin/Processing/Report?download=true");
        using var refused = await requester.Client.GetAsync("/api/admin/processing.json");

        download.StatusCode.ShouldBe(HttpStatusCode.OK);
        download.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
        refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }
}
