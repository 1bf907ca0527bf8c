using Fidpass.ServiceDefaults;
using Fidpass.Wallet.Apple;
using Fidpass.Wallet.Google;
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
        app.MapGet("/api/v1/merchants/{slug}/cards/{memberId}/wallet/google", GoogleAsync).WithTags("Carte du membre")
            .WithSummary("La carte dans Google Wallet : redirige vers pay.google.com avec le JWT signé (anonyme)")
            .Produces(302).ProducesProblem(400).ProducesProblem(404).ProducesProblem(503);
        app.MapGet("/api/v1/wallet/logos/{merchantId}.png", LogoAsync).WithTags("Carte du membre")
            .WithSummary("Le logo du commerçant, que Google Wallet affiche sur ses cartes").Produces(200, contentType: "image/png").Produces(404);
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

    /// <summary>
    /// The object is inserted first (if its enrolment's sync has not run yet), so the short JWT can
    /// name it by id: Google takes the card as the API holds it.
    /// </summary>
    private static async Task<IResult> GoogleAsync(string slug, string memberId, HttpRequest request, IQuerySession session,
        GoogleWalletSync sync, GoogleServiceAccount account, GoogleLoyalty loyalty, GoogleOptions options, TimeProvider time, CancellationToken ct)
    {
        var (pass, refusal) = await FindAsync(slug, memberId, request, session, ct);
        if (pass is null)
        {
            return refusal!;
        }

        var merchant = await session.LoadAsync<WalletMerchant>(pass.MerchantId, ct) ?? WalletMerchant.Unknown(pass.MerchantId);
        if (!await sync.EnsureObjectAsync(pass, merchant, ct))
        {
            return ApiProblems.Problem(503, "google_wallet_unavailable", "Google Wallet ne répond pas pour l'instant ; réessayez dans quelques minutes.");
        }

        request.HttpContext.Response.Headers.CacheControl = "no-store";
        WalletMetrics.Pass("google");
        return Results.Redirect(GoogleWallet.SaveLink(account, loyalty, options, pass, time.GetUtcNow()));
    }

    private static async Task<IResult> LogoAsync(string merchantId, IQuerySession session, HttpResponse response, CancellationToken ct)
    {
        if (!Guid.TryParse(merchantId, out var id) || await session.LoadAsync<WalletMerchant>(id, ct) is not { } merchant)
        {
            return Results.NotFound();
        }

        response.Headers.CacheControl = "public, max-age=3600";
        return Results.File(merchant.Logo(), "image/png");
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
