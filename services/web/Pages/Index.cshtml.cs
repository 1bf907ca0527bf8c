using Fidpass.Web.Gateway;
using Fidpass.Web.Session;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Fidpass.Web.Pages;

/// <summary>
/// Sign-in by the e-mailed link <c>/?token=fpd_…</c>: the token is exchanged at the gateway for a
/// session, kept in an HttpOnly cookie, and the browser always leaves for a URL without the token
/// (history, bookmarks and screen sharing never show it). A merchant already signed in who opens a
/// link of another merchant is asked whether to stay or switch, never switched silently (the link's
/// token waits in TempData, an encrypted HttpOnly cookie, not in the URL).
/// </summary>
public sealed class IndexModel(GatewayClient gateway, IConfiguration configuration, ILogger<IndexModel> logger) : PageModel
{
    /// <summary>Where a merchant without a working link writes (<c>Web:SupportEmail</c>).</summary>
    public string? SupportEmail => configuration["Web:SupportEmail"];

    private const int MaxTokenLength = 200;

    public string? Notice { get; private set; }

    public bool IsError { get; private set; }

    /// <summary>The signed-in merchant and the other account a link opens, while the merchant chooses.</summary>
    public (string Current, string Other)? OtherAccount { get; private set; }

    private const string PendingTokenEntry = "SignIn.PendingToken";
    private const string PendingNameEntry = "SignIn.PendingName";

    public async Task<IActionResult> OnGetAsync(string? token, string? lien, string? session, string? deconnecte, string? compte, CancellationToken ct)
    {
        Response.Headers.CacheControl = "no-store";
        if (Request.Query.ContainsKey("token"))
        {
            return Request.Query["token"].Count == 1 ? await SignInAsync(token, ct) : Redirect("/?lien=invalide");
        }

        if (User.Identity?.IsAuthenticated == true)
        {
            if (compte == "autre" && TempData.Peek(PendingNameEntry) is string other)
            {
                TempData.Keep();
                OtherAccount = (MerchantSession.Of(User).Name, other);
                return Page();
            }

            return Redirect("/caisse");
        }

        (Notice, IsError) = (lien, session, deconnecte) switch
        {
            ("invalide", _, _) => ("SignIn.Invalid", true),
            ("indisponible", _, _) => ("SignIn.Unavailable", true),
            (_, "expiree", _) => ("SignIn.Expired", true),
            (_, _, "1") => ("SignIn.SignedOut", false),
            (_, _, "partout") => ("SignIn.SignedOutEverywhere", false),
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
        if (string.IsNullOrWhiteSpace(token) || token.Length > MaxTokenLength)
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
        if (User.Identity?.IsAuthenticated == true && MerchantSession.Of(User).Slug != signedIn.Slug)
        {
            // Another merchant's link: nothing changes until the merchant says so; the session just opened is not kept.
            await gateway.EndSessionAsync(signedIn.Secret, ct);
            TempData[PendingTokenEntry] = token.Trim();
            TempData[PendingNameEntry] = signedIn.Name;
            return Redirect("/?compte=autre");
        }

        await signedIn.SignInAsync(HttpContext, body.GetProperty("expiresAt").GetDateTimeOffset());
        return Redirect("/caisse");
    }

    /// <summary>The merchant chose to leave their account for the one the link opens.</summary>
    public async Task<IActionResult> OnPostSwitchAsync(CancellationToken ct)
    {
        if (TempData[PendingTokenEntry] is not string token)
        {
            return Redirect("/");
        }

        if (User.Identity?.IsAuthenticated == true)
        {
            try
            {
                await gateway.EndSessionAsync(MerchantSession.Of(User).Secret, ct);
            }
            catch (HttpRequestException)
            {
                // The cookie still goes; that session ends at its expiry.
            }

            await HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            HttpContext.User = new System.Security.Claims.ClaimsPrincipal();
        }

        return await SignInAsync(token, ct);
    }

    public IActionResult OnPostStay()
    {
        TempData.Remove(PendingTokenEntry);
        TempData.Remove(PendingNameEntry);
        return Redirect("/caisse");
    }
}
