namespace Crowd.Server.Features.Escrow;

/// <summary>Texts of the spend and funding pages and escrow errors; translations in EscrowText.zh-Hans.resx.</summary>
public sealed class EscrowText;
