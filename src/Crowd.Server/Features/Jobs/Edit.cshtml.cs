using System.Globalization;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.RateFloors;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Jobs;

/// <summary>Target hours × rate, plus the platform fee (percent), is the budget the escrow must hold.</summary>
public sealed record BudgetPreview(int TargetHours, Money Rate, Money Pay, decimal PlatformFeePercent, Money PlatformFee, Money Budget);

/// <summary>A problem that would stop publishing, with the form field it belongs to.</summary>
public sealed record FormProblem(string Field, string Message);

/// <summary>The job editor's live feedback: every text formatted by the server in the requester's language.</summary>
public sealed record JobFormFeedback(string Currency, string Floor, string Budget, IReadOnlyList<FormProblem> Problems);

/// <summary>The job editor's fields as a person types them: seconds, percentages and major-unit money.</summary>
public sealed class JobForm
{
    public string? Title { get; set; }
    public string? Description { get; set; }
    public string? Language { get; set; } = "zh-CN";
    public int TakesPerPrompt { get; set; } = 1;
    public double ClipMinSeconds { get; set; } = 1;
    public double ClipMaxSeconds { get; set; } = 15;
    public double MinSnrDb { get; set; } = 15;
    public double MaxClippingPercent { get; set; } = 0.5;
    public double MinSpeechPercent { get; set; } = 30;
    public string? EnvironmentNotes { get; set; }
    public string? HourlyRate { get; set; }
    public string Currency { get; set; } = "CNY";
    public string? Region { get; set; } = "CN-BJ";
    public int EstimatedSecondsPerClip { get; set; } = 20;
    public string? BuyerName { get; set; }
    public bool PurposeSpeechRecognition { get; set; } = true;
    public bool PurposeVoiceCloning { get; set; }
    public int RetentionDays { get; set; } = 365;
    public int? TargetHours { get; set; }
    /// <summary>The supplier fee in percent of contributor pay, paid on top; shown to contributors before they consent.</summary>
    public decimal SupplierFeePercent { get; set; }
    public string? Prompts { get; set; }
    public bool PeerValidation { get; set; }

    public static JobForm From(Job j, int? targetHours, int supplierFeeBp = 0)
    {
        var t = j.Terms;
        return new()
        {
            Title = t.Title, Description = t.Description, Language = t.Language, TakesPerPrompt = t.TakesPerPrompt,
            ClipMinSeconds = t.ClipMinMs / 1000.0, ClipMaxSeconds = t.ClipMaxMs / 1000.0, MinSnrDb = t.MinSnrDb,
            MaxClippingPercent = Math.Round(t.MaxClippingRatio * 100, 4), MinSpeechPercent = Math.Round(t.MinSpeechRatio * 100, 4),
            EnvironmentNotes = t.EnvironmentNotes, HourlyRate = Currencies.ToMajor(t.HourlyRate).ToString(CultureInfo.InvariantCulture),
            Currency = t.Currency, Region = t.Region, EstimatedSecondsPerClip = t.EstimatedSecondsPerClip, BuyerName = t.BuyerName,
            PurposeSpeechRecognition = t.PurposeSpeechRecognition, PurposeVoiceCloning = t.PurposeVoiceCloning, RetentionDays = t.RetentionDays,
            TargetHours = targetHours, PeerValidation = j.PeerValidation, SupplierFeePercent = supplierFeeBp / 100m,
        };
    }

    public JobRequest ToRequest(long? rateMinor) => new(
        Title ?? "", Description ?? "", Language ?? "", TakesPerPrompt, (int)Math.Round(ClipMinSeconds * 1000), (int)Math.Round(ClipMaxSeconds * 1000),
        MinSnrDb, MaxClippingPercent / 100, MinSpeechPercent / 100, EnvironmentNotes ?? "", new Money(rateMinor ?? 0, Currency ?? ""),
        Region ?? "", EstimatedSecondsPerClip, BuyerName ?? "", PurposeSpeechRecognition, PurposeVoiceCloning, RetentionDays, TargetHours,
        PeerValidation, SupplierFeeBp);

    /// <summary>The percentage as basis points; a figure far out of range stays out of range (and is refused) instead of overflowing.</summary>
    public int SupplierFeeBp => (int)Math.Round(Math.Clamp(SupplierFeePercent, -1m, 101m) * 100);

