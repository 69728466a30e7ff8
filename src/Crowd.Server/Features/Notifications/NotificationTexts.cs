using System.Globalization;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Reviews;
using Crowd.Server.Features.Suppliers;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Notifications;

/// <summary>A notification in words: a title, a few sentences, and the page (a path on this site) where the person acts on it.</summary>
public sealed record RenderedNotification(string Title, IReadOnlyList<string> Lines, string Link);

/// <summary>
/// Turns a notification's kind and data into words in the current UI language. The same words serve the list, the
/// bell's live message and the mail, so they never disagree.
/// </summary>
public sealed class NotificationTexts(IStringLocalizer<NotificationsText> text, IStringLocalizer<ReviewsText> reviews, IStringLocalizer<EscrowText> escrow)
{
    public const string SettingsPath = "/Account/Notifications";

    public RenderedNotification Render(NotificationKind kind, NotificationData d)
    {
        var job = d.JobTitle ?? "";
        var amount = d.Amount is { } a ? Currencies.Format(a) : "";
        return kind switch
        {
            NotificationKind.ClipRejected => new(text["A clip was rejected: {0}", job],
                Lines(text["Your recording of \"{0}\" was rejected. Reason: {1}.", d.Prompt ?? "", ReasonLabel(d.Code)],
                    d.Note is { Length: > 0 } ? text["The reviewer wrote: {0}", d.Note] : null,
                    d.Until is { } appealBy
                        ? text["You have until {0} UTC to appeal. If you do not, the pay for this clip's time is withdrawn: a rejection on this ground means the clip should not have been paid.", When(appealBy)]
                        : text["You are still paid for your time unless a rejection for fraud is upheld after an appeal. You can appeal once; an admin decides."]),
                "/Reviews/Mine#clip-" + d.ClipId),
            NotificationKind.PayTakenBack => new(text["The pay for a rejected clip of \"{0}\" was taken back", job],
                Lines(text["A clip you recorded for \"{0}\" was rejected as \"{1}\", and it was not appealed within {2} days.", job, ReasonLabel(d.Code), d.Days ?? 0],
                    d.Amount is { Minor: > 0 }
                        ? text["As the rejection said, the pay for that clip's time, {0}, has been taken back from your earnings not yet paid out.", amount]
                        : text["Nothing was taken back: the pay for that clip's time had already been paid out or taken back."],
                    text["Your other pay is not affected."]),
                "/Reviews/Mine#clip-" + d.ClipId),
            NotificationKind.AppealDecided when d.Code == "reversed" => new(text["Your appeal was granted: {0}", job],
                Lines(text["The rejection of your recording of \"{0}\" was reversed, and the clip is accepted.", d.Prompt ?? ""],
                    d.Note is { Length: > 0 } ? text["The admin wrote: {0}", d.Note] : null),
                "/Reviews/Mine#clip-" + d.ClipId),
            NotificationKind.AppealDecided => new(text["Your appeal was refused: {0}", job],
                Lines(text["The rejection of your recording of \"{0}\" stands. The decision is final.", d.Prompt ?? ""],
                    d.Note is { Length: > 0 } ? text["The admin wrote: {0}", d.Note] : null,
                    d.Amount is { Minor: > 0 } ? text["The pay for this clip's time ({0}) was taken back.", amount] : text["You keep the pay for your time."]),
                "/Reviews/Mine#clip-" + d.ClipId),
            NotificationKind.PayoutSent => new(text["A payout of {0} is on its way", amount],
                Lines(text["We sent {0} to the payout method on your Earnings page. It shows as paid once the bank or Stripe confirms it.", amount]),
                "/Earnings"),
            NotificationKind.PayoutPaid => new(text["A payout of {0} was paid", amount],
                Lines(text["The payout of {0} reached your account.", amount]),
                "/Earnings"),
            NotificationKind.GuardianConfirmed => new(text["Your parent or guardian confirmed: you can record for {0}", job],
                Lines(text["Your parent or guardian read the terms of \"{0}\" and confirmed your consent. You can start recording.", job]),
                $"/Recording/{d.JobId}"),
            NotificationKind.ConsentNeededAgain => new(text["The terms of {0} changed", job],
                Lines(text["The requester published new terms for \"{0}\" (version {1}). To record more for it, read them and consent again. Declining costs nothing.", job, d.Version ?? 0],
                    text["Your consent to the earlier terms still covers the recordings you made under them, and you can withdraw it at any time on My data."]),
                $"/Recording/{d.JobId}/Consent"),
            NotificationKind.JobPausedMidWork => new(text["{0} is paused", job],
                Lines(text["\"{0}\" paused itself because its escrow cannot pay the next hour of work. The time you already worked is paid.", job],
                    text["It comes back on the job board when the requester adds funds."]),
                $"/Board/{d.JobId}"),
            NotificationKind.ExportReady => new(text["Your data is ready to download"],
                Lines(text["The copy of your data you asked for is ready. The link works until {0} UTC; after that the file is deleted.", When(d.Until)]),
                "/Account/Export"),
            NotificationKind.JobFunded => new(escrow["Your job \"{0}\" is funded", job],
                Lines(escrow["The escrow of your job \"{0}\" now holds {1}, which covers its budget of {2}.", job, amount, d.Total is { } total ? Currencies.Format(total) : ""],
                    d.Code switch
                    {
                        "published" => escrow["As you asked, the job was published: it is on the job board now."],
                        "not-published" => escrow["It could not be published automatically. Open it to see what is missing, then publish it:"],
                        _ => escrow["Publish it when you are ready; it takes one click:"],
                    }),
                $"/Jobs/Edit?id={d.JobId}"),
            NotificationKind.JobPaused => new(text["{0} paused itself: its escrow runs low", job],
                Lines(text["Your job \"{0}\" paused itself: its escrow cannot pay the next hour of everyone working on it. Add funds to resume it.", job]),
                "/Escrow/Spend"),
            NotificationKind.JobResumed => new(text["{0} resumed", job],
                Lines(text["Your job \"{0}\" resumed: its escrow covers the next hour of work again.", job]),
                "/Escrow/Spend"),
            NotificationKind.DeletionNoticesOverdue => new(
                text.Plural(d.Count ?? 0, "{0} deletion notice waits for acknowledgement", "{0} deletion notices wait for acknowledgement"),
                Lines(text.Plural(d.Count ?? 0,
                    "{0} deletion notice is older than {1} days and not acknowledged. Delete the recordings it lists from every copy you hold, then acknowledge it.",
                    "{0} deletion notices are older than {1} days and not acknowledged. Delete the recordings they list from every copy you hold, then acknowledge them.",
                    d.Days ?? 0)),
                "/Requester/Notices"),
            NotificationKind.InvitationUsed => new(text["People are joining through your invitation {0}", d.Label ?? ""],
                Lines(text["At least {0} people chose to be counted for your organisation through the invitation \"{1}\". You see figures only for groups of at least {0} people, so nobody is named.", CellSuppression.MinPeople, d.Label ?? ""]),
                "/Supplier/Stats"),
            NotificationKind.MonthlyFigures => new(text["Figures for {0} are available", d.Label ?? ""],
                Lines(text["The figures for {0} are final. Figures about fewer than {1} people stay hidden.", d.Label ?? "", CellSuppression.MinPeople]),
                "/Supplier/Stats"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }

    /// <summary>The mail for a notification: its words, the page to open, and where to switch this kind of mail off.</summary>
    public (string Subject, string Body) Mail(RenderedNotification rendered, Uri publicUrl) =>
        (rendered.Title, string.Join("\n\n", rendered.Lines.Append(text["Open it on Crowd:"] + "\n" + new Uri(publicUrl, rendered.Link))
            .Append(text["You get this mail because mail for this kind of notification is on. Switch it off here:"] + "\n" + new Uri(publicUrl, SettingsPath))));

    private string ReasonLabel(string? code) =>
        RejectionReasons.FromCode(code) is { } reason ? reviews[reason.Label()]
        : code == "peer-validation" ? reviews[RejectionReason.PeerValidation.Label()]
        : code ?? "";

    private static string When(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "";

    private static List<string> Lines(params LocalizedString?[] lines) => lines.Where(l => l is not null).Select(l => l!.Value).ToList();
}

/// <summary>Texts of notifications. Translations in NotificationsText.zh-Hans.resx.</summary>
public sealed class NotificationsText;
