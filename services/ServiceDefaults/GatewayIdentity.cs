using Microsoft.AspNetCore.Http;

namespace Fidpass.ServiceDefaults;

/// <summary>
/// Who the gateway says the caller is. The gateway authenticates once, strips these headers from
/// every client request and sets them from its introspection; services sit behind it (network
/// policy) and trust them.
/// </summary>
public sealed record GatewayIdentity(Guid MerchantId, string Slug, string CredentialKind, IReadOnlySet<string> Scopes)
{
    public const string MerchantIdHeader = "X-Fidpass-Merchant-Id";
    public const string MerchantSlugHeader = "X-Fidpass-Merchant-Slug";
    public const string CredentialKindHeader = "X-Fidpass-Credential-Kind";
    public const string ScopesHeader = "X-Fidpass-Scopes";

    /// <summary>Every header the gateway owns; it removes them from incoming requests.</summary>
    public static readonly string[] Headers = [MerchantIdHeader, MerchantSlugHeader, CredentialKindHeader, ScopesHeader];

    public const string DashboardToken = "dashboard_token";
    public const string IntegrationKey = "integration_key";
    public const string Session = "session";

    /// <summary>Set by the gateway on public routes (enrolment): the merchant is known, the caller is not.</summary>
    public const string Anonymous = "anonymous";

    /// <summary>A dashboard token or a web session may do everything for its merchant; a key only its scopes; anonymous nothing.</summary>
    public bool Allows(string scope) => CredentialKind switch
    {
        DashboardToken or Session => true,
        IntegrationKey => Scopes.Contains(scope),
        _ => false,
    };

    public bool IsAuthenticated => CredentialKind is DashboardToken or Session or IntegrationKey;

    public static GatewayIdentity? From(HttpRequest request)
    {
        if (!Guid.TryParse(request.Headers[MerchantIdHeader].ToString(), out var merchantId))
        {
            return null;
        }

        var slug = request.Headers[MerchantSlugHeader].ToString();
        var kind = request.Headers[CredentialKindHeader].ToString();
        var scopes = request.Headers[ScopesHeader].ToString()
            .Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToHashSet(StringComparer.Ordinal);
        return new GatewayIdentity(merchantId, slug, kind, scopes);
    }
}
