namespace Crowd.Server.Features.Withdrawal;

public static class WithdrawalSetup
{
    /// <summary>Withdrawal and the crypto-shredding path that retention shares with it.</summary>
    public static WebApplicationBuilder AddWithdrawal(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddScoped<ClipDestruction>();
        services.AddScoped<ClipFiles>();
        services.AddScoped<WithdrawalService>();
        return builder;
    }
}
