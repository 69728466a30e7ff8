using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Crowd.Server.Infrastructure.Database;

/// <summary>
/// Raw Npgsql commands on the context's own connection and transaction, for set-based SQL (unnest arrays,
/// data-modifying CTEs) that EF cannot express. They join whatever transaction the caller has open.
/// </summary>
public static class DbCommands
{
    public static async Task<NpgsqlCommand> CommandAsync(this CrowdDb db, string sql, CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = (NpgsqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction();
        return command;
    }

    public static async Task<int> ExecuteAsync(this CrowdDb db, string sql, CancellationToken ct, params NpgsqlParameter[] parameters)
    {
        await using var command = await db.CommandAsync(sql, ct);
        command.Parameters.AddRange(parameters);
        return await command.ExecuteNonQueryAsync(ct);
    }

    public static async Task<T?> ScalarAsync<T>(this CrowdDb db, string sql, CancellationToken ct, params NpgsqlParameter[] parameters)
    {
        await using var command = await db.CommandAsync(sql, ct);
        command.Parameters.AddRange(parameters);
        var value = await command.ExecuteScalarAsync(ct);
        return value is null or DBNull ? default : (T)value;
    }

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

    public static NpgsqlParameter P<T>(string name, T value) => new NpgsqlParameter<T>(name, value);
}
