using Fidpass.MerchantToken.Credentials;
using Fidpass.MerchantToken.Merchants;
using Fidpass.ServiceDefaults;
using JasperFx;
using Marten;

namespace Fidpass.MerchantToken.IntegrationKeys;

public sealed record IssueIntegrationKeyRequest(string? Name, IReadOnlyList<string>? Scopes);

public sealed record IssuedIntegrationKey(Guid Id, string Name, IReadOnlyList<string> Scopes, string Key, DateTimeOffset CreatedAt);

public sealed record IntegrationKeyView(Guid Id, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt);

public static class IntegrationKeyDecisions
{
    public const int MaxNameLength = 80;
    public const int MaxActiveKeys = 100;

    public static IntegrationKeyIssued Issue(Merchant merchant, IssueIntegrationKeyRequest request, Guid keyId, string keyHash, DateTimeOffset now)
    {
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
        {
            throw new Rejected(StatusCodes.Status400BadRequest, "INVALID_NAME", $"Donnez un nom à la clé (l'intégrateur qui l'utilise), {MaxNameLength} caractères au plus.");
        }

        if (request.Scopes is not { Count: > 0 } scopes)
        {
            throw new Rejected(StatusCodes.Status400BadRequest, "INVALID_SCOPE", $"Choisissez au moins une permission parmi : {string.Join(", ", Scopes.All)}.");
        }

        if (scopes.Any(s => s is null || !Scopes.IsKnown(s)))
        {
            var unknown = scopes.First(s => s is null || !Scopes.IsKnown(s));
            throw new Rejected(StatusCodes.Status400BadRequest, "INVALID_SCOPE", $"Permission inconnue « {unknown} ». Permissions possibles : {string.Join(", ", Scopes.All)}.");
        }

        if (merchant.ActiveKeys.Count() >= MaxActiveKeys)
        {
            throw new Rejected(StatusCodes.Status409Conflict, "TOO_MANY_KEYS", $"Ce commerce a déjà {MaxActiveKeys} clés actives ; révoquez celles qui ne servent plus.");
        }

        // Stored in the canonical order so listings and headers are stable.
        return new IntegrationKeyIssued(merchant.Id, keyId, name, [.. Scopes.All.Where(scopes.Contains)], keyHash, now);
    }

    public static IntegrationKeyRevoked Revoke(Merchant merchant, Guid keyId, DateTimeOffset now)
    {
        if (!merchant.ActiveKeys.Any(k => k.Id == keyId))
        {
            throw new Rejected(StatusCodes.Status404NotFound, "KEY_NOT_FOUND", "Aucune clé active avec cet identifiant pour ce commerce.");
        }

        return new IntegrationKeyRevoked(merchant.Id, keyId, now);
    }
}

public static class IntegrationKeysApi
{
    public static RouteGroupBuilder MapIntegrationKeysApi(this RouteGroupBuilder v1)
    {
        var keys = v1.MapGroup("/merchants/{slug}/integration-keys").WithTags("Clés d'intégration");

        keys.MapPost("/", Issue)
            .WithName("IssueIntegrationKey")
            .WithSummary("Créer une clé d'intégration")
            .WithDescription("Crée une clé nommée (une par intégrateur) limitée aux permissions choisies (`lookup`, `scan`, `program`, `members`, `terminal`, `cash`). "
                + "La clé `fpk_…` n'est affichée qu'une fois : Fidpass n'en garde qu'une empreinte. Réservé au commerçant (jeton du tableau de bord ou session).")
            .Accepts<IssueIntegrationKeyRequest>("application/json")
            .Produces<IssuedIntegrationKey>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict);

        keys.MapGet("/", List)
            .WithName("ListIntegrationKeys")
            .WithSummary("Lister les clés d'intégration actives")
            .WithDescription("Nom, permissions et date de création de chaque clé active ; jamais la clé elle-même.")
            .Produces<IReadOnlyList<IntegrationKeyView>>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        keys.MapDelete("/{id}", Revoke)
            .WithName("RevokeIntegrationKey")
            .WithSummary("Révoquer une clé d'intégration")
            .WithDescription("La clé cesse de fonctionner en quelques secondes sur toutes les passerelles.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return v1;
    }

    private static async Task<IResult> Issue(string slug, HttpRequest request, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var identity = Http.RequireOwner(request, slug);
        var body = await Http.ReadBodyAsync<IssueIntegrationKeyRequest>(request, ct);
        var stream = await session.Events.FetchForWriting<Merchant>(identity.MerchantId, ct);
        var merchant = stream.Aggregate ?? throw Unknown();
        var key = Secrets.New(Secrets.IntegrationKeyPrefix);
        var issued = IntegrationKeyDecisions.Issue(merchant, body, Guid.CreateVersion7(), Secrets.Hash(key), clock.GetUtcNow());

        stream.AppendOne(issued);
        session.Store(new Credential(issued.KeyHash, issued.KeyId, merchant.Id, merchant.Slug, GatewayIdentity.IntegrationKey, issued.Scopes, null));
        await SaveAsync(session, ct);
        return TypedResults.Created($"/api/v1/merchants/{slug}/integration-keys/{issued.KeyId}", new IssuedIntegrationKey(issued.KeyId, issued.Name, issued.Scopes, key, issued.At));
    }

    private static async Task<IResult> List(string slug, HttpRequest request, IQuerySession session, CancellationToken ct)
    {
        var identity = Http.RequireOwner(request, slug);
        var merchant = await session.LoadAsync<Merchant>(identity.MerchantId, ct) ?? throw Unknown();
        return TypedResults.Ok(merchant.ActiveKeys.Select(k => new IntegrationKeyView(k.Id, k.Name, k.Scopes, k.CreatedAt)).ToList());
    }

    private static async Task<IResult> Revoke(string slug, string id, HttpRequest request, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var identity = Http.RequireOwner(request, slug);
        if (!Guid.TryParse(id, out var keyId))
        {
            throw new Rejected(StatusCodes.Status404NotFound, "KEY_NOT_FOUND", "Aucune clé active avec cet identifiant pour ce commerce.");
        }

        var stream = await session.Events.FetchForWriting<Merchant>(identity.MerchantId, ct);
        var revoked = IntegrationKeyDecisions.Revoke(stream.Aggregate ?? throw Unknown(), keyId, clock.GetUtcNow());
        stream.AppendOne(revoked);
        session.DeleteWhere<Credential>(c => c.CredentialId == keyId);
        await SaveAsync(session, ct);
        return TypedResults.NoContent();
    }

    internal static async Task SaveAsync(IDocumentSession session, CancellationToken ct)
    {
        session.CarryTrace();
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (ConcurrencyException)
        {
            throw new Rejected(StatusCodes.Status409Conflict, "CONCURRENT_CHANGE", "Une autre modification vient d'avoir lieu ; réessayez.");
        }
    }

    internal static Rejected Unknown() => new(StatusCodes.Status401Unauthorized, "UNAUTHENTICATED", "Jeton invalide ou manquant.");
}
