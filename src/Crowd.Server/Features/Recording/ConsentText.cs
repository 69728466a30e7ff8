namespace Crowd.Server.Features.Recording;

/// <summary>Texts of consent: the consent and guardian screens, their errors and the guardian mail. Translations in ConsentText.zh-Hans.resx.</summary>
public sealed class ConsentText;
