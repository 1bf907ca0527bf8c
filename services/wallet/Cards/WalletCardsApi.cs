using Fidpass.ServiceDefaults;
using Fidpass.Wallet.Apple;
using Fidpass.Wallet.Passes;
using Marten;

namespace Fidpass.Wallet.Cards;

/// <summary>
/// Where a customer gets the pass: from their card page, anonymously, as the card page itself (the
/// member UUID is the capability; the gateway resolves the merchant and applies the public per-IP
/// limit). A member of another merchant, an erased member or an unknown id are the same 404.
/// </summary>
public static class WalletCardsApi
{
    public static IEndpointRouteBuilder MapWalletCardsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/merchants/{slug}/cards/{memberId}/wallet/apple", AppleAsync).WithTags("Carte du membre")
            .WithSummary("La carte au format Apple Wallet (.pkpass, anonyme)")
            .Produces(200, contentType: PkPass.ContentType).ProducesProblem(400).ProducesProblem(404);
        return app;
    }

    private static async Task<IResult> AppleAsync(string slug, string memberId, HttpRequest request, IQuerySession session, PkPass pkPass,
        CancellationToken ct)
    {
        var (pass, refusal) = await FindAsync(slug, memberId, request, session, ct);
        if (pass is null)
        {
            return refusal!;
        }

        var merchant = await session.LoadAsync<WalletMerchant>(pass.MerchantId, ct) ?? WalletMerchant.Unknown(pass.MerchantId);
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        WalletMetrics.Pass("card");
        return Results.File(pkPass.Build(pass, merchant), PkPass.ContentType, "carte-fidelite.pkpass");
    }

    private static async Task<(WalletPass? Pass, IResult? Refusal)> FindAsync(string slug, string memberId, HttpRequest request,
        IQuerySession session, CancellationToken ct)
    {
        var notFound = ApiProblems.Problem(404, "member_not_found", "Carte inconnue chez ce commerçant.");
        var identity = GatewayIdentity.From(request);
        if (identity is null || !string.Equals(identity.Slug, slug, StringComparison.OrdinalIgnoreCase))
        {
            return (null, notFound);
        }

        if (!Guid.TryParse(memberId, out var id))
        {
            return (null, ApiProblems.Problem(400, "invalid_member_id", "L'identifiant de la carte est un UUID (celui du QR code)."));
        }

        var pass = await session.LoadAsync<WalletPass>(id, ct);
        return pass is null || pass.MerchantId != identity.MerchantId || pass.Erased ? (null, notFound) : (pass, null);
    }
}
