namespace Crowd.Server.Features.Payouts;

/// <summary>Texts of the payout admin pages; translations in PayoutsText.zh-Hans.resx.</summary>
public sealed class PayoutsText;
