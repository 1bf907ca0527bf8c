using Fidpass.Web.Gateway;
using Fidpass.Web.Session;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Fidpass.Web.Pages.Merchant.Integration;

public sealed record KeyRow(string Id, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt);

public sealed record IssuedKey(string Name, string Key);

/// <summary>
/// "Intégration caisse / borne": what to hand the integrator (the public page link, a key with
/// just the scopes it needs) and the dashboard token. Secrets are shown once: Fidpass keeps only
/// their hashes, so "showing the token" means issuing a new one.
/// </summary>
public sealed class IntegrationModel(GatewayClient gateway, IConfiguration configuration, IStringLocalizer<Strings> t) : PageModel
{
    public static readonly string[] AllScopes = ["scan", "lookup", "members", "program", "terminal", "cash"];

    [BindProperty] public string? KeyName { get; set; }
    [BindProperty] public List<string> Scopes { get; set; } = [];
    [BindProperty] public string? KeyId { get; set; }

    public IReadOnlyList<KeyRow> Keys { get; private set; } = [];
    public IssuedKey? Issued { get; private set; }
    public string? NewToken { get; private set; }
    public string? NameError { get; private set; }
    public string? ScopeError { get; private set; }
    public string? Error { get; private set; }
    public string Slug => MerchantSession.Of(User).Slug;
    public string Gateway => GatewayClient.PublicAddress(configuration);
    public string IntegratorPage => $"{Request.Scheme}://{Request.Host}/integrateurs/{Uri.EscapeDataString(Slug)}";

    /// <summary>TempData entry holding a key just issued, for the one GET that follows the POST.</summary>
    public const string IssuedKeyEntry = "Integration.IssuedKey";

    private const string NewTokenEntry = "Integration.NewToken";

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

        if (TempData[NewTokenEntry] is string token)
        {
            NewToken = token;
            Response.Headers.CacheControl = "no-store";
        }

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
            var result = await gateway.DeleteAsync(gateway.Merchant($"integration-keys/{id}"), ct);
            if (!result.Ok && result.Code != "key_not_found")
            {
                Error = result.Message;
                await LoadAsync(ct);
                return Page();
            }
        }

        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostTokenAsync(CancellationToken ct)
    {
        var result = await gateway.PostAsync(gateway.Merchant("dashboard-token"), new { }, ct);
        if (result.Ok)
        {
            // Same post-redirect-get as a key: a reload must not regenerate the token again.
            TempData[NewTokenEntry] = result.Body.Text("dashboardToken");
            return RedirectToPage();
        }

        Error = result.Message;
        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var result = await gateway.GetAsync(gateway.Merchant("integration-keys"), ct);
        Keys = [.. result.Body.Items().Select(k => new KeyRow(k.Text("id"), k.Text("name"),
            [.. k.Items("scopes").Select(s => s.GetString() ?? "")], k.TryGetProperty("createdAt", out var at) ? at.GetDateTimeOffset() : default))];
    }
}
