using Crowd.Server.Features.Exports.Contributor;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.Exports;

/// <summary>The server as it runs: with its job server on, which prepares exports on its own.</summary>
public sealed class WorkingExportsApp : ExportsApp
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crowd:Scheduler:Enabled", "true");
        builder.UseSetting("Crowd:Scheduler:Workers", "2");
    }
}

public sealed class ContributorExportWorkerTests(WorkingExportsApp app) : IClassFixture<WorkingExportsApp>
{
    [Fact]
    public async Task TheJobServerPreparesARequestedExportWithoutAnyoneWaitingOnThePage()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 2);
        var me = await RecordingTestData.ContributorAsync(app);
        var consent = await ExportTestData.ConsentAsync(app, job, me.Id);
        await ExportTestData.ClipAsync(app, job, me.Id, consent, 0);
        await ExportTestData.ClipAsync(app, job, me.Id, consent, 1);
        var client = await app.SignedInClientAsync(me.Email!);

        await client.SubmitAsync("/Account/Export?handler=Prepare");

        await Eventually.TrueAsync(() => app.WithDbAsync(db => db.Set<ContributorExport>().AnyAsync(e => e.ContributorId == me.Id && e.State == ContributorExportState.Ready)),
            "the job server to prepare the export", TimeSpan.FromSeconds(60));
        var export = await app.WithDbAsync(db => db.Set<ContributorExport>().AsNoTracking().SingleAsync(e => e.ContributorId == me.Id));
        export.State.ShouldBe(ContributorExportState.Ready);
        (export.ItemsDone, export.ItemsTotal).ShouldBe((6, 6), "two recordings and four data files");
        export.ExpiresAt.ShouldBe(export.ReadyAt!.Value.AddHours(24));
        (await client.GetPageAsync("/Account/Export")).ShouldContain("Your data is ready");
    }
}
