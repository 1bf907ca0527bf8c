using System.Net;
using System.Text.RegularExpressions;
using Fidpass.Web.Gateway;

namespace Fidpass.Web.Pages.Public;

/// <summary>
/// The shop as its customers see it (merchant-token's public <c>GET /api/v1/shops/{slug}</c>): name,
/// colours, logo, contact. Only a definite 404 makes the shop unknown; when the gateway cannot answer
/// (busy, limited), the page still shows, with the slug for a name and Fidpass's colours.
/// </summary>
public sealed partial record ShopLook(string Name, string Background, string Foreground, string? LogoUrl, string? ContactEmail)
{
    public static async Task<(bool Unknown, ShopLook Look)> LoadAsync(GatewayClient gateway, IConfiguration configuration, string slug, CancellationToken ct)
    {
        var fallback = new ShopLook(slug, "#0B6E4F", "#FFFFFF", null, null);
        GatewayResult shop;
        try
        {
            shop = await gateway.PublicGetAsync($"api/v1/shops/{Uri.EscapeDataString(slug)}", ct);
        }
        catch (HttpRequestException)
        {
            return (false, fallback);
        }

        if (shop.Status == HttpStatusCode.NotFound)
        {
            return (true, fallback);
        }

        if (!shop.Ok)
        {
            return (false, fallback);
        }

        var b = shop.Body;
        var logo = b.Text("logoUrl");
        return (false, new ShopLook(
            b.Text("name") is { Length: > 0 } name ? name : slug,
            Color(b.Text("backgroundColor")) ?? fallback.Background,
            Color(b.Text("foregroundColor")) ?? fallback.Foreground,
            logo.StartsWith("/api/v1/shops/", StringComparison.Ordinal) ? GatewayClient.PublicAddress(configuration) + logo : null,
            b.Text("contactEmail") is { Length: > 0 } contact ? contact : null));
    }

    /// <summary>The colours go into a style attribute: only <c>#RRGGBB</c> passes.</summary>
    private static string? Color(string text) => ColorPattern().IsMatch(text) ? text : null;

    public string Style => $"background-color:{Background};color:{Foreground}";

    [GeneratedRegex("^#[0-9A-Fa-f]{6}$")]
    private static partial Regex ColorPattern();
}
