using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Mail;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Mail;

/// <summary>
/// Every mail in the outbox, newest first. Without an SMTP server this is where mail is read (development, tests,
/// a single machine without mail); with one it shows what was sent and what failed.
/// </summary>
[Authorize(Policy = Roles.Admin)]
public sealed class MailboxModel(CrowdDb db) : PageModel
{
    public IReadOnlyList<OutboxMail> Mails { get; private set; } = [];

    [BindProperty(SupportsGet = true)]
    public string? To { get; set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        var mails = db.MailOutbox.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(To))
        {
            // An address the text rule refuses was never stored, and the database cannot even compare some of its characters.
            var to = TextRules.Find(To, TextKind.Line) is null ? To.Trim() : "";
            mails = mails.Where(m => m.ToAddress == to);
        }
        Mails = await mails.OrderByDescending(m => m.CreatedAt).Take(100).ToListAsync(ct);
    }
}

/// <summary>Texts of the mailbox page. Translations in MailText.zh-Hans.resx.</summary>
public sealed class MailText;
