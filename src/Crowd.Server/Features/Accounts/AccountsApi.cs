using System.Security.Claims;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Accounts;

public static class AccountsApi
{
    public static IEndpointRouteBuilder MapAccounts(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/accounts").WithTags("Accounts");

        group.MapPost("/signup", SignUp).RequireRateLimiting(WebSetup.AuthLimit).DisableAntiforgery();
        group.MapPost("/signin", SignIn).RequireRateLimiting(WebSetup.AuthLimit).DisableAntiforgery();
        group.MapPost("/signout", SignOut).RequireAuthorization().DisableAntiforgery();
        group.MapGet("/me", Me).RequireAuthorization().RequireRateLimiting(WebSetup.ApiLimit);
        return app;
    }

    private static async Task<Results<Created<AccountResponse>, ValidationProblem>> SignUp(
        SignUpRequest request, AccountService accounts, CrowdDb db, IStringLocalizer<AccountsText> text, CancellationToken ct)
    {
        var (user, errors) = await accounts.SignUpAsync(request, ct);
        if (user is null)
        {
            return Problems.Validation(errors, text);
        }
        await accounts.SignInAsync(user);
        return TypedResults.Created("/api/accounts/me", await DescribeAsync(db, user.Id, "cookie", ct));
    }

    private static async Task<Results<Ok<AccountResponse>, ProblemHttpResult>> SignIn(
        SignInRequest request, AccountService accounts, CrowdDb db, IStringLocalizer<AccountsText> text, CancellationToken ct)
    {
        var (outcome, userId) = await accounts.SignInAsync(request.Email, request.Password, persistent: false);
        switch (outcome)
        {
            case SignInOutcome.LockedOut:
                return Problems.Problem(StatusCodes.Status423Locked, text, "Account locked",
                    "Too many wrong passwords. The account is locked for {0} minutes; try again later.", 15);
            case SignInOutcome.WrongCredentials:
                return Problems.Problem(StatusCodes.Status401Unauthorized, text, "Sign-in failed",
                    "The email address or password is wrong.");
        }
        return TypedResults.Ok(await DescribeAsync(db, userId!.Value, "cookie", ct));
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
