using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Infrastructure.Database;

/// <summary>
/// The one way to run hand-written SQL is EF's interpolated <c>db.Database.SqlQuery&lt;T&gt;($"…")</c> and
/// <c>ExecuteSqlAsync($"…")</c>: they join the open transaction and parameterise by construction. This holds what they lack;
/// <see cref="BareConnection"/> does the same where there is no context.
/// </summary>
public static class DbCommands
{
    /// <summary>Runs work in the caller's transaction when there is one, else in a new one committed at the end.</summary>
    public static async Task<T> InTransactionAsync<T>(this CrowdDb db, Func<Task<T>> work, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is not null)
        {
            return await work();
        }
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var result = await work();
        await tx.CommitAsync(ct);
        return result;
    }
}
