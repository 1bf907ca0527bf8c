using Fidpass.Web.Gateway;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Fidpass.Web.Pages.Public;

/// <summary>The page a merchant sends to its integrator (« Copier le lien »): public, with the merchant's own slug in every example.</summary>
public sealed class IntegrateursModel(IConfiguration configuration) : PageModel
{
    public string Slug { get; private set; } = "";
    public string Gateway => GatewayClient.PublicAddress(configuration);

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

/// <summary>A slug as merchant-token makes them; anything else is a 404 before any call.</summary>
public static class PublicSlug
{
    public static bool IsValid(string? slug) =>
        slug is { Length: > 0 and <= 80 } && slug.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');
}
