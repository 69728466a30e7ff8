namespace Crowd.Server.Features.Jobs;

public static class PromptRules
{
    public const int MaxPromptLength = 1_000;
    public const int MaxPromptsPerJob = 100_000;
    public const int MaxUploadBytes = 20 * 1024 * 1024;
}
