namespace Crowd.Server.Features.Jobs;

public static class PromptRules
{
    public const int MaxPromptLength = 1_000;
    public const int MaxPromptsPerJob = 100_000;
    public const int MaxUploadBytes = 20 * 1024 * 1024;

    /// <summary>A request carrying a prompt file: the file, the form around it, and room to answer "too large" in the file's own words.</summary>
    public const int MaxUploadRequestBytes = MaxUploadBytes + 1024 * 1024;
}
