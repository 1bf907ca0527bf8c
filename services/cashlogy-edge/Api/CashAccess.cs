using System.Text.Json;
using System.Text.RegularExpressions;
using Fidpass.CashlogyEdge.Machines;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.CashlogyEdge.Api;

/// <summary>Who may touch <c>/cash/…</c>, and the strict reading of till input (nothing reaches the machine before it passes).</summary>
public static partial class CashAccess
{
    public const string Scope = "cash";

    /// <summary>Amounts above this (10 000 €) are refused: no till sale in a café needs more, and a typo should not reach a machine.</summary>
    public const long MaxAmount = 1_000_000;

    public static bool TryIdentify(HttpRequest request, string slug, out GatewayIdentity identity, out IResult? problem)
    {
        identity = GatewayIdentity.From(request)!;
        problem = null;
        if (identity is null || !identity.IsAuthenticated)
        {
            problem = ApiProblems.Problem(401, "unauthenticated", "Authentification requise.");
            return false;
        }

        if (!string.Equals(identity.Slug, slug, StringComparison.Ordinal))
        {
            problem = ApiProblems.Problem(404, "merchant_not_found", "Commerce inconnu.");
            return false;
        }

        if (!identity.Allows(Scope))
        {
            problem = ApiProblems.Problem(403, "scope_missing", "Cette clé n'a pas le droit « cash ».");
            return false;
        }

        return true;
    }

    /// <summary>A machine of this merchant, or 404 (another merchant's machine is "unknown", never revealed).</summary>
    public static async Task<Machine?> FindMachineAsync(IQuerySession session, GatewayIdentity identity, Guid machineId, CancellationToken cancellationToken)
    {
        var machine = await session.LoadAsync<Machine>(machineId, cancellationToken);
        return machine is not null && machine.MerchantId == identity.MerchantId ? machine : null;
    }

    public static IResult MachineNotFound() => ApiProblems.Problem(404, "machine_not_found", "Machine inconnue pour ce commerce.");

    /// <summary>An amount in cents: a JSON integer, &gt; 0, at most <see cref="MaxAmount"/>. "12.5", "12", 0, -1 are refused.</summary>
    public static bool TryAmount(JsonElement body, string name, out long amount)
    {
        amount = 0;
        return body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number &&
            value.TryGetInt64(out amount) && amount > 0 && amount <= MaxAmount;
    }

    public static IResult InvalidAmount(string name = "amount") =>
        ApiProblems.Problem(400, "invalid_amount", $"« {name} » doit être un nombre entier de centimes, supérieur à 0 et au plus {MaxAmount}.");

    /// <summary>
    /// What every operation a till starts needs, checked before anything else: the caller, a JSON
    /// object body and the till's request id (the operation's idempotency key).
    /// </summary>
    public static bool TryReadCommand(HttpRequest request, string slug, JsonBody input,
        out GatewayIdentity identity, out JsonElement body, out string requestId, out IResult? problem)
    {
        body = default;
        requestId = "";
        if (!TryIdentify(request, slug, out identity, out problem))
        {
            return false;
        }

        if (!input.IsObject)
        {
            problem = InvalidJson();
            return false;
        }

        body = input.Value;
        if (!TryRequestId(body, out requestId))
        {
            problem = InvalidRequestId();
            return false;
        }

        return true;
    }

    /// <summary>The till's request id: it becomes a Connector parameter, so only safe characters (never '#').</summary>
    public static bool TryRequestId(JsonElement body, out string requestId)
    {
        requestId = "";
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("requestId", out var value) || value.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        requestId = value.GetString()!;
        return SafeText().IsMatch(requestId);
    }

    public static IResult InvalidRequestId() =>
        ApiProblems.Problem(400, "invalid_request_id", "« requestId » est obligatoire : 1 à 64 caractères parmi lettres, chiffres, « . _ : - ».");

    public static string? OptionalString(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static bool OptionalBool(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    /// <summary>
    /// Back-office operations (menu <c>#G#</c>, float, stacker, close of day, dispense by denomination,
    /// payout outside a sale, maintenance, reset) are for the roles the machine allows (spec 5.5 item 7).
    /// The merchant's own dashboard token or web session may always; a till's integration key says which
    /// of its users asks (<c>operator.role</c>, <c>operator.id</c>): the till authenticates its cashiers,
    /// Fidpass applies the merchant's rule and journals who did it.
    /// </summary>
    public static bool TryAuthorizeBackOffice(GatewayIdentity identity, JsonElement body, Machine machine, out OperatorInfo? who, out IResult? problem)
    {
        problem = null;
        who = null;
        if (identity.CredentialKind is GatewayIdentity.DashboardToken or GatewayIdentity.Session)
        {
            who = new OperatorInfo(identity.CredentialKind, null);
            return true;
        }

        var allowed = machine.AllowedBackOfficeRoles;
        var roles = string.Join(", ", allowed);
        JsonElement op = default;
        var role = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("operator", out op) ? OptionalString(op, "role") : null;
        if (string.IsNullOrEmpty(role))
        {
            problem = ApiProblems.Problem(403, "operator_role_required",
                $"Opération de back-office réservée aux rôles : {roles}. Indiquez « operator.role » du caissier connecté. Rien n'a été envoyé.");
            return false;
        }

        var id = OptionalString(op, "id");
        if (!IsSafe(role) || (id is not null && !IsSafe(id)))
        {
            problem = ApiProblems.Problem(400, "invalid_operator", "« operator » : { \"id\", \"role\" }, 1 à 64 caractères parmi lettres, chiffres, « . _ : - ».");
            return false;
        }

        if (!allowed.Contains(role, StringComparer.OrdinalIgnoreCase))
        {
            problem = ApiProblems.Problem(403, "operator_role_forbidden",
                $"Le rôle « {role} » ne peut pas faire cette opération sur cette machine (rôles autorisés : {roles}). Rien n'a été envoyé.");
            return false;
        }

        who = new OperatorInfo(role, id);
        return true;
    }

    public static IResult InvalidJson() => ApiProblems.Problem(400, "invalid_json", "Le corps de la requête doit être un objet JSON valide.");

    public static bool IsSafe(string text) => SafeText().IsMatch(text);

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,64}$")]
    private static partial Regex SafeText();
}

/// <summary>Who ran a back-office operation: the till's role and user id, or the merchant's own credential kind.</summary>
public sealed record OperatorInfo(string Role, string? Id);

/// <summary>
/// The request body read by the endpoint itself, so a malformed or missing body becomes our own
/// 400 problem with a stable code instead of the framework's binding error.
/// </summary>
public sealed record JsonBody(JsonElement Value, bool IsObject)
{
    public static async ValueTask<JsonBody> BindAsync(HttpContext context)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            return new JsonBody(document.RootElement.Clone(), document.RootElement.ValueKind == JsonValueKind.Object);
        }
        catch (JsonException)
        {
            return new JsonBody(default, false);
        }
    }
}
