using System.Security.Cryptography;
using Fidpass.MerchantToken.IntegrationKeys;
using Fidpass.MerchantToken.Merchants;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.MerchantToken.Branding;

/// <summary>
/// The shop for its customers: <c>LogoUrl</c> is the logo's gateway path (it changes with the logo), null
/// without one; <c>ContactEmail</c> is where a customer asks about their data (the merchant's account address).
/// </summary>
public sealed record ShopView(string Slug, string Name, string BackgroundColor, string ForegroundColor, string? LogoUrl, string ContactEmail);

public static class BrandingApi
{
    public static RouteGroupBuilder MapBrandingApi(this RouteGroupBuilder v1)
    {
        v1.MapPut("/merchants/{slug}/branding", Set)
            .WithName("SetBranding")
            .WithTags("Commerce")
            .WithSummary("Définir le nom, les couleurs et le logo du commerce")
            .WithDescription("Ce que voient les clients (page d'inscription, carte, cartes Wallet). `backgroundColor` au format `#RRGGBB` ; "
                + "`foregroundColor` facultatif (noir ou blanc selon le contraste s'il est absent) ; `logoPngBase64` : une image PNG de 64 Ko au plus, "
                + "2048 × 2048 pixels au plus, en base64 ; absent, le logo actuel est gardé, sauf avec `removeLogo: true`. "
                + "Réservé au commerçant (jeton du tableau de bord ou session).")
            .Accepts<SetBrandingRequest>("application/json")
            .Produces<ShopView>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict);

        var shops = v1.MapGroup("/shops/{slug}").WithTags("Commerce");
        shops.MapGet("/", Shop)
            .WithName("GetShop")
            .WithSummary("Le commerce tel que le voient ses clients (public)")
            .WithDescription("Sans identifiant. Nom, couleurs, adresse du logo (ou null) et adresse de contact du commerce.")
            .Produces<ShopView>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        shops.MapGet("/logo.png", Logo)
            .WithName("GetShopLogo")
            .WithSummary("Le logo du commerce (public)")
            .WithDescription("L'image PNG, avec `ETag` et `Cache-Control: public` ; 404 quand le commerce n'a pas de logo.")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return v1;
    }

    private static async Task<IResult> Set(string slug, HttpRequest request, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var identity = Http.RequireOwner(request, slug);
        var body = await Http.ReadBodyAsync<SetBrandingRequest>(request, ct);
        var stream = await session.Events.FetchForWriting<Merchant>(identity.MerchantId, ct);
        var merchant = stream.Aggregate ?? throw IntegrationKeysApi.Unknown();
        var set = BrandingDecisions.Decide(merchant, body, clock.GetUtcNow());
        stream.AppendOne(set);
        await IntegrationKeysApi.SaveAsync(session, ct);
        return TypedResults.Ok(View(merchant.Apply(set)));
    }

    private static async Task<IResult> Shop(string slug, IQuerySession session, CancellationToken ct) =>
        await FindAsync(session, slug, ct) is { } merchant ? TypedResults.Ok(View(merchant)) : ShopNotFound();

    private static async Task<IResult> Logo(string slug, HttpContext context, IQuerySession session, CancellationToken ct)
    {
        if (await FindAsync(session, slug, ct) is not { Branding.LogoPngBase64: { } logo })
        {
            return ApiProblems.Problem(StatusCodes.Status404NotFound, "LOGO_NOT_FOUND", "Ce commerce n'a pas de logo.");
        }

        var tag = $"\"{ETagOf(logo)}\"";
        var headers = context.Response.Headers;
        headers.ETag = tag;
        headers.CacheControl = "public, max-age=300";
        return context.Request.Headers.IfNoneMatch.Contains(tag)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.File(Convert.FromBase64String(logo), "image/png");
    }

    private static async Task<Merchant?> FindAsync(IQuerySession session, string slug, CancellationToken ct) =>
        Slugs.IsValid(slug) ? await session.Query<Merchant>().Where(m => m.Slug == slug).FirstOrDefaultAsync(ct) : null;

    private static ShopView View(Merchant merchant)
    {
        var branding = merchant.Branding ?? ShopBranding.Default(merchant);
        var logoUrl = branding.LogoPngBase64 is { } logo ? $"/api/v1/shops/{merchant.Slug}/logo.png?v={ETagOf(logo)}" : null;
        return new ShopView(merchant.Slug, branding.Name, branding.BackgroundColor, branding.ForegroundColor, logoUrl, merchant.Email);
    }

    private static string ETagOf(string logo) => Convert.ToHexStringLower(SHA256.HashData(Convert.FromBase64String(logo)))[..16];

    private static IResult ShopNotFound() => ApiProblems.Problem(StatusCodes.Status404NotFound, "SHOP_NOT_FOUND", "Commerce introuvable.");
}
