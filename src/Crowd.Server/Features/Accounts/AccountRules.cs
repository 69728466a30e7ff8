using System.Net.Mail;
using Crowd.Server.Infrastructure.Web;

namespace Crowd.Server.Features.Accounts;

public sealed record SignUpRequest(
    string? Email, string? Password, string? DisplayName, DateOnly? DateOfBirth, string? Role,
    string? OrganisationName = null, string? PreferredLanguage = null);

public sealed record SignInRequest(string? Email, string? Password);

/// <summary>The answer to every accepted sign-up, whether or not the address already had an account.</summary>
public sealed record SignUpAccepted(string Detail)
{
    public const string Message = "Thank you. We have sent a message to that email address. Sign in with it and your password to continue.";
}

public sealed record AccountResponse(Guid Id, string Email, string DisplayName, string[] Roles, Guid? OrganisationId,
    string? OrganisationName, string AuthenticatedBy);

/// <summary>What a sign-up must satisfy before any row is written. Pure: no HTTP, no database.</summary>
public static class AccountRules
{
    public const int MaxEmailLength = 256;
    public const int MaxDisplayNameLength = 100;
    public const int MaxOrganisationNameLength = 200;
    public static readonly string[] SelfServiceRoles = [Roles.Contributor, Roles.Requester, Roles.Supplier];

    /// <summary>An address an account can have: at sign-up and when the address changes.</summary>
    public static List<FieldError> ValidateEmail(string? email)
    {
        if (string.IsNullOrWhiteSpace(email))
        {
            return [new("email", "Enter your email address.")];
        }
        if (TextRules.Check("email", email, TextKind.Line) is { } emailText)
        {
            return [emailText];
        }
        if (email.Length > MaxEmailLength || !MailAddress.TryCreate(email, out var parsed) || parsed.Address != email.Trim())
        {
            return [new("email", "Enter a valid email address, like name@example.com.")];
        }
        return [];
    }

    public static List<FieldError> Validate(SignUpRequest request, DateOnly today)
    {
        var errors = ValidateEmail(request.Email);

        errors.AddRange(Passwords.PasswordRules.Validate(request.Password, [request.Email, request.DisplayName, request.OrganisationName]));

        var name = request.DisplayName?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            errors.Add(new("displayName", "Enter the name you want to be called."));
        }
        else if (name.Length > MaxDisplayNameLength)
        {
            errors.Add(new("displayName", "Keep the name to {0} characters or fewer.", MaxDisplayNameLength));
        }
        else if (TextRules.Check("displayName", name, TextKind.Line) is { } nameText)
        {
            errors.Add(nameText);
        }

        if (request.DateOfBirth is not { } born)
        {
            errors.Add(new("dateOfBirth", "Enter your date of birth."));
        }
        else if (born > today)
        {
            errors.Add(new("dateOfBirth", "The date of birth is in the future."));
        }
        else if (born < today.AddYears(-120))
        {
            errors.Add(new("dateOfBirth", "Check the year of your date of birth."));
        }

        if (request.Role is null || !SelfServiceRoles.Contains(request.Role))
        {
            errors.Add(new("role", "Choose whether you record (contributor), post jobs (requester) or recruit (supplier)."));
        }
        else if (request.Role is Roles.Requester or Roles.Supplier)
        {
            var organisation = request.OrganisationName?.Trim();
            if (string.IsNullOrEmpty(organisation))
            {
                errors.Add(new("organisationName", "Enter your organisation's name."));
            }
            else if (organisation.Length > MaxOrganisationNameLength)
            {
                errors.Add(new("organisationName", "Keep the organisation name to {0} characters or fewer.", MaxOrganisationNameLength));
            }
            else if (TextRules.Check("organisationName", organisation, TextKind.Line) is { } organisationText)
            {
                errors.Add(organisationText);
            }
        }
        return errors;
    }
}
