namespace Crowd.Server.Features.Payouts.BankFile;

/// <summary>Where a bank batch is, as the admin sees it.</summary>
public enum BatchStage
{
    /// <summary>The file is written and can be downloaded; the bank has not been sent it.</summary>
    Written,
    /// <summary>Sent to the bank; some lines are not yet confirmed paid or failed.</summary>
    Sent,
    /// <summary>Sent, and every line is confirmed paid or failed.</summary>
    Done,
}

public enum BatchAction
{
    Download,
    MarkSent,
    ConfirmRemaining,
}

/// <summary>
/// The one state machine of a bank batch: written → sent (the admin sent the file) → done (every line paid or failed).
/// The page offers exactly the actions it allows and the service refuses the rest, so a line cannot be confirmed paid
/// before its file went to the bank.
/// </summary>
public static class BankBatchFlow
{
    private static readonly BatchAction[] s_written = [BatchAction.Download, BatchAction.MarkSent];
    private static readonly BatchAction[] s_sent = [BatchAction.Download, BatchAction.ConfirmRemaining];
    private static readonly BatchAction[] s_done = [BatchAction.Download];

    /// <param name="openLines">Lines neither confirmed paid nor failed.</param>
    public static BatchStage Stage(BankBatchState stored, int openLines) =>
        stored == BankBatchState.Written ? BatchStage.Written : openLines > 0 ? BatchStage.Sent : BatchStage.Done;

    public static IReadOnlyList<BatchAction> Actions(BatchStage stage) => stage switch
    {
        BatchStage.Written => s_written,
        BatchStage.Sent => s_sent,
        _ => s_done,
    };

    public static bool Allows(BatchStage stage, BatchAction action) => Actions(stage).Contains(action);

    /// <summary>A line can be confirmed paid or failed only in a sent batch, and only once.</summary>
    public static bool LineCanBeSettled(BatchStage stage, PayoutState line) => stage == BatchStage.Sent && line == PayoutState.Sent;

    /// <summary>What a line is, in its batch's terms: a line of an unsent file is not yet on its way.</summary>
    public static string LineLabel(BatchStage stage, PayoutState line) => (stage, line) switch
    {
        (BatchStage.Written, PayoutState.Sent) => "In the file, not sent yet",
        (_, PayoutState.Sent) => "Sent, waiting for the bank",
        (_, PayoutState.Settled) => "Paid",
        (_, PayoutState.Failed) => "Failed",
        _ => line.ToString(),
    };
}
