using Fidpass.Web.Gateway;
using Fidpass.Web.Pages.Public;
using Fidpass.Web.Session;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Fidpass.Web.Pages.Merchant.Commerce;

/// <summary>
/// « Mon commerce »: the name, colours and logo customers see (merchant-token keeps them). A save
/// answers with a redirect (post/redirect/get); a refusal shows merchant-token's French message.
/// </summary>
public sealed class CommerceModel(GatewayClient gateway, IConfiguration configuration, IStringLocalizer<Strings> t) : PageModel
{
    private const string SavedEntry = "Commerce.Saved";

    [BindProperty] public string? Name { get; set; }
    [BindProperty] public string? BackgroundColor { get; set; }
    [BindProperty] public string? ForegroundColor { get; set; }
    [BindProperty] public bool AutoForeground { get; set; }
    [BindProperty] public bool RemoveLogo { get; set; }
    [BindProperty] public IFormFile? Logo { get; set; }

    public ShopLook? Current { get; private set; }
    public string? Error { get; private set; }
    public bool Saved { get; private set; }
    public string Slug => MerchantSession.Of(User).Slug;

    public async Task OnGetAsync(CancellationToken ct)
    {
        Saved = TempData[SavedEntry] is true;
        AutoForeground = true;
        await LoadAsync(ct);
        Name = Current?.Name;
        BackgroundColor = Current?.Background;
        ForegroundColor = Current?.Foreground;
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        string? logo = null;
        if (Logo is { Length: > 0 } file)
        {
            if (file.Length > 64 * 1024)
            {
                Error = t["ShopForm.LogoTooLarge"];
                return await RetryAsync(ct);
            }

            using var bytes = new MemoryStream();
            await file.CopyToAsync(bytes, ct);
            logo = Convert.ToBase64String(bytes.ToArray());
        }

        var result = await gateway.PutAsync(gateway.Merchant("branding"), new
        {
            name = Name,
            backgroundColor = BackgroundColor,
            foregroundColor = AutoForeground ? null : ForegroundColor,
            logoPngBase64 = logo,
            removeLogo = RemoveLogo,
        }, ct);
        if (!result.Ok)
        {
            Error = result.Message;
            return await RetryAsync(ct);
        }

        TempData[SavedEntry] = true;
        return RedirectToPage();
    }

    private async Task LoadAsync(CancellationToken ct) => Current = (await ShopLook.LoadAsync(gateway, configuration, Slug, ct)).Look;

    private async Task<PageResult> RetryAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
