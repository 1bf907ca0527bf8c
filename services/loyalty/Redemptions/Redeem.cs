using System.Text.Json;
using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Http;
using Fidpass.Loyalty.Members;
using Fidpass.Loyalty.Programs;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.Loyalty.Redemptions;

public sealed record RedeemReward(Guid OperationId, string RewardName, long Points)
{
    /// <summary>The catalogue reward taken, when the till named one.</summary>
    public Guid? RewardId { get; init; }
}

/// <summary>A member spends points on a reward; the balance must cover it.</summary>
public static class Redeem
{
    public static (RewardRedeemed? Event, Refusal? Refusal) Decide(Member member, RedeemReward command, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(command.RewardName) || command.RewardName.Length > 200)
        {
            return (null, new Refusal(400, "INVALID_REWARD", "Le nom de la récompense est obligatoire (200 caractères au plus)."));
        }

        if (command.Points <= 0)
        {
            return (null, new Refusal(400, "INVALID_POINTS", "points doit être un entier positif."));
        }

        if (command.Points > member.Points)
        {
            return (null, new Refusal(422, "INSUFFICIENT_POINTS", $"Solde insuffisant : {member.Points} point(s), {command.Points} demandés."));
        }

        var redeemed = new RewardRedeemed(command.OperationId, member.Id, member.MerchantId, command.RewardName.Trim(), command.Points,
            member.Points - command.Points, now)
        {
            RewardId = command.RewardId,
        };
        return (redeemed, null);
    }

    public static IEndpointRouteBuilder MapRedemptionApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/merchants/{slug}/members/{memberId:guid}/redemptions", RedeemAsync)
            .WithTags("Membres").WithSummary("Échanger des points contre une récompense, avec Idempotency-Key");
        return app;
    }

    private static async Task<IResult> RedeemAsync(string slug, Guid memberId, HttpRequest request, IDocumentStore store, TimeProvider time, CancellationToken ct)
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

        if (body.TryGetProperty("rewardId", out var rewardValue))
        {
            // A reward of the catalogue: its name and price come from there, read in the writer's transaction.
            if (rewardValue.ValueKind != JsonValueKind.String || !Guid.TryParse(rewardValue.GetString(), out var rewardId)
                || body.TryGetProperty("points", out _) || body.TryGetProperty("rewardName", out _))
            {
                return ApiProblems.Problem(400, "INVALID_REDEMPTION",
                    "Indiquez soit rewardId (l'identifiant d'une récompense du catalogue), soit rewardName et points, pas les deux.");
            }

            var operationId = Guid.CreateVersion7();
            return await Idempotency.ExecuteAsync(request, store, identity.MerchantId, memberId, $"v1-redemption:{memberId}", raw,
                async (session, m, token) =>
                {
                    var (reward, missing) = (await RewardsApi.LoadAsync(session, identity.MerchantId, token)).Find(rewardId);
                    return reward is null
                        ? (null, missing)
                        : Decide(m, new RedeemReward(operationId, reward.Name, reward.Points) { RewardId = reward.Id }, time.GetUtcNow());
                },
                (after, e) => new { operationId, memberId, points = after.Points, reward = new { id = rewardId, name = ((RewardRedeemed)e).RewardName, points = ((RewardRedeemed)e).Points } }, ct);
        }

        if (!body.TryGetProperty("points", out var p) || p.ValueKind != JsonValueKind.Number || !p.TryGetInt64(out var points)
            || points > CreditDecider.MaxExplicitPoints)
        {
            return ApiProblems.Problem(400, "INVALID_POINTS", "points doit être un entier positif.");
        }

        var name = body.TryGetProperty("rewardName", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "";
        var command = new RedeemReward(Guid.CreateVersion7(), name, points);
        return await Idempotency.ExecuteAsync(request, store, identity.MerchantId, memberId, $"v1-redemption:{memberId}", raw,
            (_, m, _) => Task.FromResult<(object?, Refusal?)>(Decide(m, command, time.GetUtcNow())),
            (after, _) => new { operationId = command.OperationId, memberId, points = after.Points }, ct);
    }
}
