using System.Globalization;
using Fidpass.Web.Gateway;
using Fidpass.Web.Pages.Merchant.Caisse;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Fidpass.Web.Pages.Merchant.Programme;

/// <summary>A reward of the catalogue, as the programme page and the till show it.</summary>
public sealed record RewardRow(string Id, string Name, long Points)
{
    public static RewardRow From(System.Text.Json.JsonElement r) => new(r.Text("id"), r.Text("name"), r.Number("points"));
}

/// <summary>
/// The merchant's rules (points per euro, per visit, minimum amount, caps per operation and per member
/// and day, expiry), kept by loyalty, and the reward catalogue. Each reward form carries its own
/// idempotency key and a success redirects to the page (post/redirect/get): a double click or a
/// re-posted form never adds a reward twice.
/// </summary>
public sealed class ProgrammeModel(GatewayClient gateway, IStringLocalizer<Strings> t) : PageModel
{
    private const string RewardDoneEntry = "programme-reward";

    [BindProperty] public string Type { get; set; } = "points";
    [BindProperty] public string? PointsPerEuro { get; set; }
    [BindProperty] public string? PointsPerVisit { get; set; }
    [BindProperty] public string? MinAmountEur { get; set; }
    [BindProperty] public string? MaxPointsPerOperation { get; set; }
    [BindProperty] public string? MaxPointsPerMemberPerDay { get; set; }
    [BindProperty] public string ExpiryPolicy { get; set; } = "none";
    [BindProperty] public string? ExpiryMonths { get; set; }

    public Dictionary<string, string> Errors { get; } = [];
    public string? Error { get; private set; }
    public bool Saved { get; private set; }

    public IReadOnlyList<RewardRow> Rewards { get; private set; } = [];

    /// <summary>What the last reward form did (« added », « changed », « withdrawn »), shown once after the redirect.</summary>
    public string? RewardDone { get; private set; }

    /// <summary>The new reward form: what was typed, its key and its errors.</summary>
    public string? NewRewardName { get; private set; }
    public string? NewRewardPoints { get; private set; }
    public string NewRewardAttempt { get; private set; } = Guid.NewGuid().ToString("N");

    /// <summary>A refusal of a reward form, by reward id ("" for the new reward form).</summary>
    public Dictionary<string, string> RewardErrors { get; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        RewardDone = TempData[RewardDoneEntry] as string;
        await LoadProgramAsync(ct);
        await LoadRewardsAsync(ct);
    }

    public async Task<IActionResult> OnPostAddRewardAsync(string? name, string? points, string? attempt, CancellationToken ct)
    {
        NewRewardName = name;
        NewRewardPoints = points;
        NewRewardAttempt = attempt is { Length: > 0 and <= 64 } ? attempt : Guid.NewGuid().ToString("N");
        return await SendRewardAsync("", name, points, body => gateway.PostAsync(gateway.Merchant("program/rewards"), body, ct, "web-reward-" + NewRewardAttempt), "added", ct);
    }

    public async Task<IActionResult> OnPostChangeRewardAsync(string? rewardId, string? name, string? points, string? attempt, CancellationToken ct) =>
        await SendRewardAsync(rewardId ?? "", name, points,
            body => gateway.PutAsync(gateway.Merchant($"program/rewards/{Uri.EscapeDataString(rewardId ?? "")}"), body, ct, Key(attempt)), "changed", ct);

    public async Task<IActionResult> OnPostWithdrawRewardAsync(string? rewardId, string? attempt, CancellationToken ct)
    {
        var result = await gateway.DeleteAsync(gateway.Merchant($"program/rewards/{Uri.EscapeDataString(rewardId ?? "")}"), ct, Key(attempt));
        return await AfterRewardAsync(rewardId ?? "", result, "withdrawn", ct);
    }

    private static string Key(string? attempt) => "web-reward-" + (attempt is { Length: > 0 and <= 64 } ? attempt : Guid.NewGuid().ToString("N"));

    private async Task<IActionResult> SendRewardAsync(string form, string? name, string? points, Func<object, Task<GatewayResult>> send, string done, CancellationToken ct)
    {
        var trimmed = name?.Trim() ?? "";
        if (trimmed.Length is 0 or > 200)
        {
            RewardErrors[form] = t["Program.RewardNameInvalid"];
        }
        else if (!long.TryParse(points?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var cost) || cost is <= 0 or > 1_000_000)
        {
            RewardErrors[form] = t["Program.RewardPointsInvalid"];
        }
        else
        {
            return await AfterRewardAsync(form, await send(new { name = trimmed, points = cost }), done, ct);
        }

        return await RefusedAsync(ct);
    }

    private async Task<IActionResult> AfterRewardAsync(string form, GatewayResult result, string done, CancellationToken ct)
    {
        if (result.Ok)
        {
            TempData[RewardDoneEntry] = done;
            return RedirectToPage();
        }

        RewardErrors[form] = result.Message ?? "";
        return await RefusedAsync(ct);
    }

    private async Task<IActionResult> RefusedAsync(CancellationToken ct)
    {
        await LoadProgramAsync(ct);
        await LoadRewardsAsync(ct);
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private async Task LoadRewardsAsync(CancellationToken ct) =>
        Rewards = [.. (await gateway.GetAsync(gateway.Merchant("program/rewards"), ct)).Body.Items("items").Select(RewardRow.From)];

    private async Task LoadProgramAsync(CancellationToken ct)
    {
        var p = (await gateway.GetAsync(gateway.Merchant("program"), ct)).Body;
        Type = p.Text("type") is "stamps" ? "stamps" : "points";
        PointsPerEuro = p.Text("pointsPerEuro");
        PointsPerVisit = p.Text("pointsPerVisit");
        MinAmountEur = p.Text("minAmountEur").Replace('.', ',');
        MaxPointsPerOperation = p.Text("maxPointsPerOperation");
        MaxPointsPerMemberPerDay = p.Text("maxPointsPerMemberPerDay");
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
        var maxPerDay = Count(nameof(MaxPointsPerMemberPerDay), MaxPointsPerMemberPerDay, required: false, limit: 1_000_000);
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
                maxPointsPerMemberPerDay = maxPerDay,
                pointsExpiry = policy is null ? null : new { policy, months },
            }, ct);
            if (result.Ok)
            {
                Saved = true;
                await LoadRewardsAsync(ct);
                return Page();
            }

            Error = result.Message;
        }

        await LoadRewardsAsync(ct);
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private long? Count(string field, string? text, bool required, long limit = 1000)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            if (required)
            {
                Errors[field] = t["Program.CountRequired"];
            }

            return null;
        }

        if (!long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > limit || (!required && value == 0))
        {
            Errors[field] = t[required ? "Program.CountRequired" : "Program.MaxInvalid"];
            return null;
        }

        return value;
    }
}
