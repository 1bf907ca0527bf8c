using System.Text.Json;
using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Http;
using Fidpass.Loyalty.Members;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.Loyalty.Adjustments;

public sealed record AdjustPoints(Guid OperationId, long Delta, string Reason);

/// <summary>A manual correction by the merchant: a reason is mandatory; it may go down, never below zero.</summary>
public static class Adjust
{
    public static (PointsAdjusted? Event, Refusal? Refusal) Decide(Member member, AdjustPoints command, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(command.Reason))
        {
            return (null, new Refusal(400, "REASON_REQUIRED", "Le motif de l'ajustement est obligatoire."));
        }

        if (command.Delta == 0)
        {
            return (null, new Refusal(400, "INVALID_POINTS", "points doit être un entier non nul."));
        }

        var balance = member.Points + command.Delta;
        if (balance < 0)
        {
            return (null, new Refusal(422, "INSUFFICIENT_POINTS", $"Le solde ne peut pas devenir négatif (solde actuel : {member.Points})."));
        }

        return (new PointsAdjusted(command.OperationId, member.Id, member.MerchantId, command.Delta, balance, command.Reason.Trim(), now), null);
    }

    public static IEndpointRouteBuilder MapAdjustmentApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/merchants/{slug}/members/{memberId:guid}/adjustments", AdjustAsync)
            .WithTags("Membres").WithSummary("Ajustement manuel du solde (motif obligatoire), avec Idempotency-Key");
        return app;
    }

    private static async Task<IResult> AdjustAsync(string slug, Guid memberId, HttpRequest request, IDocumentStore store, TimeProvider time, CancellationToken ct)
    {
        if (Access.V1(request, slug, Scopes.Members, out var identity) is { } denied)
        {
            return denied;
        }

        var (body, raw, bodyRefusal) = await CompatResults.ReadObjectAsync(request, ct);
        if (bodyRefusal is not null)
        {
            return CompatResults.Problem(bodyRefusal);
        }

        if (!body.TryGetProperty("points", out var p) || p.ValueKind != JsonValueKind.Number || !p.TryGetInt64(out var delta)
            || delta is < -CreditDecider.MaxExplicitPoints or > CreditDecider.MaxExplicitPoints)
        {
            return ApiProblems.Problem(400, "INVALID_POINTS", "points doit être un entier (positif pour ajouter, négatif pour retirer).");
        }

        var reason = body.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "";
        if (reason.Length > 500)
        {
            return ApiProblems.Problem(400, "INVALID_REASON", "Le motif fait au plus 500 caractères.");
        }

        var command = new AdjustPoints(Guid.CreateVersion7(), delta, reason);
        return await Idempotency.ExecuteAsync(request, store, identity.MerchantId, memberId, $"v1-adjustment:{memberId}", raw,
            (_, m, _) => Task.FromResult<(object?, Refusal?)>(Decide(m, command, time.GetUtcNow())),
            (after, _) => new { operationId = command.OperationId, memberId, points = after.Points }, ct);
    }
}
