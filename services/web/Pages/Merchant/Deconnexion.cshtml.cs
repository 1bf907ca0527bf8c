using Fidpass.Web.Gateway;
using Fidpass.Web.Session;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Fidpass.Web.Pages.Merchant;

/// <summary>Sign-out ends the session at the gateway too, so a copied cookie stops working.</summary>
public sealed class DeconnexionModel(GatewayClient gateway) : PageModel
{
    public IActionResult OnGet() => Redirect("/caisse");

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        try
        {
            await gateway.EndSessionAsync(MerchantSession.Of(User).Secret, ct);
        }
        catch (HttpRequestException)
        {
            // The cookie still goes; the session ends at its expiry.
        }

        await HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return Redirect("/?deconnecte=1");
    }
}
