using System.Globalization;
using Fidpass.Web.Gateway;
using Fidpass.Web.Pages.Merchant.Caisse;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Fidpass.Web.Pages.Merchant.Programme;

/// <summary>The merchant's rules (points per euro, per visit, minimum amount, cap per operation), kept by loyalty.</summary>
public sealed class ProgrammeModel(GatewayClient gateway, IStringLocalizer<Strings> t) : PageModel
{
    [BindProperty] public string Type { get; set; } = "points";
    [BindProperty] public string? PointsPerEuro { get; set; }
    [BindProperty] public string? PointsPerVisit { get; set; }
    [BindProperty] public string? MinAmountEur { get; set; }
    [BindProperty] public string? MaxPointsPerOperation { get; set; }
    [BindProperty] public string ExpiryPolicy { get; set; } = "none";
    [BindProperty] public string? ExpiryMonths { get; set; }

    public Dictionary<string, string> Errors { get; } = [];
    public string? Error { get; private set; }
    public bool Saved { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        var p = (await gateway.GetAsync(gateway.Merchant("program"), ct)).Body;
        Type = p.Text("type") is "stamps" ? "stamps" : "points";
        PointsPerEuro = p.Text("pointsPerEuro");
        PointsPerVisit = p.Text("pointsPerVisit");
        MinAmountEur = p.Text("minAmountEur").Replace('.', ',');
        MaxPointsPerOperation = p.Text("maxPointsPerOperation");
        if (p.TryGetProperty("pointsExpiry", out var expiry) && expiry.ValueKind == System.Text.Json.JsonValueKind.Object)
        {
            ExpiryPolicy = expiry.Text("policy") is "age" ? "age" : "inactivity";
            ExpiryMonths = expiry.Text("months");
        }
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var perEuro = Count(nameof(PointsPerEuro), PointsPerEuro, required: true);
        var perVisit = Count(nameof(PointsPerVisit), PointsPerVisit, required: true);
        var max = Count(nameof(MaxPointsPerOperation), MaxPointsPerOperation, required: false);
        var min = Euros.Parse(MinAmountEur);
        var policy = ExpiryPolicy is "inactivity" or "age" ? ExpiryPolicy : null;
        int? months = null;
        if (policy is not null)
        {
            if (int.TryParse(ExpiryMonths?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var m) && m is >= 1 and <= 120)
            {
                months = m;
            }
            else
            {
                Errors[nameof(ExpiryMonths)] = t["Program.ExpiryMonthsInvalid"];
            }
        }

        if (min.Error is { } minError)
        {
            Errors[nameof(MinAmountEur)] = t[minError];
        }

        if (Errors.Count == 0)
        {
            var result = await gateway.PutAsync(gateway.Merchant("program"), new
            {
                type = Type == "stamps" ? "stamps" : "points",
                pointsPerEuro = perEuro,
                pointsPerVisit = perVisit,
                minAmountEur = min.Cents is { } cents ? Euros.Format(cents) : null,
                maxPointsPerOperation = max,
                pointsExpiry = policy is null ? null : new { policy, months },
            }, ct);
            if (result.Ok)
            {
                Saved = true;
                return Page();
            }

            Error = result.Message;
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private long? Count(string field, string? text, bool required)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            if (required)
            {
                Errors[field] = t["Program.CountRequired"];
            }

            return null;
        }

        if (!long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > 1000 || (!required && value == 0))
        {
            Errors[field] = t[required ? "Program.CountRequired" : "Program.MaxInvalid"];
            return null;
        }

        return value;
    }
}
