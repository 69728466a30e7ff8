using System.Text.RegularExpressions;
using Crowd.Server.Infrastructure.Web;

namespace Crowd.Server.Features.Payouts;

/// <summary>What a bank card, Alipay or WeChat Pay account number must look like, and how it is shown: never in full.</summary>
public static partial class PayoutMethodRules
{
    public const int MaxPayeeLength = 200;

    /// <summary>The account number's field: room for what people paste; the patterns below accept far less.</summary>
    public const int MaxAccountNumberLength = 200;

    /// <summary>The number as the batch file carries it (a card without its spaces and dashes), or field errors.</summary>
    public static (string? Number, IReadOnlyList<FieldError> Errors) Validate(string? payeeName, PayoutAccountKind? kind, string? accountNumber)
    {
        var errors = new List<FieldError>();
        var payee = (payeeName ?? "").Trim();
        if (payee.Length is 0 or > MaxPayeeLength)
        {
            errors.Add(new FieldError("payeeName", "Enter the account holder's name, as the bank knows it."));
        }
        else if (TextRules.Check("payeeName", payee, TextKind.Line) is { } payeeText)
        {
            errors.Add(payeeText);
        }
        var typed = (accountNumber ?? "").Trim();
        string? number = kind switch
        {
            PayoutAccountKind.BankCard when CardNumber().IsMatch(typed) => typed.Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal),
            PayoutAccountKind.Alipay when MobileNumber().IsMatch(typed) || EmailAddress().IsMatch(typed) => typed,
            PayoutAccountKind.WeChatPay when MobileNumber().IsMatch(typed) || WeChatId().IsMatch(typed) => typed,
            _ => null,
        };
        if (number is null)
        {
            errors.Add(new FieldError("accountNumber", kind switch
            {
                PayoutAccountKind.BankCard => "Enter the bank card number: 12 to 19 digits.",
                PayoutAccountKind.Alipay => "Enter the Alipay account: the mobile number or email address it is registered with.",
                PayoutAccountKind.WeChatPay => "Enter the WeChat Pay account: the mobile number or WeChat ID it is registered with.",
                _ => "Choose whether payouts go to a bank card, Alipay or WeChat Pay.",
            }));
        }
        return (errors.Count == 0 ? number : null, errors);
    }

    /// <summary>The last four characters of an account number, the only part ever shown.</summary>
    public static string LastFour(string number)
    {
        var compact = number.Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        return compact.Length <= 4 ? compact : compact[^4..];
    }

    /// <summary>The kind's name, an English text key the pages translate.</summary>
    public static string KindName(PayoutAccountKind kind) => kind switch
    {
        PayoutAccountKind.Alipay => "Alipay",
        PayoutAccountKind.WeChatPay => "WeChat Pay",
        _ => "Bank card",
    };

    /// <summary>An account number as pages show it: four dots for everything but the last four characters.</summary>
    public static string Masked(string? lastFour) => "•••• " + (lastFour ?? "");

    [GeneratedRegex(@"^(?:\d[ -]?){11,18}\d$")]
    private static partial Regex CardNumber();

    [GeneratedRegex(@"^1\d{10}$")]
    private static partial Regex MobileNumber();

    [GeneratedRegex(@"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")]
    private static partial Regex EmailAddress();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_-]{5,19}$")]
    private static partial Regex WeChatId();
}
