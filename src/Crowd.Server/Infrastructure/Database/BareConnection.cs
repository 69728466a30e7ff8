using System.Globalization;
using System.Runtime.CompilerServices;
using Npgsql;

namespace Crowd.Server.Infrastructure.Database;

/// <summary>
/// Hand-written SQL on a connection of its own, where EF is not there: setting the database up before the server has a
/// context, a LISTEN that holds its connection, the command-line tools. Like EF's <c>SqlQuery&lt;T&gt;($"…")</c>, every
/// hole of the interpolated statement becomes a parameter. It needs Npgsql alone, so the command-line tool compiles it in too.
/// </summary>
public static class BareConnection
{
    public static async Task<int> ExecuteAsync(this NpgsqlConnection connection, FormattableString sql, CancellationToken ct)
    {
        await using var command = Command(connection, sql);
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <returns>The first column of the first row, or null when there is no row.</returns>
    public static async Task<object?> ScalarAsync(this NpgsqlConnection connection, FormattableString sql, CancellationToken ct)
    {
        await using var command = Command(connection, sql);
        return await command.ExecuteScalarAsync(ct);
    }

    /// <summary>The rows, each read by <paramref name="row"/> as it streams in.</summary>
    public static async IAsyncEnumerable<T> QueryAsync<T>(this NpgsqlConnection connection, FormattableString sql,
        Func<NpgsqlDataReader, T> row, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var command = Command(connection, sql);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            yield return row(reader);
        }
    }

    /// <summary>
    /// Runs SQL the platform wrote itself where PostgreSQL takes no parameters: a migration script, or a statement that names
    /// a database, a role or a channel (quote such names with <see cref="Identifier"/>). Never pass it anything a person typed.
    /// </summary>
    public static async Task ExecuteTrustedScriptAsync(this NpgsqlConnection connection, string script, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(script, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A name quoted as a PostgreSQL identifier, for <see cref="ExecuteTrustedScriptAsync"/>.</summary>
    public static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static NpgsqlCommand Command(NpgsqlConnection connection, FormattableString sql)
    {
        var arguments = sql.GetArguments();
        var placeholders = new object[arguments.Length];
        var command = new NpgsqlCommand { Connection = connection };
        for (var i = 0; i < arguments.Length; i++)
        {
            placeholders[i] = string.Create(CultureInfo.InvariantCulture, $"${i + 1}");
            command.Parameters.Add(new NpgsqlParameter { Value = arguments[i] ?? DBNull.Value });
        }
        command.CommandText = string.Format(CultureInfo.InvariantCulture, sql.Format, placeholders);
        return command;
    }
}
