using System.Text.Json;
using Fidpass.ServiceDefaults;

namespace Fidpass.StripeTerminal;

/// <summary>
/// Request bodies of the terminal routes: anything but a JSON object (empty, <c>null</c>, <c>[]</c>,
/// not JSON, a field of the wrong kind) is the client's mistake, answered 400 <c>invalid_body</c> before any work.
/// </summary>
public static class JsonBody
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static async Task<(JsonElement Body, IResult? Invalid)> ReadObjectAsync(HttpRequest request, CancellationToken ct)
    {
        JsonElement body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<JsonElement>(request.Body, cancellationToken: ct);
        }
        catch (JsonException)
        {
            return (default, Invalid("Le corps de la requête n'est pas un JSON valide."));
        }

        return body.ValueKind == JsonValueKind.Object ? (body, null) : (default, Invalid("Le corps de la requête doit être un objet JSON."));
    }

    /// <summary>The body as <typeparamref name="T"/> (web casing), or the 400 to answer.</summary>
    public static async Task<(T? Body, IResult? Invalid)> ReadAsync<T>(HttpRequest request, CancellationToken ct)
        where T : class
    {
        var (body, invalid) = await ReadObjectAsync(request, ct);
        if (invalid is not null)
        {
            return (null, invalid);
        }

        try
        {
            return (body.Deserialize<T>(Web), null);
        }
        catch (JsonException)
        {
            return (null, Invalid("Un champ du corps de la requête n'a pas le bon type."));
        }
    }

    private static IResult Invalid(string detail) => ApiProblems.Problem(400, "invalid_body", detail);
}
