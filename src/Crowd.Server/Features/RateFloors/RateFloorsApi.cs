using System.Security.Claims;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.RateFloors;

public static class RateFloorsApi
{
    public static WebApplicationBuilder AddRateFloors(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<RateFloorService>();
        return builder;
    }

    public static RouteGroupBuilder MapRateFloors(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/rate-floors").WithTags("Rate floors").RequireRateLimiting(WebSetup.ApiLimit);
        group.MapGet("/", List).AllowAnonymous();
        group.MapPut("/{region}/{currency}", Put).RequireAuthorization(Roles.Admin).DisableAntiforgery();
        return group;
    }

    private static async Task<Ok<RateFloorResponse[]>> List(CrowdDb db, CancellationToken ct)
    {
        var floors = await db.RateFloors.AsNoTracking().OrderBy(f => f.Region).ThenBy(f => f.Currency).ToListAsync(ct);
        return TypedResults.Ok(floors.Select(RateFloorResponse.From).ToArray());
    }

    private static async Task<Results<Ok<RateFloorResponse>, Created<RateFloorResponse>, ValidationProblem>> Put(
        string region, string currency, RateFloorRequest request, RateFloorService floors, ClaimsPrincipal user,
        IStringLocalizer<RateFloorsText> text, CancellationToken ct)
    {
        var (floor, created, errors) = await floors.UpsertAsync(region, currency, request, user.UserId(), ct);
        if (floor is null)
        {
            return Problems.Validation(errors, text);
        }
        var response = RateFloorResponse.From(floor);
        return created
            ? TypedResults.Created($"/api/rate-floors/{floor.Region}/{floor.Currency}", response)
            : TypedResults.Ok(response);
    }
}

/// <summary>Writes floors. A changed floor applies at a job's next publication; published jobs keep the terms they were published with.</summary>
public sealed class RateFloorService(CrowdDb db, TimeProvider clock)
{
    public async Task<(RateFloor? Floor, bool Created, List<FieldError> Errors)> UpsertAsync(
        string region, string currency, RateFloorRequest request, Guid userId, CancellationToken ct)
    {
        var existing = await db.RateFloors.SingleOrDefaultAsync(f => f.Region == region && f.Currency == currency, ct);
        var errors = RateFloorRules.Validate(region, currency, request, creating: existing is null);
        if (errors.Count > 0)
        {
            return (null, false, errors);
        }
        var floor = existing ?? new RateFloor { Region = region, Currency = currency };
        if (!string.IsNullOrWhiteSpace(request.RegionName))
        {
            floor.RegionName = request.RegionName.Trim();
        }
        floor.LegalMinimumMinor = request.LegalMinimum!.Value.Minor;
        floor.MarketReferenceMinor = request.MarketReference!.Value.Minor;
        floor.Source = request.Source!.Trim();
        floor.UpdatedAt = clock.GetUtcNow();
        floor.UpdatedByUserId = userId;
        if (existing is null)
        {
            db.RateFloors.Add(floor);
        }
        await db.SaveChangesAsync(ct);
        return (floor, existing is null, errors);
    }
}

/// <summary>Texts of the rate-floor feature (and the names of seeded regions). Translations in RateFloorsText.zh-Hans.resx.</summary>
public sealed class RateFloorsText;