    /// <summary>The form field that shows an error the rules report under an API field name.</summary>
    public static string FieldFor(string apiField) => apiField switch
    {
        "clipMinMs" => nameof(ClipMinSeconds),
        "clipMaxMs" => nameof(ClipMaxSeconds),
        "maxClippingRatio" => nameof(MaxClippingPercent),
        "minSpeechRatio" => nameof(MinSpeechPercent),
        "purposes" => nameof(PurposeSpeechRecognition),
        "supplierFeeBp" => nameof(SupplierFeePercent),
        _ => char.ToUpperInvariant(apiField[0]) + apiField[1..],
    };
}

[Authorize(Policy = Roles.Requester)]
[RequestSizeLimit(PromptRules.MaxUploadRequestBytes)]
public sealed class EditModel(JobService jobs, CrowdDb db, IStringLocalizer<JobsText> text, IStringLocalizer<RateFloorsText> floorText,
    IOptions<CrowdOptions> options, FundingPanels fundingPanels) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public Guid? Id { get; set; }

    [BindProperty]
    public JobForm Form { get; set; } = new();

    [BindProperty]
    public IFormFile? PromptsFile { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Done { get; set; }

    /// <summary>What brought the requester back from paying (see <see cref="FundingPanel.Returned"/>).</summary>
    [BindProperty(SupportsGet = true, Name = "funding")]
    public string? Returned { get; set; }

    public Job? Job { get; private set; }

    public IReadOnlyList<RateFloor> Floors { get; private set; } = [];

    public RateFloor? Floor => Floors.FirstOrDefault(f => f.Region == Form.Region && f.Currency == Form.Currency)
        ?? Floors.FirstOrDefault(f => f.Region == Form.Region);

    public string RegionName(RateFloor floor) => floorText[floor.RegionName];

    /// <summary>How the saved job can be funded; null for a new job, a job without a budget and a closed one.</summary>
    public FundingPanel? FundingPanel { get; private set; }

    /// <summary>The platform fee the budget carries: the saved budget's, or today's for a job without one.</summary>
    public int PlatformFeeBp { get; private set; }

    /// <summary>The budget the form's target hours and rate add up to, in parts; null until both are valid.</summary>
    public BudgetPreview? Preview
    {
        get
        {
            var rate = Currencies.ParseMajor(Form.HourlyRate?.Trim(), Form.Currency);
            if (rate is not (> 0 and <= JobRules.MaxHourlyRateMinor) || Form.TargetHours is not (>= 1 and <= JobRules.MaxTargetHours)
                || !Currencies.IsSupported(Form.Currency) || Form.SupplierFeeBp is < 0 or > JobRules.MaxSupplierFeeBp
                || BudgetRules.TryBudgetMinor(Form.TargetHours.Value, rate.Value, PlatformFeeBp, Form.SupplierFeeBp) is not { } budget)
            {
                return null;
            }
            var hours = Form.TargetHours.Value;
            var pay = PayCalculator.PayForActiveTime(hours * PayCalculator.MsPerHour, rate.Value);
            var fee = PayCalculator.Fee(pay, PlatformFeeBp);
            return new BudgetPreview(hours, new Money(rate.Value, Form.Currency), new Money(pay, Form.Currency), PlatformFeeBp / 100m,
                new Money(fee, Form.Currency), new Money(budget, Form.Currency));
        }
    }

    /// <summary>The region's floor in words, under the rate.</summary>
    public string FloorHint() => Floor is { } floor
        ? text["The floor for {0} ({1}) is {2} per hour: the larger of the legal minimum ({3}) and the market rate for recording work ({4}). A job below it cannot be published.",
            RegionName(floor), floor.Region, Currencies.Format(PayFloor.Of(floor)),
            Currencies.Format(new Money(floor.LegalMinimumMinor, floor.Currency)), Currencies.Format(new Money(floor.MarketReferenceMinor, floor.Currency))]
        : text["Choose a region to see its floor. A job must pay at least the floor of its region to be published."];

    /// <summary>The budget the form adds up to, in words, under the target hours.</summary>
    public string BudgetHint()
    {
        var parts = new List<string>();
        if (Preview is { } preview)
        {
            parts.Add(text.Plural(preview.TargetHours, "{0} hour at {1} an hour is {2} of pay, plus the platform fee of {3} % ({4}): a budget of {5}.",
                "{0} hours at {1} an hour is {2} of pay, plus the platform fee of {3} % ({4}): a budget of {5}.", Currencies.Format(preview.Rate), Currencies.Format(preview.Pay),
                preview.PlatformFeePercent.ToString("0.##", CultureInfo.InvariantCulture), Currencies.Format(preview.PlatformFee), Currencies.Format(preview.Budget)).Value);
            if (Form.SupplierFeePercent > 0)
            {
                parts.Add(text["The budget includes the supplier fee of {0} % on top, reserved in full even though only attributed work uses it.",
                    Form.SupplierFeePercent.ToString("0.##", CultureInfo.InvariantCulture)]);
            }
        }
        else
        {
            parts.Add(text["Enter the target hours and the hourly rate to see the budget."]);
        }
        parts.Add(text["The job goes live only when its escrow holds the budget; whatever is unused is refunded when the job closes."]);
        return string.Join(" ", parts);
    }

    /// <summary>
    /// What the form says as the requester types, computed here so that money and texts read as everywhere else: the
    /// currency of the chosen region, its floor, the budget, and what would stop publishing. Nothing is saved.
    /// </summary>
    public async Task<IActionResult> OnPostFeedbackAsync(CancellationToken ct)
    {
        await LoadFloorsAsync(ct);
        if (Id is not null && Job is null)
        {
            return NotFound();
        }
        var currencies = Floors.Where(f => f.Region == Form.Region).Select(f => f.Currency).ToList();
        if (currencies.Count > 0 && !currencies.Contains(Form.Currency))
        {
            Form.Currency = currencies[0];
        }
        var rate = Currencies.ParseMajor(Form.HourlyRate?.Trim(), Form.Currency);
        var problems = new List<FieldError>();
        if (rate is null && Currencies.IsSupported(Form.Currency))
        {
            problems.Add(new("hourlyRate", "Enter the hourly rate as an amount like 30.00."));
        }
        var hasPrompts = Job is { PromptCount: > 0 } || PromptParsing.Parse(Form.Prompts ?? "").Prompts is { Prompts.Count: > 0 };
        problems.AddRange((await jobs.PublishProblemsAsync(Org, Id, Form.ToRequest(rate ?? 1), hasPrompts, ct))
            .Where(e => rate is not null || e.Field != "hourlyRate"));
        return new JsonResult(new JobFormFeedback(Form.Currency, FloorHint(), BudgetHint(),
            problems.Select(e => new FormProblem("Form." + JobForm.FieldFor(e.Field), Problems.Localize(text, e))).ToList()));
    }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (Id is not null)
        {
            Job = await LoadAsync(Id.Value, ct);
            if (Job is null)
            {
                return NotFound();
            }
            var budget = await db.Set<JobBudget>().AsNoTracking().FirstOrDefaultAsync(b => b.JobId == Job.Id, ct);
            Form = JobForm.From(Job, budget?.TargetHours, budget?.SupplierFeeBp ?? 0);
        }
        await LoadFloorsAsync(ct);
        return Page();
    }

    public Task<IActionResult> OnPostSaveAsync(CancellationToken ct) => SaveAsync(publish: false, ct);

    public Task<IActionResult> OnPostPublishAsync(CancellationToken ct) => SaveAsync(publish: true, ct);

    /// <summary>Publishes the saved job as it is, in one click once its escrow covers the budget.</summary>
    public async Task<IActionResult> OnPostPublishFundedAsync(CancellationToken ct)
    {
        if (Id is null)
        {
            return NotFound();
        }
        var published = await jobs.PublishAsync(Org, Id.Value, ct);
        switch (published.Kind)
        {
            case JobOutcomeKind.NotFound:
                return NotFound();
            case JobOutcomeKind.Ok:
                return RedirectToPage(new { id = Id, done = "published" });
        }
        if (published.Kind is JobOutcomeKind.Closed or JobOutcomeKind.Conflict)
        {
            Report(published);
        }
        else
        {
            // The button sits outside the job's form: every reason goes at the top.
            ModelState.AddErrors((published.Errors ?? []).Select(e => e with { Field = "" }), text);
        }
        return await OnGetAsync(ct);
    }

    public async Task<IActionResult> OnPostCloseAsync(CancellationToken ct)
    {
        if (Id is null || (await jobs.CloseAsync(Org, Id.Value, ct)).Kind == JobOutcomeKind.NotFound)
        {
            return NotFound();
        }
        return RedirectToPage(new { id = Id, done = "closed" });
    }

    private Guid Org => User.OrganisationIdOrNull()!.Value;

    private async Task<IActionResult> SaveAsync(bool publish, CancellationToken ct)
    {
        // Binding errors (a number field left empty) are reported below with the rules' own messages.
        ModelState.Clear();
        Done = null;
        var errors = new List<FieldError>();
        var rate = Currencies.ParseMajor(Form.HourlyRate?.Trim(), Form.Currency);
        if (rate is null && Currencies.IsSupported(Form.Currency))
        {
            errors.Add(new("hourlyRate", "Enter the hourly rate as an amount like 30.00."));
        }

        PromptSet? prompts = null;
        if (PromptsFile is { Length: > 0 })
        {
            await using var stream = PromptsFile.OpenReadStream();
            var bytes = await JobsApi.ReadLimitedAsync(stream, ct);
            var (parsed, promptErrors) = bytes is null ? (null, [PromptParsing.TooLarge(PromptsFile.Length)]) : PromptParsing.Parse(bytes);
            prompts = parsed;
            errors.AddRange(promptErrors);
        }
        else if (!string.IsNullOrWhiteSpace(Form.Prompts))
        {
            var (parsed, promptErrors) = PromptParsing.Parse(Form.Prompts);
            prompts = parsed;
            errors.AddRange(promptErrors);
        }

        if (errors.Count > 0)
        {
            // Report every field at once, not just the first thing that stopped the save.
            errors.AddRange(JobRules.Validate(JobTerms.Defaults.With(Form.ToRequest(rate ?? 1))).Where(e => e.Field != "hourlyRate"));
            errors.AddRange(JobRules.ValidateTargetHours(Form.TargetHours, required: false));
        }
        else
        {
            var request = Form.ToRequest(rate);
            var saved = Id is null
                ? await jobs.CreateDraftAsync(Org, User.UserId(), request, prompts, ct)
                : await jobs.EditAsync(Org, Id.Value, request, prompts, ct);
            if (saved.Kind == JobOutcomeKind.NotFound)
            {
                return NotFound();
            }
            if (saved.Kind == JobOutcomeKind.Ok)
            {
                Id = saved.Job!.Id;
                if (!publish)
                {
                    return RedirectToPage(new { id = Id, done = saved.Job.Status == JobStatus.Published ? "republished" : "saved" });
                }
                var published = await jobs.PublishAsync(Org, Id.Value, ct);
                if (published.Kind == JobOutcomeKind.Ok)
                {
                    return RedirectToPage(new { id = Id, done = "published" });
                }
                Report(published);
            }
            else
            {
                Report(saved);
            }
        }
        ModelState.AddErrors(errors.Select(e => e with { Field = "Form." + JobForm.FieldFor(e.Field) }), text);
        if (Id is not null)
        {
            Job = await LoadAsync(Id.Value, ct);
        }
        await LoadFloorsAsync(ct);
        return Page();
    }

    private void Report(JobOutcome outcome)
    {
        switch (outcome.Kind)
        {
            case JobOutcomeKind.Closed:
                ModelState.AddModelError("", text["This job is closed and can no longer be changed or published."]);
                break;
            case JobOutcomeKind.Conflict:
                ModelState.AddModelError("", text["Someone changed this job at the same time. Reload it and try again."]);
                break;
            default:
                var errors = outcome.Errors ?? [];
                ModelState.AddErrors(errors.Select(e => e with { Field = "Form." + JobForm.FieldFor(e.Field) }), text);
                if (outcome.Kind is JobOutcomeKind.BelowFloor or JobOutcomeKind.NoFloor or JobOutcomeKind.Unfunded or JobOutcomeKind.NoAssessment)
                {
                    // Shown at the top as well: it is the reason the job is not live.
                    ModelState.AddErrors(errors.Select(e => e with { Field = "" }), text);
                }
                break;
        }
    }

    private Task<Job?> LoadAsync(Guid id, CancellationToken ct)
    {
        var org = Org;
        return db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == id && j.OrganisationId == org, ct);
    }

    private async Task LoadFloorsAsync(CancellationToken ct)
    {
        Floors = await db.RateFloors.AsNoTracking().OrderBy(f => f.Region).ThenBy(f => f.Currency).ToListAsync(ct);
        // Loaded with the floors because every rendering of the page needs both.
        Job ??= Id is null ? null : await LoadAsync(Id.Value, ct);
        FundingPanel = Job is null ? null : await fundingPanels.ForJobAsync(Job, Returned, ct);
        PlatformFeeBp = (Id is null ? null : await db.Set<JobBudget>().Where(b => b.JobId == Id).Select(b => (int?)b.PlatformFeeBp).FirstOrDefaultAsync(ct))
            ?? options.Value.Payouts.PlatformFeeBp;
    }
}
