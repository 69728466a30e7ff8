using Crowd.Server.Features.Payouts;
using Crowd.Server.Features.Payouts.BankFile;

namespace Crowd.Server.Tests.Features.Payouts.BankFile;

public sealed class BankBatchFlowTests
{
    [Theory]
    [InlineData(BankBatchState.Written, 3, BatchStage.Written)]
    [InlineData(BankBatchState.Written, 0, BatchStage.Written)]
    [InlineData(BankBatchState.Sent, 1, BatchStage.Sent)]
    [InlineData(BankBatchState.Sent, 0, BatchStage.Done)]
    public void ABatchIsWrittenUntilSentAndDoneOnceNoLineIsOpen(BankBatchState stored, int openLines, BatchStage stage) =>
        BankBatchFlow.Stage(stored, openLines).ShouldBe(stage);

    [Fact]
    public void EachStageOffersExactlyItsActions()
    {
        BankBatchFlow.Actions(BatchStage.Written).ShouldBe([BatchAction.Download, BatchAction.MarkSent]);
        BankBatchFlow.Actions(BatchStage.Sent).ShouldBe([BatchAction.Download, BatchAction.ConfirmRemaining]);
        BankBatchFlow.Actions(BatchStage.Done).ShouldBe([BatchAction.Download]);
        BankBatchFlow.Allows(BatchStage.Written, BatchAction.ConfirmRemaining).ShouldBeFalse("nothing is paid before the file went to the bank");
        BankBatchFlow.Allows(BatchStage.Sent, BatchAction.MarkSent).ShouldBeFalse();
    }

    [Fact]
    public void ALineIsSettledOnlyInASentBatchAndOnlyOnce()
    {
        foreach (var stage in Enum.GetValues<BatchStage>())
        {
            foreach (var line in Enum.GetValues<PayoutState>())
            {
                BankBatchFlow.LineCanBeSettled(stage, line).ShouldBe(stage == BatchStage.Sent && line == PayoutState.Sent, $"{stage} {line}");
            }
        }
    }

    [Fact]
    public void ALineOfAnUnsentFileIsNotCalledSent()
    {
        BankBatchFlow.LineLabel(BatchStage.Written, PayoutState.Sent).ShouldBe("In the file, not sent yet");
        BankBatchFlow.LineLabel(BatchStage.Sent, PayoutState.Sent).ShouldBe("Sent, waiting for the bank");
        BankBatchFlow.LineLabel(BatchStage.Done, PayoutState.Settled).ShouldBe("Paid");
        BankBatchFlow.LineLabel(BatchStage.Done, PayoutState.Failed).ShouldBe("Failed");
    }
}
