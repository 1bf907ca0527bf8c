using Microsoft.AspNetCore.Http;

namespace Fidpass.ServiceDefaults;

/// <summary>
/// v1 errors: <c>application/problem+json</c> with a stable <c>code</c> extension that clients
/// branch on, and a human (French) <c>detail</c>.
/// </summary>
public static class ApiProblems
{
    public static IResult Problem(int status, string code, string detail, IDictionary<string, object?>? extra = null)
    {
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
}
