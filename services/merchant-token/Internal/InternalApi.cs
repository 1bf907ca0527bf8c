using Fidpass.MerchantToken.Credentials;
using Fidpass.MerchantToken.Merchants;
using Marten;

namespace Fidpass.MerchantToken.Internal;

public sealed record IntrospectRequest(string? Credential);

public sealed record Introspection(Guid MerchantId, string Slug, string Kind, Guid CredentialId, IReadOnlyList<string> Scopes);

public sealed record MerchantSummary(Guid MerchantId, string Slug, string Name);

/// <summary>
/// Routes for the gateway only (it never forwards <c>/internal/**</c>). Both are single indexed
/// lookups: the credential by the SHA-256 of the secret (primary key), the merchant by its slug
/// (unique index).
/// </summary>
public static class InternalApi
{
    public static WebApplication MapInternalApi(this WebApplication app)
    {
        var internalRoutes = app.MapGroup("/internal").WithTags("Interne (passerelle)");
        internalRoutes.MapPost("/introspect", Introspect)
            .WithName("Introspect")
            .WithSummary("Resolve a credential (gateway only)")
            .WithDescription("Returns the merchant, kind, id and scopes of a live dashboard token, integration key or web session; 404 otherwise. Never routed from outside.")
            .Accepts<IntrospectRequest>("application/json")
            .Produces<Introspection>()
            .Produces(StatusCodes.Status404NotFound);
        internalRoutes.MapGet("/merchants/{slug}", FindMerchant)
            .WithName("FindMerchantBySlug")
            .WithSummary("Resolve a slug (gateway only)")
            .WithDescription("Returns the merchant's id, slug and name, or 404 when no merchant has this slug. Never routed from outside.")
            .Produces<MerchantSummary>()
            .Produces(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<IResult> Introspect(HttpRequest request, IQuerySession session, TimeProvider clock, CancellationToken ct)
    {
        IntrospectRequest body;
        try
        {
            body = await Http.ReadBodyAsync<IntrospectRequest>(request, ct);
        }
        catch (Rejected)
        {
            return TypedResults.NotFound();
        }

        if (string.IsNullOrEmpty(body.Credential) || body.Credential.Length > 200)
        {
            return TypedResults.NotFound();
        }

        var hash = Secrets.Hash(body.Credential);
        var credential = await session.LoadAsync<Credential>(hash, ct);
        if (credential is null || !Secrets.HashesEqual(credential.Id, hash) || !credential.IsLiveAt(clock.GetUtcNow()))
        {
            return TypedResults.NotFound();
        }

        return TypedResults.Ok(new Introspection(credential.MerchantId, credential.Slug, credential.Kind, credential.CredentialId, credential.Scopes));
    }

    private static async Task<IResult> FindMerchant(string slug, IQuerySession session, CancellationToken ct)
    {
        if (!Slugs.IsValid(slug))
        {
            return TypedResults.NotFound();
        }

        var merchant = await session.Query<Merchant>().Where(m => m.Slug == slug).FirstOrDefaultAsync(ct);
        return merchant is null ? TypedResults.NotFound() : TypedResults.Ok(new MerchantSummary(merchant.Id, merchant.Slug, merchant.Name));
    }
}
