using System.Text.Json;
using Fidpass.Contracts.Merchants;
using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Expiry;
using Fidpass.Loyalty.Http;
using Marten;
using MassTransit;

namespace Fidpass.Loyalty.Programs;

/// <summary>GET/PUT a merchant's rules (spec section 3). Euros in the API, cents in storage.</summary>
public static class ProgramApi
{
    public static IEndpointRouteBuilder MapProgramApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/merchants/{slug}/program").WithTags("Programme");
        group.MapGet("", GetAsync).WithSummary("Règles du programme de fidélité");
        group.MapPut("", PutAsync).WithSummary("Modifier les règles du programme de fidélité");
        return app;
    }

    public static object Render(LoyaltyProgram p) => new
    {
        type = p.Type,
        pointsPerEuro = p.PointsPerEuro,
        pointsPerVisit = p.PointsPerVisit,
        minAmountEur = p.MinAmountCents == 0 ? (decimal?)null : p.MinAmountCents / 100m,
        maxPointsPerOperation = p.MaxPointsPerOperation,
        maxPointsPerMemberPerDay = p.MaxPointsPerMemberPerDay,
        pointsExpiry = p.Expiry is { } rule ? new { policy = rule.Policy, months = rule.Months, since = rule.Since } : null,
    };

    private static async Task<IResult> GetAsync(string slug, HttpRequest request, IQuerySession session, CancellationToken ct)
    {
        if (Access.V1(request, slug, Scopes.Program, out var identity) is { } denied)
        {
            return denied;
        }

        var program = await session.LoadAsync<LoyaltyProgram>(identity.MerchantId, ct) ?? LoyaltyProgram.Default(identity.MerchantId);
        return Results.Json(Render(program));
    }

    private static async Task<IResult> PutAsync(string slug, HttpRequest request, IDocumentSession session, TimeProvider time, CancellationToken ct)
    {
        if (Access.V1(request, slug, Scopes.Program, out var identity) is { } denied)
        {
            return denied;
        }

        var (body, _, bodyRefusal) = await CompatResults.ReadObjectAsync(request, ct);
        if (bodyRefusal is not null)
        {
            return CompatResults.Problem(bodyRefusal);
        }

        var (program, refusal) = Validate(identity.MerchantId, body, CreditDecider.MerchantDay(time.GetUtcNow()));
        if (refusal is not null)
        {
            return CompatResults.Problem(refusal);
        }

        // The same rule sent again keeps the day it started from (a form saved for another field must
        // not push every expiry back).
        if (program!.Expiry is { } rule && await session.LoadAsync<LoyaltyProgram>(identity.MerchantId, ct) is { Expiry: { } stored } && rule.SameAs(stored))
        {
            program = program with { Expiry = stored };
        }

        session.Store(program);
        await session.SaveChangesAsync(ct);
        return Results.Json(Render(program));
    }

    /// <param name="today">The merchant's day, when a new expiry rule starts counting from.</param>
    public static (LoyaltyProgram? Program, Refusal? Refusal) Validate(Guid merchantId, JsonElement body, DateOnly today)
    {
        static Refusal Invalid(string field, string message) => new(400, "INVALID_PROGRAM", $"{field} : {message}");

        var type = body.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (type is not (LoyaltyProgram.PointsType or LoyaltyProgram.StampsType))
        {
            return (null, Invalid("type", "« points » ou « stamps »."));
        }

        if (!ReadCount(body, "pointsPerEuro", required: true, max: 1000, out var perEuro))
        {
            return (null, Invalid("pointsPerEuro", "entier de 0 à 1000 obligatoire."));
        }

        if (!ReadCount(body, "pointsPerVisit", required: true, max: 1000, out var perVisit))
        {
            return (null, Invalid("pointsPerVisit", "entier de 0 à 1000 obligatoire."));
        }

        long minCents = 0;
        if (body.TryGetProperty("minAmountEur", out var min) && min.ValueKind != JsonValueKind.Null
            && !Money.TryParseEuros(min, out minCents, out var error))
        {
            return (null, Invalid("minAmountEur", error));
        }

        if (!ReadCount(body, "maxPointsPerOperation", required: false, max: CreditDecider.MaxExplicitPoints, out var perOperation) || perOperation == 0)
        {
            return (null, Invalid("maxPointsPerOperation", "entier positif ou absent."));
        }

        if (!ReadCount(body, "maxPointsPerMemberPerDay", required: false, max: CreditDecider.MaxExplicitPoints, out var perDay) || perDay == 0)
        {
            return (null, Invalid("maxPointsPerMemberPerDay", "entier positif ou absent."));
        }

        var (expiry, expiryError) = ReadExpiry(body, today);
        if (expiryError is not null)
        {
            return (null, Invalid("pointsExpiry", expiryError));
        }

        return (new LoyaltyProgram(merchantId, type, perEuro!.Value, perVisit!.Value, minCents, perOperation, perDay, expiry), null);
    }

    /// <summary><c>pointsExpiry</c>: absent or null (never), or <c>{"policy": "inactivity"|"age", "months": 1…120}</c>.</summary>
    private static (ExpiryRule? Rule, string? Error) ReadExpiry(JsonElement body, DateOnly today)
    {
        if (!body.TryGetProperty("pointsExpiry", out var expiry) || expiry.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        const string Shape = "objet { \"policy\": \"inactivity\" ou \"age\", \"months\": nombre de mois } ou null pour des points qui n'expirent jamais.";
        if (expiry.ValueKind != JsonValueKind.Object)
        {
            return (null, Shape);
        }

        var policy = expiry.TryGetProperty("policy", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
        if (policy is not (ExpiryRule.Inactivity or ExpiryRule.Age))
        {
            return (null, "policy vaut « inactivity » (tout le solde après N mois sans activité) ou « age » (chaque crédit N mois après l'avoir gagné).");
        }

        if (!expiry.TryGetProperty("months", out var m) || m.ValueKind != JsonValueKind.Number || !m.TryGetInt32(out var months)
            || months < 1 || months > ExpiryRule.MaxMonths)
        {
            return (null, $"months est un nombre entier de mois, de 1 à {ExpiryRule.MaxMonths}.");
        }

        return (new ExpiryRule(policy, months, today), null);
    }

    private static bool ReadCount(JsonElement body, string name, bool required, long max, out long? value)
    {
        value = null;
        if (!body.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return !required;
        }

        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out var number) || number < 0 || number > max)
        {
            return false;
        }

        value = number;
        return true;
    }
}

/// <summary>A new merchant starts with the default program (redelivery finds it there and changes nothing) and a public profile for card pages.</summary>
public sealed class MerchantRegisteredConsumer(IDocumentStore store) : IConsumer<MerchantRegistered>
{
    public async Task Consume(ConsumeContext<MerchantRegistered> context)
    {
        await using var session = store.LightweightSession();
        var message = context.Message;

        // The public name the member's card page shows (last message wins; a name never changes the program).
        session.Store(new Cards.MerchantProfile(message.MerchantId, message.Slug, message.Name));
        await session.SaveChangesAsync(context.CancellationToken);
        if (await session.LoadAsync<LoyaltyProgram>(message.MerchantId, context.CancellationToken) is not null)
        {
            return;
        }

        session.Insert(LoyaltyProgram.Default(message.MerchantId));
        try
        {
            await session.SaveChangesAsync(context.CancellationToken);
        }
        catch (Exception e) when (Members.Conflicts.IsConflict(e))
        {
            // Created concurrently (PUT or a duplicate message): the existing program wins.
        }
    }
}
