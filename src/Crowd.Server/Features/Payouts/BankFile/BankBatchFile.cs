using System.Globalization;
using System.Text;
using Crowd.Server.Infrastructure.Money;

namespace Crowd.Server.Features.Payouts.BankFile;

public sealed record BankBatchLine(string Payee, string AccountReference, long AmountMinor, string Currency, Guid PayoutId);

/// <summary>
/// The batch file a bank (or Alipay / WeChat Pay batch transfer) takes: one line per payout, the payout id as the
/// transfer reference so the bank's report maps back to exactly one payout.
/// </summary>
public static class BankBatchFile
{
    public const string Header = "payee,account_reference,amount,currency,reference";

    public static string Csv(IEnumerable<BankBatchLine> lines)
    {
        var csv = new StringBuilder(Header).Append('\n');
        foreach (var line in lines)
        {
            csv.Append(Field(line.Payee)).Append(',')
                .Append(Field(line.AccountReference)).Append(',')
                .Append(Currencies.ToMajor(new Money(line.AmountMinor, line.Currency)).ToString("F" + Currencies.Exponent(line.Currency), CultureInfo.InvariantCulture)).Append(',')
                .Append(line.Currency).Append(',')
                .Append(line.PayoutId.ToString("N")).Append('\n');
        }
        return csv.ToString();
    }

    // Quotes what needs quoting, and defuses a leading = + - @ so a spreadsheet does not run a payee's name as a formula.
    private static string Field(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }
        return value.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
