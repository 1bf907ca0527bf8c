using Fidpass.ServiceDefaults;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.Primitives;

namespace Fidpass.Gateway.Authentication;

/// <summary>
/// Authenticates each proxied request once, in front of YARP. Client-sent <c>X-Fidpass-*</c>
/// headers are always dropped; the gateway's own are set from merchant-token's introspection.
/// On the compatibility routes the spec's order holds: unknown slug (404) before authentication
/// (401). A credential of another merchant is answered exactly like an unknown one, so nothing
/// tells a caller whether a slug exists behind a credential it does not own.
/// </summary>
public sealed class GatewayAuthentication(RequestDelegate next, CredentialIntrospector introspector, ILogger<GatewayAuthentication> logger)
{
    public const string HeaderPrefix = "X-Fidpass-";
    public const string CredentialIdHeader = "X-Fidpass-Credential-Id";
    public const string DashboardTokenHeader = "X-Dashboard-Token";
    public const string TokenQuery = "token";
    private const int MaxSecretLength = 200;

    /// <summary>A presented credential, as read from the request; <see cref="Ambiguous"/> when it was repeated.</summary>
    public sealed record Presented(string? Secret, bool Ambiguous)
    {
        public string? Fingerprint { get; } = Secret is null ? null : CredentialIntrospector.Fingerprint(Secret);
    }

    public async Task InvokeAsync(HttpContext context)
    {
        StripGatewayHeaders(context.Request);

        if (IsNeverRouted(context.Request.Path))
        {
            await GatewayErrors.NotFound(context);
            return;
        }

        var rules = RouteRules.For(context);
        if (rules is null)
        {
            // The gateway's own endpoints (health, metrics, docs): nothing to authenticate.
            await next(context);
            return;
        }

        try
        {
            if (await AuthenticateAsync(context, rules))
            {
                await next(context);
            }
        }
        catch (IntrospectionUnavailableException ex)
        {
            logger.LogWarning("Authentication unavailable for route {RouteId}: {Reason}", rules.RouteId, ex.Message);
            await GatewayErrors.Unavailable(context);
        }
    }

    private async Task<bool> AuthenticateAsync(HttpContext context, RouteRules rules)
    {
        var slug = context.Request.RouteValues.TryGetValue("slug", out var value) ? value as string : null;
        var ct = context.RequestAborted;
        switch (rules.Auth)
        {
            case RouteRules.None:
            case RouteRules.Operator:
                return true;

            case RouteRules.Anonymous:
                MerchantSummary? merchant = null;
                if (slug is not null && (merchant = await introspector.FindMerchantAsync(slug, ct)) is null)
                {
                    await GatewayErrors.BusinessNotFound(context);
                    return false;
                }

                // A kiosk or till of this merchant may call a public route with its credential (public
                // enrolment then answers an existing member); any other credential counts for nothing.
                var kiosk = merchant is not null && Read(context) is { Ambiguous: false, Secret: { } kioskSecret, Fingerprint: { } kioskFingerprint }
                    ? await introspector.IntrospectAsync(kioskSecret, kioskFingerprint, ct)
                    : null;
                RemoveCredentials(context.Request);
                if (kiosk is not null && string.Equals(kiosk.Slug, merchant!.Slug, StringComparison.Ordinal))
                {
                    SetIdentity(context.Request, kiosk.MerchantIdText, kiosk.Slug, kiosk.Kind, kiosk.ScopesText, kiosk.CredentialIdText);
                }
                else if (merchant is not null)
                {
                    SetIdentity(context.Request, merchant.MerchantIdText, merchant.Slug, GatewayIdentity.Anonymous, "", null);
                }

                return true;
        }

        if (rules.Compat && slug is not null && await introspector.FindMerchantAsync(slug, ct) is null)
        {
            await GatewayErrors.BusinessNotFound(context);
            return false;
        }

        var presented = Read(context);
        var identity = presented is { Ambiguous: false, Secret: { } secret, Fingerprint: { } fingerprint }
            ? await introspector.IntrospectAsync(secret, fingerprint, ct)
            : null;
        if (identity is null || (slug is not null && !string.Equals(identity.Slug, slug, StringComparison.Ordinal)))
        {
            await GatewayErrors.Unauthenticated(context);
            return false;
        }

        RemoveCredentials(context.Request);
        SetIdentity(context.Request, identity.MerchantIdText, identity.Slug, identity.Kind, identity.ScopesText, identity.CredentialIdText);
        return true;
    }

