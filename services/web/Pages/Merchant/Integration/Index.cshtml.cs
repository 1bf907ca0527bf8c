using Fidpass.Web.Gateway;
using Fidpass.Web.Session;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Fidpass.Web.Pages.Merchant.Integration;

public sealed record KeyRow(string Id, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt);

public sealed record IssuedKey(string Name, string Key);

public sealed record NewSignInLink(string Url, string Token);

public sealed record SessionRow(DateTimeOffset? OpenedAt, DateTimeOffset? ExpiresAt, bool Current);

/// <summary>
/// "Intégration caisse / borne": what to hand the integrator (the public page link, a key with
/// just the scopes it needs) and the dashboard token. Secrets are shown once: Fidpass keeps only
/// their hashes, so "showing the token" means issuing a new one: asked for confirmation first (it
/// replaces the merchant's sign-in link and ends every session opened with the old one), then the
/// new link is shown once and this browser is signed in again with it. Open web sessions are listed
/// and can all be ended (« Se déconnecter partout »).
/// </summary>
public sealed class IntegrationModel(GatewayClient gateway, IConfiguration configuration, IStringLocalizer<Strings> t) : PageModel
{
    public static readonly string[] AllScopes = ["scan", "lookup", "members", "program", "terminal", "cash"];

    [BindProperty] public string? KeyName { get; set; }
    [BindProperty] public List<string> Scopes { get; set; } = [];
    [BindProperty] public string? KeyId { get; set; }
    [BindProperty] public bool Confirmed { get; set; }

    public IReadOnlyList<KeyRow> Keys { get; private set; } = [];
    public IssuedKey? Issued { get; private set; }
    public NewSignInLink? NewLink { get; private set; }
    public bool ConfirmingToken { get; private set; }
    public KeyRow? Revoking { get; private set; }
    public string? Revoked { get; private set; }
    public IReadOnlyList<SessionRow> Sessions { get; private set; } = [];
    public string? NameError { get; private set; }
    public string? ScopeError { get; private set; }
    public string? Error { get; private set; }
    public string Slug => MerchantSession.Of(User).Slug;
    public string Gateway => GatewayClient.PublicAddress(configuration);
    public string IntegratorPage => $"{Request.Scheme}://{Request.Host}/integrateurs/{Uri.EscapeDataString(Slug)}";

    /// <summary>TempData entry holding a key just issued, for the one GET that follows the POST.</summary>
    public const string IssuedKeyEntry = "Integration.IssuedKey";

    private const string NewTokenEntry = "Integration.NewToken";

    private const string RevokedEntry = "Integration.Revoked";

    public async Task OnGetAsync(CancellationToken ct)
    {
        Scopes = ["scan", "lookup"];
        // Post-redirect-get: the key issued by the POST travels in TempData (an encrypted, HttpOnly
        // cookie read once then deleted), never in the URL; reloading this page issues nothing.
        if (TempData[IssuedKeyEntry] is string issued && System.Text.Json.JsonSerializer.Deserialize<IssuedKey>(issued) is { } key)
        {
            Issued = key;
            Response.Headers.CacheControl = "no-store";
        }

        if (TempData[NewTokenEntry] is string link && System.Text.Json.JsonSerializer.Deserialize<NewSignInLink>(link) is { } shown)
        {
            NewLink = shown;
            Response.Headers.CacheControl = "no-store";
        }

        Revoked = TempData[RevokedEntry] as string;
        await LoadAsync(ct);
    }

    public async Task<IActionResult> OnPostIssueAsync(CancellationToken ct)
    {
        var name = KeyName?.Trim() ?? "";
        Scopes = [.. Scopes.Where(AllScopes.Contains).Distinct()];
        if (name.Length is 0 or > 80)
        {
            NameError = t["Integration.NameRequired"];
        }

        if (Scopes.Count == 0)
        {
            ScopeError = t["Integration.ScopeRequired"];
        }

        if (NameError is null && ScopeError is null)
        {
            var result = await gateway.PostAsync(gateway.Merchant("integration-keys"), new { name, scopes = Scopes }, ct);
            if (result.Ok)
            {
                TempData[IssuedKeyEntry] = System.Text.Json.JsonSerializer.Serialize(new IssuedKey(result.Body.Text("name"), result.Body.Text("key")));
                return RedirectToPage();
            }
            else if (result.Code == "invalid_name")
            {
                NameError = result.Message;
            }
            else
            {
                Error = result.Message;
            }
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(CancellationToken ct)
    {
        if (Guid.TryParse(KeyId, out var id))
        {
            await LoadAsync(ct);
            var key = Keys.FirstOrDefault(k => Guid.TryParse(k.Id, out var listed) && listed == id);
            if (!Confirmed)
            {
                // A revoked key stops a till at once: the first click only asks (a second form, so it works without JavaScript).
                Revoking = key;
                return key is null ? RedirectToPage() : Page();
            }

            var result = await gateway.DeleteAsync(gateway.Merchant($"integration-keys/{id}"), ct);
            if (!result.Ok && result.Code != "key_not_found")
            {
                Error = result.Message;
                return Page();
            }

            if (key is not null)
            {
                TempData[RevokedEntry] = key.Name;
            }
        }

        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostTokenAsync(CancellationToken ct)
    {
        if (!Confirmed)
        {
            // One click must not lock the merchant out of their own link: say what happens, ask again.
            ConfirmingToken = true;
            await LoadAsync(ct);
            return Page();
        }

        var result = await gateway.PostAsync(gateway.Merchant("dashboard-token"), new { }, ct);
        if (!result.Ok)
        {
            Error = result.Message;
            await LoadAsync(ct);
            return Page();
        }

        // The regeneration ended this browser's session with the others: sign in again with the new link.
        var token = result.Body.Text("dashboardToken");
        var opened = await gateway.OpenSessionAsync(token, ct);
        if (!opened.Ok)
        {
            await HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Redirect("/?session=expiree");
        }

        var merchant = opened.Body.GetProperty("merchant");
        await new MerchantSession(opened.Body.Text("session"), merchant.Text("slug"), merchant.Text("name"))
            .SignInAsync(HttpContext, opened.Body.GetProperty("expiresAt").GetDateTimeOffset());

        // Same post-redirect-get as a key: a reload must not regenerate the token again.
        TempData[NewTokenEntry] = System.Text.Json.JsonSerializer.Serialize(new NewSignInLink(result.Body.Text("dashboardUrl"), token));
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostEndAllAsync(CancellationToken ct)
    {
        var result = await gateway.DeleteAsync(gateway.Merchant("sessions"), ct);
        if (!result.Ok)
        {
            Error = result.Message;
            await LoadAsync(ct);
            return Page();
        }

        await HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return Redirect("/?deconnecte=partout");
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var result = await gateway.GetAsync(gateway.Merchant("integration-keys"), ct);
        Keys = [.. result.Body.Items().Select(k => new KeyRow(k.Text("id"), k.Text("name"),
            [.. k.Items("scopes").Select(s => s.GetString() ?? "")], k.TryGetProperty("createdAt", out var at) ? at.GetDateTimeOffset() : default))];
        var sessions = await gateway.GetAsync(gateway.Merchant("sessions"), ct);
        Sessions = [.. sessions.Body.Items().Select(s => new SessionRow(Date(s, "openedAt"), Date(s, "expiresAt"),
            s.TryGetProperty("current", out var current) && current.ValueKind == System.Text.Json.JsonValueKind.True))];
    }

    private static DateTimeOffset? Date(System.Text.Json.JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == System.Text.Json.JsonValueKind.String ? value.GetDateTimeOffset() : null;
}
