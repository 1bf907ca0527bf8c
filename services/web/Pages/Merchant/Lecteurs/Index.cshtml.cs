using Fidpass.Web.Gateway;
using Fidpass.Web.Session;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Fidpass.Web.Pages.Merchant.Lecteurs;

/// <summary>A reader's model as sold (« Stripe Reader S700 »), not Stripe's device type (« simulated_stripe_s700 »).</summary>
public static class ReaderModels
{
    private static readonly Dictionary<string, string> Names = new(StringComparer.Ordinal)
    {
        ["bbpos_wisepos_e"] = "BBPOS WisePOS E",
        ["wisepos_e"] = "BBPOS WisePOS E",
        ["stripe_s700"] = "Stripe Reader S700",
        ["stripe_m2"] = "Stripe Reader M2",
        ["bbpos_wisepad3"] = "BBPOS WisePad 3",
        ["bbpos_chipper2x"] = "BBPOS Chipper 2X BT",
        ["verifone_P400"] = "Verifone P400",
    };

    public static string Name(string deviceType, Microsoft.Extensions.Localization.IStringLocalizer t)
    {
        var simulated = deviceType.StartsWith("simulated_", StringComparison.Ordinal);
        var type = simulated ? deviceType["simulated_".Length..] : deviceType;
        var name = Names.TryGetValue(type, out var known) ? known : t["Readers.ModelUnknown"].Value;
        return simulated ? t["Readers.ModelSimulated", name].Value : name;
    }
}

public sealed record ReaderRow(string Id, string Label, string DeviceType, string Status, DateTimeOffset? LastSeen);

public sealed record LocationRow(string Id, string Name);

public sealed record TillLinkRow(string TillId, string ReaderId);

/// <summary>What a till may call itself: it becomes a path segment of the terminal API.</summary>
public static class TillIds
{
    public const int MaxLength = 64;

    public static bool IsValid(string till) =>
        till.Length is > 0 and <= MaxLength && till.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}

/// <summary>Stripe Terminal readers: registered by the pairing code the reader shows; the merchant's first location is created on the way if needed.</summary>
public sealed class LecteursModel(GatewayClient gateway, IStringLocalizer<Strings> t) : PageModel
{
    [BindProperty] public string? RegistrationCode { get; set; }
    [BindProperty] public string? Label { get; set; }
    [BindProperty] public string? LocationId { get; set; }
    [BindProperty] public string? Line1 { get; set; }
    [BindProperty] public string? PostalCode { get; set; }
    [BindProperty] public string? City { get; set; }

    [BindProperty] public string? TillId { get; set; }
    [BindProperty] public string? TillReaderId { get; set; }
    [BindProperty] public bool Force { get; set; }

    public IReadOnlyList<ReaderRow> Readers { get; private set; } = [];
    public IReadOnlyList<LocationRow> Locations { get; private set; } = [];
    public IReadOnlyList<TillLinkRow> TillLinks { get; private set; } = [];
    public string? CodeError { get; private set; }
    public string? LabelError { get; private set; }
    public string? LocationError { get; private set; }
    public string? Error { get; private set; }
    public string? TillError { get; private set; }
    public string? TillReaderError { get; private set; }
    public string? AssignError { get; private set; }
    public string? Assigned { get; private set; }

    private const string AssignedEntry = "Readers.Assigned";

    public Task OnGetAsync(CancellationToken ct)
    {
        Assigned = TempData[AssignedEntry] as string;
        return LoadAsync(ct);
    }

    /// <summary>
    /// Chooses the reader a till sends its card payments to (the till names itself with the
    /// <c>tillId</c> it sends with each sale). stripe-terminal checks the reader is online and free.
    /// </summary>
    public async Task<IActionResult> OnPostAssignAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        var till = TillId?.Trim() ?? "";
        TillError = TillIds.IsValid(till) ? null : t["Readers.TillRequired"].Value;
        var reader = Readers.FirstOrDefault(r => r.Id == TillReaderId);
        TillReaderError = reader is null ? t["Readers.TillReaderRequired"].Value : null;
        if (TillError is not null || TillReaderError is not null)
        {
            return Refused();
        }

        var result = await gateway.PutAsync(gateway.Merchant($"terminal/tills/{Uri.EscapeDataString(till)}/reader"), new { readerId = reader!.Id, force = Force }, ct);
        if (!result.Ok)
        {
            if (result.Code is "reader_offline" or "reader_in_use" or "reader_not_found" or "reader_required")
            {
                TillReaderError = result.Message;
            }
            else
            {
                AssignError = result.Message;
            }

            return Refused();
        }

        TempData[AssignedEntry] = t["Readers.TillAssigned", till, reader.Label].Value;
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        var code = RegistrationCode?.Trim() ?? "";
        var label = Label?.Trim() ?? "";
        CodeError = code.Length is 0 or > 100 ? t["Readers.CodeRequired"].Value : null;
        LabelError = label.Length is 0 or > 80 ? t["Readers.LabelRequired"].Value : null;
        if (Locations.Count == 0 && (string.IsNullOrWhiteSpace(Line1) || string.IsNullOrWhiteSpace(PostalCode) || string.IsNullOrWhiteSpace(City)))
        {
            LocationError = t["Readers.LocationRequired"];
        }

        if (CodeError is not null || LabelError is not null || LocationError is not null)
        {
            return Refused();
        }

        var location = Locations.FirstOrDefault(l => l.Id == LocationId)?.Id ?? (Locations.Count > 0 ? Locations[0].Id : null);
        if (location is null)
        {
            var created = await gateway.PostAsync(gateway.Merchant("terminal/locations"),
                new { displayName = MerchantSession.Of(User).Name, line1 = Line1!.Trim(), city = City!.Trim(), postalCode = PostalCode!.Trim(), country = "FR" }, ct);
            if (!created.Ok)
            {
                LocationError = created.Message;
                return Refused();
            }

            location = created.Body.Text("id");
        }

        var result = await gateway.PostAsync(gateway.Merchant("terminal/readers"), new { registrationCode = code, label, locationId = location }, ct);
        if (!result.Ok)
        {
            if (result.Code is "invalid_registration_code" or "reader_incomplete")
            {
                CodeError = result.Message;
            }
            else
            {
                Error = result.Message;
            }

            return Refused();
        }

        return RedirectToPage();
    }

    private PageResult Refused()
    {
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var readers = await gateway.GetAsync(gateway.Merchant("terminal/readers"), ct);
        Readers = [.. readers.Body.Items().Select(r => new ReaderRow(r.Text("id"), r.Text("label"), r.Text("deviceType"), r.Text("status"),
            r.TryGetProperty("lastSeenAt", out var seen) && seen.ValueKind == System.Text.Json.JsonValueKind.String ? seen.GetDateTimeOffset() : null))];
        var locations = await gateway.GetAsync(gateway.Merchant("terminal/locations"), ct);
        Locations = [.. locations.Body.Items().Select(l => new LocationRow(l.Text("id"), l.Text("displayName")))];
        var tills = await gateway.GetAsync(gateway.Merchant("terminal/tills"), ct);
        TillLinks = [.. tills.Body.Items().Select(l => new TillLinkRow(l.Text("tillId"), l.Text("readerId")))];
    }
}
