using System.Globalization;
using System.Security.Claims;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Accounts;

public static class AccountsApi
{
    public static RouteGroupBuilder MapAccounts(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/accounts").WithTags("Accounts");

        group.MapPost("/signup", SignUp).RequireRateLimiting(WebSetup.AuthLimit).DisableAntiforgery();
        group.MapPost("/signin", SignIn).RequireRateLimiting(WebSetup.AuthLimit).DisableAntiforgery();
        group.MapPost("/signout", SignOut).RequireAuthorization().DisableAntiforgery();
        group.MapGet("/me", Me).RequireAuthorization().RequireRateLimiting(WebSetup.ApiLimit);
        return group;
    }

    /// <summary>The same 202 for a new address and for one that already has an account (whose owner is mailed instead).</summary>
    private static async Task<Results<Accepted<SignUpAccepted>, ValidationProblem>> SignUp(
        SignUpRequest request, AccountService accounts, IStringLocalizer<AccountsText> text, CancellationToken ct)
    {
        var errors = await accounts.SignUpAsync(request, ct);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors, text);
        }
        return TypedResults.Accepted((string?)null, new SignUpAccepted(text[SignUpAccepted.Message].Value));
    }

    private static async Task<Results<Ok<AccountResponse>, ProblemHttpResult>> SignIn(
        SignInRequest request, AccountService accounts, CrowdDb db, HttpContext http, IStringLocalizer<AccountsText> text, CancellationToken ct)
    {
        var attempt = await accounts.SignInAsync(request.Email, request.Password, persistent: false, ct);
        switch (attempt.Outcome)
        {
            case SignInOutcome.Throttled:
                var seconds = SignInAttempt.Seconds(attempt.RetryAfter);
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return Problems.Problem(StatusCodes.Status429TooManyRequests, text, "Too many failed sign-ins",
                    "Too many failed sign-ins. Wait {0} seconds and try again.", seconds);
            case SignInOutcome.WrongCredentials:
                return Problems.Problem(StatusCodes.Status401Unauthorized, text, "Sign-in failed",
                    "The email address or password is wrong.");
        }
        return TypedResults.Ok(await DescribeAsync(db, attempt.UserId!.Value, "cookie", ct));
    }

    private static async Task<NoContent> SignOut(AccountService accounts)
    {
        await accounts.SignOutAsync();
        return TypedResults.NoContent();
    }

    private static async Task<Ok<AccountResponse>> Me(ClaimsPrincipal principal, CrowdDb db, CancellationToken ct) =>
        TypedResults.Ok(await DescribeAsync(db, principal.UserId(),
            principal.FindFirst(CrowdClaims.ApiKeyId) is null ? "cookie" : "apikey", ct));

    private static async Task<AccountResponse> DescribeAsync(CrowdDb db, Guid userId, string authenticatedBy, CancellationToken ct)
    {
        var user = await db.Users.AsNoTracking().Include(u => u.Organisation).SingleAsync(u => u.Id == userId, ct);
        var roles = await db.UserRoles.Where(r => r.UserId == userId)
            .Join(db.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name!).ToArrayAsync(ct);
        return new AccountResponse(user.Id, user.Email!, user.DisplayName, roles, user.OrganisationId, user.Organisation?.Name, authenticatedBy);
    }
}

/// <summary>Texts of the accounts feature. Translations in AccountsText.zh-Hans.resx.</summary>
public sealed class AccountsText;
