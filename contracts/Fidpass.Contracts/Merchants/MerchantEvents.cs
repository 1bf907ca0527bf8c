namespace Fidpass.Contracts.Merchants;

/// <summary>A merchant account was created (by an operator or by self sign-up).</summary>
/// <param name="MerchantId">The merchant's id.</param>
/// <param name="Slug">Public identifier used in URLs (<c>cafe-dupont</c>).</param>
/// <param name="Name">Display name.</param>
/// <param name="Email">Contact e-mail, lower case.</param>
/// <param name="OccurredAt">When (UTC).</param>
public sealed record MerchantRegistered(Guid MerchantId, string Slug, string Name, string Email, DateTimeOffset OccurredAt);

/// <summary>What kind of credential was revoked.</summary>
public enum CredentialKind
{
    /// <summary>The dashboard token of the emailed link.</summary>
    DashboardToken = 1,

    /// <summary>A scoped integration key.</summary>
    IntegrationKey = 2,

    /// <summary>A web session.</summary>
    Session = 3,
}

/// <summary>
/// A credential stopped being valid (key revoked, dashboard token regenerated, session ended).
/// Every gateway replica drops it from its introspection cache on receipt.
/// </summary>
/// <param name="CredentialId">Id of the credential (never the secret itself).</param>
/// <param name="MerchantId">Its merchant.</param>
/// <param name="Kind">Its kind.</param>
/// <param name="OccurredAt">When (UTC).</param>
public sealed record CredentialRevoked(Guid CredentialId, Guid MerchantId, CredentialKind Kind, DateTimeOffset OccurredAt);

/// <summary>
/// A merchant changed how their shop looks to customers: the enrolment page, the card page and the
/// wallet passes show this name, these colours and this logo. Published by merchant-token each time
/// the merchant saves them; the newest <paramref name="OccurredAt"/> wins.
/// </summary>
/// <param name="MerchantId">The merchant's id.</param>
/// <param name="Slug">Public identifier used in URLs.</param>
/// <param name="Name">The shop's name as customers see it.</param>
/// <param name="BackgroundColor">Card background, <c>#RRGGBB</c>.</param>
/// <param name="ForegroundColor">Text on the card, <c>#RRGGBB</c> (chosen for contrast with the background).</param>
/// <param name="LogoPngBase64">The shop's logo, a PNG of at most 64 KB, base64; null when the merchant has none.</param>
/// <param name="OccurredAt">When (UTC).</param>
public sealed record MerchantBrandingChanged(
    Guid MerchantId,
    string Slug,
    string Name,
    string BackgroundColor,
    string ForegroundColor,
    string? LogoPngBase64,
    DateTimeOffset OccurredAt);
