using Fidpass.ServiceDefaults;

namespace Fidpass.Gateway.Authentication;

/// <summary>Answers the gateway gives itself, in the body style of the route family.</summary>
public static class GatewayErrors
{
    public const string InvalidTokenMessage = "Jeton invalide ou manquant.";

    public static Task Unauthenticated(HttpContext context)
    {
        if (RouteRules.IsCompatPath(context))
        {
            // The historical body, exactly: existing tills compare it.
            return Compat(context, StatusCodes.Status401Unauthorized, new { error = InvalidTokenMessage });
        }

        context.Response.Headers.WWWAuthenticate = "Bearer";
        return V1(context, StatusCodes.Status401Unauthorized, "UNAUTHENTICATED", InvalidTokenMessage);
    }

    public static Task BusinessNotFound(HttpContext context) => RouteRules.IsCompatPath(context)
        ? Compat(context, StatusCodes.Status404NotFound, new { error = "Commerce introuvable.", code = "BUSINESS_NOT_FOUND" })
        : V1(context, StatusCodes.Status404NotFound, "BUSINESS_NOT_FOUND", "Commerce introuvable.");

    public static Task NotFound(HttpContext context) => V1(context, StatusCodes.Status404NotFound, "NOT_FOUND", "Ressource introuvable.");

    public static Task TooLarge(HttpContext context, long limit) => Error(context, StatusCodes.Status413PayloadTooLarge, "PAYLOAD_TOO_LARGE",
        $"Le corps de la requête dépasse la taille maximale ({limit} octets).");

    public static Task RateLimited(HttpContext context) => Error(context, StatusCodes.Status429TooManyRequests, "RATE_LIMITED",
        "Trop de requêtes : réessayez après le délai indiqué par l'en-tête Retry-After.");

    public static Task Unavailable(HttpContext context) => Error(context, StatusCodes.Status503ServiceUnavailable, "AUTHENTICATION_UNAVAILABLE",
        "Le service d'authentification ne répond pas ; réessayez dans quelques secondes.");

    private static Task Error(HttpContext context, int status, string code, string message) => RouteRules.IsCompatPath(context)
        ? Compat(context, status, new { error = message, code })
        : V1(context, status, code, message);

    private static Task Compat(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(body);
    }

    private static Task V1(HttpContext context, int status, string code, string detail) =>
        ApiProblems.Problem(status, code, detail).ExecuteAsync(context);
}
