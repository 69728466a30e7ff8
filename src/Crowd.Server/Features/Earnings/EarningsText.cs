namespace Crowd.Server.Features.Earnings;

/// <summary>Texts of the earnings page; translations in EarningsText.zh-Hans.resx.</summary>
public sealed class EarningsText;
