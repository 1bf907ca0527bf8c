using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using QRCoder;

namespace Fidpass.Web.Pages.Public;

/// <summary>
/// The member's own card: a QR holding the member UUID, large enough to scan from a phone screen,
/// installable on the home screen (web manifest). The UUID is the whole card, as on a printed one.
/// The balance is the live one from loyalty; offline, the one last seen on this phone.
/// </summary>
public sealed class CarteModel(IConfiguration configuration) : PageModel
{
    /// <summary>
    /// The live card, read by the browser itself from the gateway's public route: the gateway's
    /// per-IP limit then counts each customer, not this server.
    /// </summary>
    public string Endpoint => $"{Gateway.GatewayClient.PublicAddress(configuration)}/api/v1/merchants/{Uri.EscapeDataString(Slug)}/cards/{MemberId}";

    /// <summary>The signed Apple Wallet pass of this card (wallet service, through the gateway's public route).</summary>
    public string AppleWalletUrl => $"{Endpoint}/wallet/apple";

    /// <summary>The card in Google Wallet: the wallet service answers with Google's save link (a signed JWT).</summary>
    public string GoogleWalletUrl => $"{Endpoint}/wallet/google";

    public string Slug { get; private set; } = "";
    public Guid MemberId { get; private set; }
    public string QrSvg { get; private set; } = "";
    public string CardPath => $"/carte/{Slug}/{MemberId}";

    public IActionResult OnGet(string slug, Guid memberId)
    {
        if (!PublicSlug.IsValid(slug))
        {
            return NotFound();
        }

        (Slug, MemberId) = (slug, memberId);
        using var data = QRCodeGenerator.GenerateQrCode(memberId.ToString(), QRCodeGenerator.ECCLevel.M);
        QrSvg = new SvgQRCode(data).GetGraphic(10);
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
                    icons = new[] { new { src = "/img/icon.svg", sizes = "any", type = "image/svg+xml" } },
                }), "application/manifest+json"));
        return app;
    }
}
