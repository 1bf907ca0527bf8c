using System.Text.Json;
using Fidpass.MerchantToken.Merchants;
using Fidpass.ServiceDefaults;
using Npgsql;

namespace Fidpass.MerchantToken;

/// <summary>Request plumbing shared by the features: JSON bodies that never 500, refusals as problem+json.</summary>
public static class Http
{
    /// <summary>Reads a JSON body; anything unreadable (not JSON, wrong types, empty) is a 400 <c>INVALID_BODY</c>.</summary>
    public static async Task<T> ReadBodyAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await request.ReadFromJsonAsync<T>(cancellationToken)
                ?? throw new Rejected(StatusCodes.Status400BadRequest, "INVALID_BODY", "Le corps de la requête doit être un objet JSON.");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or BadHttpRequestException)
        {
            throw new Rejected(StatusCodes.Status400BadRequest, "INVALID_BODY", "Le corps de la requête doit être un objet JSON valide.");
        }
    }

    /// <summary>Turns <see cref="Rejected"/> into problem+json with its stable code.</summary>
    public static RouteGroupBuilder WithRejections(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context);
            }
            catch (Rejected rejected)
            {
                return ApiProblems.Problem(rejected.Status, rejected.Code, rejected.Message);
            }
        });
        return group;
    }

    /// <summary>The identity the gateway resolved, when it belongs to <paramref name="slug"/>; otherwise the caller is unknown here.</summary>
    public static GatewayIdentity RequireMerchant(HttpRequest request, string slug)
    {
        var identity = GatewayIdentity.From(request);
        if (identity is null || !identity.IsAuthenticated || !string.Equals(identity.Slug, slug, StringComparison.Ordinal))
        {
            throw new Rejected(StatusCodes.Status401Unauthorized, "UNAUTHENTICATED", "Jeton invalide ou manquant.");
        }

        return identity;
    }

    /// <summary>Managing credentials is for the merchant (dashboard token or web session), never for an integration key.</summary>
    public static GatewayIdentity RequireOwner(HttpRequest request, string slug)
    {
        var identity = RequireMerchant(request, slug);
        if (identity.CredentialKind is not (GatewayIdentity.DashboardToken or GatewayIdentity.Session))
        {
            throw new Rejected(StatusCodes.Status403Forbidden, "FORBIDDEN",
                "Seul le commerçant (jeton du tableau de bord ou session) peut gérer ses identifiants ; une clé d'intégration ne le peut pas.");
        }

        return identity;
    }

    public static bool IsUniqueViolation(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                return true;
            }
        }

        return false;
    }
}
