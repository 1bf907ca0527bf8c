using System.Text.Json;
using Fidpass.Web.Gateway;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using QRCoder;

namespace Fidpass.Web.Pages.Public;

/// <summary>
/// The member's own card: a QR holding the member UUID, large enough to scan from a phone screen,
/// installable on the home screen (web manifest). The UUID is the whole card, as on a printed one.
/// The balance is the live one from loyalty; offline, the one last seen on this phone.
/// </summary>
public sealed class CarteModel(GatewayClient gateway, IConfiguration configuration) : PageModel
{
    /// <summary>
    /// The live card, read by the browser itself from the gateway's public route: the gateway's
    /// per-IP limit then counts each customer, not this server.
    /// </summary>
    public string Endpoint => $"{GatewayClient.PublicAddress(configuration)}/api/v1/merchants/{Uri.EscapeDataString(Slug)}/cards/{MemberId}";

    /// <summary>The signed Apple Wallet pass of this card (wallet service, through the gateway's public route).</summary>
    public string AppleWalletUrl => $"{Endpoint}/wallet/apple";

    /// <summary>The card in Google Wallet: the wallet service answers with Google's save link (a signed JWT).</summary>
    public string GoogleWalletUrl => $"{Endpoint}/wallet/google";

    public string Slug { get; private set; } = "";
    public Guid MemberId { get; private set; }
    public string QrSvg { get; private set; } = "";
    public string CardPath => $"/carte/{Slug}/{MemberId}";

    /// <summary>Null when no card of this shop has this id: the page says so (404) and shows no card.</summary>
    public ShopLook? Shop { get; private set; }

    /// <summary>The code a cashier can type; empty when the card could not be read now (the phone shows the one it saved).</summary>
    public string ShortCode { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(string slug, Guid memberId, CancellationToken ct)
    {
        (Slug, MemberId) = (slug, memberId);
        if (!PublicSlug.IsValid(slug))
        {
            return Unknown();
        }

        // Only a definite « unknown » hides the card: busy or unreachable, the phone still shows the card it knows.
        var card = await ReadCardAsync(ct);
        if (card?.Status == System.Net.HttpStatusCode.NotFound)
        {
            return Unknown();
        }

        ShortCode = card is { Ok: true } ? card.Body.GetProperty("member").Text("shortCode") : "";
        var (_, look) = await ShopLook.LoadAsync(gateway, configuration, slug, ct);
        Shop = look;
        using var data = QRCodeGenerator.GenerateQrCode(memberId.ToString(), QRCodeGenerator.ECCLevel.M);
        QrSvg = new SvgQRCode(data).GetGraphic(10);
        return Page();
    }

    private async Task<GatewayResult?> ReadCardAsync(CancellationToken ct)
    {
        try
        {
            return await gateway.PublicGetAsync($"api/v1/merchants/{Uri.EscapeDataString(Slug)}/cards/{MemberId}", ct);
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private PageResult Unknown()
    {
        Response.StatusCode = StatusCodes.Status404NotFound;
        return Page();
    }
}

public static class CardManifest
{
    public static IEndpointRouteBuilder MapCardManifest(this IEndpointRouteBuilder app)
    {
        app.MapGet("/carte/{slug}/{memberId:guid}/manifest.webmanifest", (string slug, Guid memberId) =>
            !PublicSlug.IsValid(slug)
                ? Results.NotFound()
                : Results.Text(JsonSerializer.Serialize(new
                {
                    name = "Ma carte Fidpass",
                    short_name = "Fidpass",
                    start_url = $"/carte/{slug}/{memberId}",
                    scope = $"/carte/{slug}/{memberId}",
                    display = "standalone",
                    background_color = "#ffffff",
                    theme_color = "#0b6e4f",
                    icons = new[]
                    {
                        new { src = "/img/icon.svg", sizes = "any", type = "image/svg+xml" },
                        new { src = "/img/icon-192.png", sizes = "192x192", type = "image/png" },
                        new { src = "/img/icon-512.png", sizes = "512x512", type = "image/png" },
                    },
                }), "application/manifest+json"));
        return app;
    }
}
