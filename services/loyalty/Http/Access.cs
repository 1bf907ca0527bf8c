using Fidpass.ServiceDefaults;

namespace Fidpass.Loyalty.Http;

/// <summary>
/// The gateway authenticated the caller and named its merchant; loyalty still refuses a request
/// whose identity is missing or belongs to another slug (a token of merchant A on B's routes is an
/// unknown token), and a key without the route's scope.
/// </summary>
public static class Access
{
    public const string InvalidToken = "Jeton invalide ou manquant.";

    public static IResult? Compat(HttpRequest request, string slug, string scope, out GatewayIdentity identity)
    {
        identity = GatewayIdentity.From(request)!;
        if (identity is null || !identity.IsAuthenticated || !SameSlug(identity, slug))
        {
            return CompatResults.Unauthorized();
        }

        // Compatibility routes keep the historical body (error + code) that installed tills read.
        return identity.Allows(scope) ? null : CompatResults.Error(StatusCodes.Status403Forbidden, "FORBIDDEN_SCOPE", ScopeMessage(scope));
    }

    /// <summary>Public routes (enrolment): the gateway resolved the merchant, nobody is signed in.</summary>
    public static IResult? Public(HttpRequest request, string slug, out GatewayIdentity identity)
    {
        identity = GatewayIdentity.From(request)!;
        return identity is null || !SameSlug(identity, slug) ? CompatResults.Unauthorized() : null;
    }

    public static IResult? V1(HttpRequest request, string slug, string scope, out GatewayIdentity identity)
    {
        identity = GatewayIdentity.From(request)!;
        if (identity is null || !identity.IsAuthenticated || !SameSlug(identity, slug))
        {
            return ApiProblems.Problem(StatusCodes.Status401Unauthorized, "UNAUTHENTICATED", "Authentification requise pour ce commerçant.");
        }

        return identity.Allows(scope) ? null : ForbiddenScope(scope);
    }

    /// <summary>Routes open to either of two scopes (a reversal: the till that scanned, or member management).</summary>
    public static IResult? V1Any(HttpRequest request, string slug, string scope, string otherScope, out GatewayIdentity identity)
    {
        var denied = V1(request, slug, scope, out identity);
        return denied is not null && identity is not null && identity.IsAuthenticated && identity.Allows(otherScope) ? null : denied;
    }

    private static IResult ForbiddenScope(string scope) =>
        ApiProblems.Problem(StatusCodes.Status403Forbidden, "FORBIDDEN_SCOPE", ScopeMessage(scope));

    private static string ScopeMessage(string scope) => $"Cette clé n'a pas le droit « {scope} ».";

    private static bool SameSlug(GatewayIdentity identity, string slug) =>
        string.Equals(identity.Slug, slug, StringComparison.OrdinalIgnoreCase);
}

public static class Scopes
{
    public const string Lookup = "lookup";
    public const string Scan = "scan";
    public const string Program = "program";
    public const string Members = "members";
}
