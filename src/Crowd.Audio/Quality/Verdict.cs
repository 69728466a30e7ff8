namespace Crowd.Audio.Quality;

public sealed record VerdictReason(QualityIssue Issue, string Code, string Hint)
{
    public static VerdictReason For(QualityIssue issue) => new(issue, issue.Code(), issue.Hint());
}

public sealed record Verdict(IReadOnlyList<VerdictReason> Reasons)
{
    public bool Passed => Reasons.Count == 0;

    public IEnumerable<string> Codes => Reasons.Select(r => r.Code);
}
