using Fidpass.Web.Gateway;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Fidpass.Web.Pages.Public;

/// <summary>
/// The merchant's public enrolment page (behind the QR poster). The browser itself calls the
/// gateway's public route, so the gateway's per-IP limit counts each customer, not the web server.
/// </summary>
public sealed class InscriptionModel(IConfiguration configuration) : PageModel
{
    public string Slug { get; private set; } = "";
    public string Endpoint => $"{GatewayClient.PublicAddress(configuration)}/api/businesses/{Uri.EscapeDataString(Slug)}/members";

    public IActionResult OnGet(string slug)
    {
        if (!PublicSlug.IsValid(slug))
        {
            return NotFound();
        }

        Slug = slug;
        return Page();
    }
}
