using System.Text.Json;
using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Http;
using Fidpass.Loyalty.Members;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.Loyalty.Programs;

/// <summary>
/// The programme's reward catalogue: list, add, change (name, points), withdraw. Every change is an
/// event of the merchant's catalogue stream, which the relay publishes as <c>RewardOfferChanged</c>
/// once; <c>Idempotency-Key</c> replays the first answer and appends nothing more.
/// </summary>
public static class RewardsApi
{
    public static IEndpointRouteBuilder MapRewardsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/merchants/{slug}/program/rewards").WithTags("Programme");
        group.MapGet("", ListAsync).WithSummary("Catalogue des récompenses (de la moins chère à la plus chère)");
        group.MapPost("", AddAsync).WithSummary("Ajouter une récompense au catalogue, avec Idempotency-Key");
        group.MapPut("/{rewardId}", ChangeAsync).WithSummary("Renommer une récompense ou changer son prix en points, avec Idempotency-Key");
        group.MapDelete("/{rewardId}", WithdrawAsync).WithSummary("Retirer une récompense du catalogue, avec Idempotency-Key");
        return app;
    }

    public static object Render(Reward r) => new { id = r.Id, name = r.Name, points = r.Points };

    public static async Task<RewardCatalogue> LoadAsync(IQuerySession session, Guid merchantId, CancellationToken ct) =>
        await session.LoadAsync<RewardCatalogue>(RewardCatalogue.StreamId(merchantId), ct) ?? RewardCatalogue.Empty(merchantId);

    private static async Task<IResult> ListAsync(string slug, HttpRequest request, IQuerySession session, CancellationToken ct)
    {
        if (Access.V1Any(request, slug, Scopes.Program, Scopes.Lookup, out var identity) is { } denied)
        {
            return denied;
        }

        var catalogue = await LoadAsync(session, identity.MerchantId, ct);
        return Results.Json(new { items = catalogue.Rewards.Select(Render) });
    }

    private static async Task<IResult> AddAsync(string slug, HttpRequest request, IDocumentStore store, TimeProvider time, CancellationToken ct)
    {
        if (Access.V1(request, slug, Scopes.Program, out var identity) is { } denied)
        {
            return denied;
        }

        var (raw, name, points, refusal) = await ReadRewardAsync(request, ct);
        if (refusal is not null)
        {
            return CompatResults.Problem(refusal);
        }

        var rewardId = Guid.CreateVersion7();
        return await WriteAsync(request, store, identity.MerchantId, "v1-reward-add", raw,
            c => RewardCatalogueRules.Add(c, rewardId, name!, points, time.GetUtcNow()),
            c => Render(c.Rewards.First(r => r.Id == rewardId)), StatusCodes.Status201Created, ct);
    }

    private static async Task<IResult> ChangeAsync(string slug, string rewardId, HttpRequest request, IDocumentStore store, TimeProvider time, CancellationToken ct)
    {
        if (Access.V1(request, slug, Scopes.Program, out var identity) is { } denied)
        {
            return denied;
        }

        if (!Guid.TryParse(rewardId, out var id))
        {
            return CompatResults.Problem(RewardCatalogueRules.NotFound);
        }

        var (raw, name, points, refusal) = await ReadRewardAsync(request, ct);
        if (refusal is not null)
        {
            return CompatResults.Problem(refusal);
        }

        return await WriteAsync(request, store, identity.MerchantId, $"v1-reward-change:{id}", raw,
            c => RewardCatalogueRules.Change(c, id, name!, points, time.GetUtcNow()),
            c => Render(c.Rewards.First(r => r.Id == id)), StatusCodes.Status200OK, ct);
    }

    private static async Task<IResult> WithdrawAsync(string slug, string rewardId, HttpRequest request, IDocumentStore store, TimeProvider time, CancellationToken ct)
    {
        if (Access.V1(request, slug, Scopes.Program, out var identity) is { } denied)
        {
            return denied;
        }

        if (!Guid.TryParse(rewardId, out var id))
        {
            return CompatResults.Problem(RewardCatalogueRules.NotFound);
        }

        return await WriteAsync(request, store, identity.MerchantId, $"v1-reward-withdraw:{id}", "",
            c => RewardCatalogueRules.Withdraw(c, id, time.GetUtcNow()),
            _ => new { id, withdrawn = true }, StatusCodes.Status200OK, ct);
    }

    /// <summary>The body <c>{"name": 1 to 200 characters, "points": a positive integer}</c>, raw (what a key is bound to) and read.</summary>
    private static async Task<(string Raw, string? Name, long Points, Refusal? Refusal)> ReadRewardAsync(HttpRequest request, CancellationToken ct)
    {
        var (body, raw, bodyRefusal) = await CompatResults.ReadObjectAsync(request, ct);
        var (name, points, refusal) = bodyRefusal is null ? ReadReward(body) : (null, 0, bodyRefusal);
        return (raw, name, points, refusal);
    }

    private static (string? Name, long Points, Refusal? Refusal) ReadReward(JsonElement body)
    {
        var name = body.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()!.Trim() : "";
        if (name.Length is 0 or > RewardCatalogue.MaxNameLength || name.Any(char.IsControl))
        {
            return (null, 0, new Refusal(400, "INVALID_REWARD_NAME",
                $"name : le nom de la récompense est obligatoire ({RewardCatalogue.MaxNameLength} caractères au plus, sans caractère de contrôle)."));
        }

        if (!body.TryGetProperty("points", out var p) || p.ValueKind != JsonValueKind.Number || !p.TryGetInt64(out var points)
            || points <= 0 || points > CreditDecider.MaxExplicitPoints)
        {
            return (null, 0, new Refusal(400, "INVALID_POINTS", $"points : nombre entier de points de 1 à {CreditDecider.MaxExplicitPoints}."));
        }

        return (name, points, null);
    }

    /// <summary>
    /// Appends the decision to the catalogue stream at the version it read (a concurrent edit makes it
    /// start over) with the key's first answer in the same transaction. A decision that changes nothing
    /// appends nothing: nothing is published.
    /// </summary>
    private static async Task<IResult> WriteAsync(
        HttpRequest request, IDocumentStore store, Guid merchantId, string route, string raw,
        Func<RewardCatalogue, (object? Event, Refusal? Refusal)> decide, Func<RewardCatalogue, object> render, int status, CancellationToken ct)
    {
        var (attempt, keyRefusal) = Idempotency.Begin(request, merchantId, route, raw);
        if (keyRefusal is not null)
        {
            return CompatResults.Problem(keyRefusal);
        }

        for (var turn = 1; ; turn++)
        {
            await using var session = store.LightweightSession();
            if (await attempt!.AlreadyAnsweredAsync(session, ct))
            {
                break;
            }

            var stream = await session.Events.FetchForWriting<RewardCatalogue>(RewardCatalogue.StreamId(merchantId), ct);
            var catalogue = stream.Aggregate ?? RewardCatalogue.Empty(merchantId);
            var (decided, refusal) = decide(catalogue);
            if (refusal is not null)
            {
                return CompatResults.Problem(refusal);
            }

            attempt.Answer(session, render(decided is null ? catalogue : catalogue.Fold(decided)), Guid.Empty, status);
            if (decided is not null)
            {
                stream.AppendOne(decided);
                session.CarryTrace();
            }

            try
            {
                await session.SaveChangesAsync(ct);
                break;
            }
            catch (Exception e) when (Conflicts.IsConflict(e) && turn < Conflicts.MaxAttempts)
            {
                await Conflicts.BackOffAsync(turn, ct);
            }
        }

        return attempt!.Result(RewardCatalogueRules.NotFound);
    }
}
