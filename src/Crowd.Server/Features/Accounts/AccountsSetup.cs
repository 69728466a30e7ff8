using System.Security.Claims;
using Crowd.Server.Features.ApiKeys;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Accounts;

public static class AccountsSetup
{
    public const string Scheme = "Crowd";
    public const string CookieName = "crowd.auth";

    public static WebApplicationBuilder AddAccounts(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddIdentity<CrowdUser, IdentityRole<Guid>>(o =>
            {
                o.User.RequireUniqueEmail = true;
                // PasswordRules (CommonPasswordValidator) decides; Identity's composition rules are off (NIST SP 800-63B).
                o.Password.RequiredLength = Passwords.PasswordRules.MinLength;
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireDigit = false;
                o.Password.RequireLowercase = false;
                o.Password.RequiredUniqueChars = 1;
                // No lockout: it let anyone lock any account with five wrong passwords. SignInThrottle slows guessing instead.
                o.Lockout.AllowedForNewUsers = false;
            })
            .AddPasswordValidator<Passwords.CommonPasswordValidator>()
            .AddEntityFrameworkStores<CrowdDb>()
            .AddDefaultTokenProviders()
            .AddClaimsPrincipalFactory<CrowdClaimsFactory>();

        services.ConfigureApplicationCookie(o =>
        {
            o.Cookie.Name = CookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromDays(7);
            o.SlidingExpiration = true;
            o.LoginPath = "/Account/SignIn";
            o.LogoutPath = "/Account/SignOut";
            o.AccessDeniedPath = "/Account/Denied";
            // The API answers with status codes; only pages redirect to the sign-in page.
            o.Events.OnRedirectToLogin = c => ApiAwareRedirect(c, StatusCodes.Status401Unauthorized);
            o.Events.OnRedirectToAccessDenied = c => ApiAwareRedirect(c, StatusCodes.Status403Forbidden);
        });

        services.AddAuthentication(o =>
            {
                // AddIdentity sets the cookie as the default for authenticating and challenging; those take precedence
                // over DefaultScheme, so each is pointed at the cookie-or-key selector explicitly.
                o.DefaultScheme = Scheme;
                o.DefaultAuthenticateScheme = Scheme;
                o.DefaultChallengeScheme = Scheme;
                o.DefaultForbidScheme = Scheme;
            })
            // Keys are for programs calling the API; pages, hubs and everything else know only the sign-in cookie.
            .AddPolicyScheme(Scheme, "Cookie or API key", o =>
                o.ForwardDefaultSelector = c => c.Request.Path.StartsWithSegments("/api") && ApiKeyFormat.FromRequest(c.Request) is not null
                    ? ApiKeyFormat.Scheme
                    : IdentityConstants.ApplicationScheme);

        services.AddScoped<AccountService>();
        services.AddScoped<Speech.SpeakerProfiles>();
        services.AddScoped<Profile.ContributorProfiles>();
        services.AddScoped<Recovery.AccountRecovery>();
        services.Configure<DataProtectionTokenProviderOptions>(o => o.TokenLifespan = TimeSpan.FromHours(Recovery.AccountRecovery.TokenHours));
        services.AddScoped<Throttling.SignInThrottle>();
        services.AddOptions<SecurityStampValidatorOptions>().Configure<TimeProvider>((o, clock) =>
        {
            // A cookie outlives sign-out and password changes only until its stamp is next checked against the account.
            o.ValidationInterval = TimeSpan.FromMinutes(1);
            o.TimeProvider = clock;
        });
        services.AddScoped<BirthDate.BirthDates>();
        services.AddAuthorizationBuilder()
            .AddPolicy(Roles.Contributor, p => p.RequireRole(Roles.Contributor))
            .AddPolicy(Roles.Requester, p => p.RequireRole(Roles.Requester).RequireClaim(CrowdClaims.OrganisationId))
            .AddPolicy(Roles.Supplier, p => p.RequireRole(Roles.Supplier).RequireClaim(CrowdClaims.OrganisationId))
            .AddPolicy(Roles.Admin, p => p.RequireRole(Roles.Admin));
        return builder;
    }

    private static Task ApiAwareRedirect(Microsoft.AspNetCore.Authentication.RedirectContext<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions> context, int status)
    {
        if (context.Request.Path.StartsWithSegments("/api"))
        {
            context.Response.StatusCode = status;
            return Task.CompletedTask;
        }
        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}

/// <summary>Puts the organisation on the cookie so authorization needs no database round trip.</summary>
public sealed class CrowdClaimsFactory(UserManager<CrowdUser> users, RoleManager<IdentityRole<Guid>> roles, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<CrowdUser, IdentityRole<Guid>>(users, roles, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(CrowdUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        identity.AddClaim(new Claim("name", user.DisplayName));
        if (user.OrganisationId is { } org)
        {
            identity.AddClaim(new Claim(CrowdClaims.OrganisationId, org.ToString()));
        }
        return identity;
    }
}
