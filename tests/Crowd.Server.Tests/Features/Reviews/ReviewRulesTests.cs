using Crowd.Server.Features.Reviews;

namespace Crowd.Server.Tests.Features.Reviews;

public sealed class ReviewRulesTests
{
    [Theory]
    [InlineData(0, 0, PeerVerdict.Pending)]
    [InlineData(1, 0, PeerVerdict.Pending)]
    [InlineData(2, 0, PeerVerdict.Valid)]
    [InlineData(2, 1, PeerVerdict.Valid)]
    [InlineData(2, 2, PeerVerdict.Pending)]
    [InlineData(3, 2, PeerVerdict.Valid)]
    [InlineData(0, 1, PeerVerdict.Pending)]
    [InlineData(0, 2, PeerVerdict.Invalid)]
    [InlineData(1, 2, PeerVerdict.Invalid)]
    [InlineData(2, 3, PeerVerdict.Invalid)]
    [InlineData(3, 3, PeerVerdict.Pending)]
    public void TwoVotesDecideOnlyWhenTheyOutnumberTheOtherSide(int up, int down, PeerVerdict expected) =>
        ReviewRules.Verdict(up, down).ShouldBe(expected);

    [Fact]
    public void ARejectionNeedsOneOfTheFiveReasonsAndAnExplanation()
    {
        ReviewRules.ValidateRejection(null, null, out _).Select(e => e.Field).ShouldBe(["reason", "note"]);
        ReviewRules.ValidateRejection("peer-validation", "Voted down.", out _).Select(e => e.Field).ShouldBe(["reason"]);
        ReviewRules.ValidateRejection("silence", new string('x', 2001), out _).Select(e => e.Field).ShouldBe(["note"]);
        ReviewRules.ValidateRejection(" Not-Live-Voice ", "Robotic.", out var reason).ShouldBeEmpty();
        reason.ShouldBe(RejectionReason.NotLiveVoice);
    }

    [Fact]
    public void OnlyNotALiveVoiceAndDuplicateAreFraudGrounds() =>
        Enum.GetValues<RejectionReason>().Where(r => r.IsFraud()).ShouldBe([RejectionReason.NotLiveVoice, RejectionReason.Duplicate]);

    [Theory]
    [InlineData(6_000, 36_000, 600, 600, 60)]   // rate × the clip's 6 s
    [InlineData(6_000, 36_000, 30, 600, 30)]    // never more than the session earned
    [InlineData(6_000, 36_000, 600, 20, 20)]    // never more than is still payable
    [InlineData(6_000, 36_000, 600, -5, 0)]     // nothing when nothing is payable
    [InlineData(1, 36_000, 600, 600, 1)]        // rounded up, as accruals are
    public void APayReversalIsTheClipsTimeCappedByTheSessionAndThePayable(int durationMs, long rate, long sessionRemaining, long payable, long expected) =>
        PayReversal.Amount(durationMs, rate, sessionRemaining, payable).ShouldBe(expected);

    [Fact]
    public void TheWaveformFollowsTheLoudnessOfTheClip()
    {
        var peaks = Waveform.Peaks(ReviewTestData.Tone(3_000), 300);

        peaks.Length.ShouldBe(300);
        peaks[0].ShouldBeLessThan(0.05f);
        peaks.Max().ShouldBeGreaterThan(0.45f);
        Waveform.Svg(peaks).ShouldStartWith("<svg class=\"waveform\"");
    }
}