    /// <summary>
    /// The credential, from <c>X-Dashboard-Token</c>, <c>Authorization: Bearer</c> or, on the
    /// compatibility routes only, <c>?token=</c> (in that order). A repeated header or query parameter is ambiguous: 401, never a guess.
    /// Cached on the request because the rate limiter partitions by it first.
    /// </summary>
    public static Presented Read(HttpContext context)
    {
        if (context.Items.TryGetValue(typeof(Presented), out var cached) && cached is Presented known)
        {
            return known;
        }

        var request = context.Request;
        var presented = FromValues(request.Headers[DashboardTokenHeader]);
        if (presented.Secret is null && !presented.Ambiguous)
        {
            var authorization = request.Headers.Authorization;
            if (authorization.Count > 1)
            {
                presented = new Presented(null, true);
            }
            else if (authorization.ToString() is var header && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                presented = FromValues(header["Bearer ".Length..].Trim());
            }
        }

        // Only the historical routes take ?token= (installed tills send it there); on v1 a secret in a URL ends up in
        // proxies' and browsers' histories, so it is not a credential (still stripped before forwarding).
        if (presented.Secret is null && !presented.Ambiguous && RouteRules.For(context) is { Compat: true })
        {
            presented = FromValues(request.Query[TokenQuery]);
        }

        context.Items[typeof(Presented)] = presented;
        return presented;
    }

    private static Presented FromValues(StringValues values) => values.Count switch
    {
        0 => new Presented(null, false),
        > 1 => new Presented(null, true),
        _ => values[0] is { Length: > 0 and <= MaxSecretLength } secret ? new Presented(secret, false) : new Presented(null, values[0]?.Length > MaxSecretLength),
    };

    // /dev is merchant-token's development mailbox: it holds live sign-in links, so no environment routes it.
    private static bool IsNeverRouted(PathString path) =>
        path.StartsWithSegments("/internal") || path.StartsWithSegments("/dev");

    private static void StripGatewayHeaders(HttpRequest request)
    {
        List<string>? spoofed = null;
        foreach (var header in request.Headers)
        {
            if (header.Key.StartsWith(HeaderPrefix, StringComparison.OrdinalIgnoreCase))
            {
                (spoofed ??= []).Add(header.Key);
            }
        }

        spoofed?.ForEach(h => request.Headers.Remove(h));
    }

    /// <summary>Services never see the secret: it stays at the gateway.</summary>
    private static void RemoveCredentials(HttpRequest request)
    {
        request.Headers.Remove(DashboardTokenHeader);
        request.Headers.Remove("Authorization");
        if (MayHoldToken(request.QueryString) && request.Query.ContainsKey(TokenQuery))
        {
            var kept = new QueryBuilder(request.Query
                .Where(q => !string.Equals(q.Key, TokenQuery, StringComparison.OrdinalIgnoreCase))
                .SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string>(q.Key, v ?? ""))));
            request.QueryString = kept.ToQueryString();
        }
    }

    /// <summary>
    /// Whether the raw query can name <c>token</c>: literally, or through a percent-encoded key
    /// (<c>%74oken</c>), which <see cref="HttpRequest.Query"/> decodes. Anything else skips parsing it.
    /// </summary>
    private static bool MayHoldToken(QueryString query) =>
        query.Value is { Length: > 0 } raw && (raw.Contains('%', StringComparison.Ordinal) || raw.Contains(TokenQuery, StringComparison.OrdinalIgnoreCase));

    private static void SetIdentity(HttpRequest request, string merchantId, string slug, string kind, string scopes, string? credentialId)
    {
        request.Headers[GatewayIdentity.MerchantIdHeader] = merchantId;
        request.Headers[GatewayIdentity.MerchantSlugHeader] = slug;
        request.Headers[GatewayIdentity.CredentialKindHeader] = kind;
        request.Headers[GatewayIdentity.ScopesHeader] = scopes;
        if (credentialId is not null)
        {
            request.Headers[CredentialIdHeader] = credentialId;
        }
    }
}
