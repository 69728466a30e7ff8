namespace Crowd.Server.Features.Jobs;

/// <summary>Where a job stands as its requester sees it, from its status and its money.</summary>
public enum JobState
{
    Draft,
    /// <summary>The job has a budget its escrow does not hold yet: it cannot go live (or stay live) until it does.</summary>
    WaitingForMoney,
    Live,
    /// <summary>Published, but its escrow could not pay the next hour of everyone working: it paused itself.</summary>
    Paused,
    Closed,
}

/// <summary>Pure: the state from the facts, and its stable code and English label (the label is the translation key).</summary>
public static class JobStates
{
    public static JobState Of(JobStatus status, bool hasBudget, bool escrowCoversBudget, bool paused) => status switch
    {
        JobStatus.Closed => JobState.Closed,
        JobStatus.Published when paused => JobState.Paused,
        _ when hasBudget && !escrowCoversBudget => JobState.WaitingForMoney,
        JobStatus.Published => JobState.Live,
        _ => JobState.Draft,
    };

    public static string Code(this JobState state) => state switch
    {
        JobState.Draft => "draft",
        JobState.WaitingForMoney => "waiting-for-money",
        JobState.Live => "live",
        JobState.Paused => "paused",
        _ => "closed",
    };

    public static string Label(this JobState state) => state switch
    {
        JobState.Draft => "Draft",
        JobState.WaitingForMoney => "Waiting for money",
        JobState.Live => "Live",
        JobState.Paused => "Paused",
        _ => "Closed",
    };
}
