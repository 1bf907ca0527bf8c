using Fidpass.Web.Gateway;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Fidpass.Web.Pages.Public;

/// <summary>
/// The merchant's public enrolment page (behind the QR poster). The browser itself calls the
/// gateway's public route, so the gateway's per-IP limit counts each customer, not the web server.
/// </summary>
public sealed class InscriptionModel(GatewayClient gateway, IConfiguration configuration) : PageModel
{
    public string Slug { get; private set; } = "";
    public string Endpoint => $"{GatewayClient.PublicAddress(configuration)}/api/businesses/{Uri.EscapeDataString(Slug)}/members";

    /// <summary>The shop's name, colours and logo; null when no shop has this address (the page says so, with a 404).</summary>
    public ShopLook? Shop { get; private set; }

    public async Task<IActionResult> OnGetAsync(string slug, CancellationToken ct)
    {
        Slug = slug;
        var (unknown, look) = PublicSlug.IsValid(slug) ? await ShopLook.LoadAsync(gateway, configuration, slug, ct) : (true, null!);
        if (unknown)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }

        Shop = look;
        return Page();
    }
}
