namespace Crowd.Server.Infrastructure;

/// <summary>The platform's settings, bound once from the "Crowd" section (appsettings + environment, e.g. Crowd__DataDirectory).</summary>
public sealed class CrowdOptions
{
    public const string Section = "Crowd";

    /// <summary>Where the embedded PostgreSQL and other local state live when nothing else is configured. Relative to the repository root.</summary>
    public string DataDirectory { get; set; } = ".crowd";

    public RateLimitOptions RateLimits { get; set; } = new();

    public AdminSeedOptions Admin { get; set; } = new();
}

public sealed class RateLimitOptions
{
    /// <summary>Sign-in and sign-up attempts per client address per minute.</summary>
    public int AuthPerMinute { get; set; } = 20;

    /// <summary>API requests per caller (account, API key or address) per second, with a burst of the same size.</summary>
    public int ApiPerSecond { get; set; } = 50;
}

public sealed class AdminSeedOptions
{
    public string? Email { get; set; }
    public string? Password { get; set; }
}
