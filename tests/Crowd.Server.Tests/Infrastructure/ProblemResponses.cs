using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;

namespace Crowd.Server.Tests.Infrastructure;

public static class ProblemResponses
{
    /// <summary>Asserts a 400 answered with RFC 7807 validation problem details, and returns them.</summary>
    public static async Task<ValidationProblemDetails> ShouldBeValidationProblemAsync(this HttpResponseMessage response)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync());
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        return (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
    }
}
