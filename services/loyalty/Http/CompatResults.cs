using System.Text.Json;
using Fidpass.Loyalty.Crediting;
using Fidpass.ServiceDefaults;

namespace Fidpass.Loyalty.Http;

/// <summary>The historical error body of the compatibility routes: <c>{"error","code"}</c>.</summary>
public static class CompatResults
{
    public static IResult Unauthorized() =>
        Results.Json(new { error = Access.InvalidToken }, statusCode: StatusCodes.Status401Unauthorized);

    public static IResult Error(int status, string code, string message) =>
        Results.Json(new { error = message, code }, statusCode: status);

    public static IResult From(Refusal refusal) => Error(refusal.Status, refusal.Code, refusal.Message);

    public static IResult Problem(Refusal refusal) => ApiProblems.Problem(refusal.Status, refusal.Code, refusal.Message);

    public static readonly Refusal MemberNotFound = new(404, "MEMBER_NOT_FOUND", "Aucun membre de ce commerce ne correspond à ce code.");

    public static readonly Refusal InvalidJson = new(400, "INVALID_JSON", "Le corps de la requête doit être un objet JSON.");

    /// <summary>Reads the raw body as a JSON object, so a malformed body is our 400, not a framework error.</summary>
    public static async Task<(JsonElement Body, string Raw, Refusal? Refusal)> ReadObjectAsync(HttpRequest request, CancellationToken ct)
    {
        using var reader = new StreamReader(request.Body);
        var raw = await reader.ReadToEndAsync(ct);
        try
        {
            using var document = JsonDocument.Parse(raw);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? (document.RootElement.Clone(), raw, null)
                : (default, raw, InvalidJson);
        }
        catch (JsonException)
        {
            return (default, raw, InvalidJson);
        }
    }

    /// <summary>The barcode field: required, a string, holding exactly one UUID (else unknown member).</summary>
    public static (Guid? MemberId, Refusal? Refusal) ReadBarcode(JsonElement body)
    {
        if (!body.TryGetProperty("barcode", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return (null, new Refusal(400, "BARCODE_MISSING", "Le code-barres (barcode) est obligatoire."));
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            return (null, new Refusal(400, "BARCODE_MISSING", "Le code-barres (barcode) doit être une chaîne de caractères."));
        }

        var text = value.GetString();
        return string.IsNullOrWhiteSpace(text)
            ? (null, new Refusal(400, "BARCODE_MISSING", "Le code-barres (barcode) est obligatoire."))
            : (MemberBarcode.Normalise(text), null);
    }
}
