using System.Globalization;
using System.Text;
using Fidpass.Web.Gateway;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Fidpass.Web.Pages.Merchant.Membres;

public sealed record MemberRow(string Id, string Name, string Email, long Points, DateTimeOffset? LastVisit)
{
    public static MemberRow From(System.Text.Json.JsonElement m) => new(m.Text("id"), m.Text("name"), m.Text("email"), m.Number("points"),
        m.TryGetProperty("lastVisitAt", out var at) && at.ValueKind == System.Text.Json.JsonValueKind.String ? at.GetDateTimeOffset() : null);
}

/// <summary>Members: search by name or e-mail (loyalty pages the results), and the CSV export of all of them.</summary>
public sealed class MembresModel(GatewayClient gateway) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    [BindProperty(SupportsGet = true, Name = "page")] public int PageNumber { get; set; } = 1;

    public IReadOnlyList<MemberRow> Members { get; private set; } = [];
    public long Total { get; private set; }

    /// <summary>The search as loyalty receives it, from the page and from the export alike.</summary>
    public static string Search(string? q)
    {
        var trimmed = (q ?? "").Trim();
        return trimmed.Length > 100 ? trimmed[..100] : trimmed;
    }

    public async Task OnGetAsync(CancellationToken ct)
    {
        PageNumber = Math.Clamp(PageNumber, 1, 100_000);
        Q = Search(Q);
        var result = await gateway.GetAsync(gateway.Merchant($"members?pageSize={PageSize}&page={PageNumber}&search={Uri.EscapeDataString(Q)}"), ct);
        Members = [.. result.Body.Items("items").Select(MemberRow.From)];
        Total = result.Body.Number("total");
    }
}

/// <summary>The export streams page after page, so 10,000 members never sit in memory at once; with <c>?q=</c> it holds the members that search finds, as listed.</summary>
public static class MembersExport
{
    public static IEndpointRouteBuilder MapMembersExport(this IEndpointRouteBuilder app)
    {
        app.MapGet("/membres/export.csv", ExportAsync).RequireAuthorization();
        return app;
    }

    private static async Task ExportAsync(HttpContext context, GatewayClient gateway, CancellationToken ct)
    {
        context.Response.ContentType = "text/csv; charset=utf-8";
        context.Response.Headers.ContentDisposition = "attachment; filename=\"membres.csv\"";
        await using var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        await writer.WriteLineAsync("id;nom;email;points;derniere_visite");
        var search = MembresModel.Search(context.Request.Query["q"]);
        for (var page = 1; ; page++)
        {
            var result = await gateway.GetAsync(gateway.Merchant($"members?pageSize=100&page={page}&search={Uri.EscapeDataString(search)}"), ct);
            var rows = result.Body.Items("items").Select(MemberRow.From).ToList();
            foreach (var m in rows)
            {
                await writer.WriteLineAsync(string.Join(';', m.Id, Csv(m.Name), Csv(m.Email), m.Points.ToString(CultureInfo.InvariantCulture),
                    m.LastVisit is { } visit ? ParisTime.Iso(visit) : ""));
            }

            if (rows.Count < 100)
            {
                break;
            }
        }
    }

    /// <summary>Quoted, and a leading = + - @ neutralised so a spreadsheet never runs a name as a formula.</summary>
    private static string Csv(string value)
    {
        var safe = value.Length > 0 && "=+-@".Contains(value[0], StringComparison.Ordinal) ? "'" + value : value;
        return "\"" + safe.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }
}
