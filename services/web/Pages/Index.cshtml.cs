using Fidpass.Web.Gateway;
using Fidpass.Web.Session;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Fidpass.Web.Pages;

/// <summary>
/// Sign-in by the e-mailed link <c>/?token=fpd_…</c>: the token is exchanged at the gateway for a
/// session, kept in an HttpOnly cookie, and the browser always leaves for a URL without the token
/// (history, bookmarks and screen sharing never show it).
/// </summary>
public sealed class IndexModel(GatewayClient gateway, ILogger<IndexModel> logger) : PageModel
{
    private const int MaxTokenLength = 200;

    public string? Notice { get; private set; }

    public bool IsError { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? token, string? lien, string? session, string? deconnecte, CancellationToken ct)
    {
        Response.Headers.CacheControl = "no-store";
        if (Request.Query.ContainsKey("token"))
        {
            return await SignInAsync(token, ct);
        }

        if (User.Identity?.IsAuthenticated == true)
        {
            return Redirect("/caisse");
        }

        (Notice, IsError) = (lien, session, deconnecte) switch
        {
            ("invalide", _, _) => ("SignIn.Invalid", true),
            ("indisponible", _, _) => ("SignIn.Unavailable", true),
            (_, "expiree", _) => ("SignIn.Expired", true),
            (_, _, "1") => ("SignIn.SignedOut", false),
            _ => (null, false),
        };
        if (IsError)
        {
            Response.StatusCode = StatusCodes.Status401Unauthorized;
        }

        return Page();
    }

    private async Task<IActionResult> SignInAsync(string? token, CancellationToken ct)
    {
        if (Request.Query["token"].Count != 1 || string.IsNullOrWhiteSpace(token) || token.Length > MaxTokenLength)
        {
            return Redirect("/?lien=invalide");
        }

        GatewayResult opened;
        try
        {
            opened = await gateway.OpenSessionAsync(token.Trim(), ct);
        }
        catch (HttpRequestException ex)
        {
            logger.LogWarning("Sign-in: gateway unreachable ({Reason})", ex.Message);
            return Redirect("/?lien=indisponible");
        }

        if (!opened.Ok)
        {
            return Redirect((int)opened.Status is 400 or 401 or 404 ? "/?lien=invalide" : "/?lien=indisponible");
        }

        var body = opened.Body;
        var merchant = body.GetProperty("merchant");
        var signedIn = new MerchantSession(body.GetProperty("session").GetString()!, merchant.GetProperty("slug").GetString()!, merchant.GetProperty("name").GetString()!);
        await signedIn.SignInAsync(HttpContext, body.GetProperty("expiresAt").GetDateTimeOffset());
        return Redirect("/caisse");
    }
}
