using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.ApiKeys;

[Authorize(Policy = Roles.Requester)]
public sealed class ApiKeysModel(ApiKeyService keys, IStringLocalizer<ApiKeysText> text) : PageModel
{
    [BindProperty] public string? Name { get; set; }

    public IReadOnlyList<ApiKeyResponse> Keys { get; private set; } = [];
    public CreatedApiKeyResponse? Created { get; private set; }
    /// <summary>The key a person asked to revoke, shown with a confirm button (works without JavaScript).</summary>
    public ApiKeyResponse? ConfirmRevoke { get; private set; }
    public ApiKeyResponse? JustRevoked { get; private set; }

    private Guid Organisation => User.OrganisationIdOrNull()!.Value;

    public async Task OnGetAsync(Guid? revoke, Guid? revoked, CancellationToken ct)
    {
        Keys = await keys.ListAsync(Organisation, ct);
        ConfirmRevoke = Keys.FirstOrDefault(k => k.Id == revoke && k.RevokedAt is null);
        JustRevoked = Keys.FirstOrDefault(k => k.Id == revoked);
    }

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken ct)
    {
        if (User.IsApiKey())
        {
            return Forbid();
        }
        ModelState.Clear();
        var (created, errors) = await keys.CreateAsync(Organisation, User.UserId(), Name, ct);
        if (created is null)
        {
            ModelState.AddErrors(errors, text);
        }
        else
        {
            Created = created;
            Name = null;
            // The full key is in this response only; no cache may keep a copy.
            Response.Headers.CacheControl = "no-store";
        }
        Keys = await keys.ListAsync(Organisation, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(Guid id, CancellationToken ct) =>
        await keys.RevokeAsync(Organisation, id, ct) ? RedirectToPage(new { revoked = id }) : NotFound();
}
