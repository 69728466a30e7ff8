using System.Text.Json;
using Crowd.Audio.Quality;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Features.Recording.Streaming;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Recording;

/// <summary>The recorder. Opening it needs a live consent to the job's current terms.</summary>
[Authorize(Policy = Roles.Contributor)]
public sealed class RecordModel(ConsentGate gate, IStringLocalizer<RecordingText> text) : PageModel
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    public Job? Job { get; private set; }

    /// <summary>The meter's target range in dBFS, from the job's quality bar (the same one the verdict uses).</summary>
    public double TargetLowDbfs { get; private set; }

    public double TargetHighDbfs => LiveQuality.LoudDbfs;

    /// <summary>The recorder's texts in the page's language, for the script.</summary>
    public string TextsJson { get; private set; } = "{}";

    public async Task<IActionResult> OnGetAsync(Guid jobId, CancellationToken ct)
    {
        var (outcome, job) = await gate.CheckAsync(jobId, User.UserId(), ct);
        if (outcome == GateOutcome.JobNotOpen)
        {
            return NotFound();
        }
        if (outcome == GateOutcome.NeedsConsent)
        {
            return Redirect($"/Recording/{jobId}/Consent");
        }
        Job = job;
        TargetLowDbfs = Sessions.WorkerSessions.Describe(job!).Thresholds.MinSpeechLevelDbfs;
        var texts = new Dictionary<string, string>
        {
            [QualityIssue.TooQuiet.Code()] = text["Too quiet — speak up or move closer to the microphone"],
            [QualityIssue.Clipping.Code()] = text["Too loud — move back from the microphone"],
            [QualityIssue.TooNoisy.Code()] = text["Noisy room — find a quieter place"],
            [QualityIssue.NoSpeech.Code()] = text["We can't hear you — is the right microphone on?"],
            ["micOk"] = text["Microphone works. Press Record when you are ready."],
            ["micFailed"] = text["The microphone could not be opened: {0}"],
            ["recording"] = text["Recording… press Stop (Space) when you have read the prompt."],
            ["analysing"] = text["Checking the take…"],
            ["passed"] = text["Sounds good. Listen back, record again, or submit."],
            ["failed"] = text["This take cannot be used:"],
            ["passedStatus"] = text["Take accepted by the quality check."],
            ["failedStatus"] = text["Record the prompt again when you are ready."],
            ["submitted"] = text["Submitted. Here is the next prompt."],
            ["noPrompt"] = text["No prompt to record right now."],
            ["takeOver"] = text["Use this tab instead"],
            ["reconnecting"] = text["Connection lost — reconnecting…"],
            ["interrupted"] = text["The connection dropped and the take could not be resumed. Record it again."],
        };
        TextsJson = JsonSerializer.Serialize(texts, s_json);
        return Page();
    }
}
