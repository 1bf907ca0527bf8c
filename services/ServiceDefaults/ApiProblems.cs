using Microsoft.AspNetCore.Http;

namespace Fidpass.ServiceDefaults;

/// <summary>
/// v1 errors: <c>application/problem+json</c> with a stable <c>code</c> extension that clients
/// branch on, and a human (French) <c>detail</c>. Codes are <c>lower_snake_case</c> (docs/errors.md);
/// the historical compatibility routes (<c>/api/businesses/…</c>) keep their <c>{error, code}</c>
/// body and their upper-case codes.
/// </summary>
public static class ApiProblems
{
    public static IResult Problem(int status, string code, string detail, IDictionary<string, object?>? extra = null)
    {
        // One convention for every service; loyalty's refusals are shared with the compatibility
        // routes, where the same code stays upper-case.
        code = code.ToLowerInvariant();
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (extra is not null)
        {
            foreach (var (key, value) in extra)
            {
                extensions[key] = value;
            }
        }

        return TypedResults.Problem(detail: detail, statusCode: status, title: code, extensions: extensions);
    }

    public static bool IsCompatPath(PathString path) => path.StartsWithSegments("/api/businesses");

    /// <summary>An answer written outside an endpoint (middleware), in the body style of the route family.</summary>
    public static Task Refuse(HttpContext context, int status, string code, string detail)
    {
        if (IsCompatPath(context.Request.Path))
        {
            context.Response.StatusCode = status;
            return context.Response.WriteAsJsonAsync(new { error = detail, code = code.ToUpperInvariant() });
        }

        return Problem(status, code, detail).ExecuteAsync(context);
    }

    /// <summary>The code of an error the framework answers by itself (no route, wrong method, body refused…).</summary>
    public static string CodeFor(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "invalid_request",
        StatusCodes.Status401Unauthorized => "unauthenticated",
        StatusCodes.Status403Forbidden => "forbidden",
        StatusCodes.Status404NotFound => "not_found",
        StatusCodes.Status405MethodNotAllowed => "method_not_allowed",
        StatusCodes.Status406NotAcceptable => "not_acceptable",
        StatusCodes.Status408RequestTimeout => "request_timeout",
        StatusCodes.Status411LengthRequired => "length_required",
        StatusCodes.Status413PayloadTooLarge => RequestGuard.PayloadTooLarge,
        StatusCodes.Status415UnsupportedMediaType => "unsupported_media_type",
        StatusCodes.Status431RequestHeaderFieldsTooLarge => "headers_too_large",
        >= 500 => "internal_error",
        _ => "invalid_request",
    };

    /// <summary>French details for the framework's own answers, where a merchant may read them.</summary>
    public static string DetailFor(int status) => status switch
    {
        StatusCodes.Status404NotFound => "Ressource introuvable.",
        StatusCodes.Status405MethodNotAllowed => "Méthode HTTP non permise sur cette ressource.",
        StatusCodes.Status413PayloadTooLarge => "Le corps de la requête est trop volumineux.",
        StatusCodes.Status415UnsupportedMediaType => "Type de contenu non pris en charge : envoyez du JSON (Content-Type: application/json).",
        >= 500 => "Erreur interne ; réessayez plus tard.",
        _ => "Requête invalide.",
    };
}
