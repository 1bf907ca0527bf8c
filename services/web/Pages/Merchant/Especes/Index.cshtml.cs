using Fidpass.Web.Gateway;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Fidpass.Web.Pages.Merchant.Especes;

public sealed record MachineRow(string Id, string Name, string Host, string Port, string TillCode, string Status, string? Detail, string? Version);

public sealed record LevelRow(string Denomination, string Kind, string State, long Percent)
{
    /// <summary>The machine names values in cents ("500" is a 5 € note).</summary>
    public string Euros => long.TryParse(Denomination, System.Globalization.CultureInfo.InvariantCulture, out var cents)
        ? (cents / 100m).ToString("0.00 €", System.Globalization.CultureInfo.CurrentCulture)
        : Denomination;
}

public sealed record TestResult(string MachineId, bool Reachable, string? Message, IReadOnlyList<LevelRow> Levels);

/// <summary>Azkoyen Cashlogy machines: declared by their CashlogyConnector address, live status from cashlogy-edge, connection test with the levels.</summary>
public sealed class EspecesModel(GatewayClient gateway, IStringLocalizer<Strings> t) : PageModel
{
    private static readonly string[] Statuses = ["ready", "busy", "error", "offline", "initializing"];

    [BindProperty] public string? Name { get; set; }
    [BindProperty] public string? Host { get; set; }
    [BindProperty] public string? Port { get; set; } = "8092";
    [BindProperty] public string? TillCode { get; set; } = "1";
    [BindProperty] public string? MachineId { get; set; }

    public IReadOnlyList<MachineRow> Machines { get; private set; } = [];
    public Dictionary<string, string> Errors { get; } = [];
    public TestResult? Tested { get; private set; }
    public string? Error { get; private set; }

    public Task OnGetAsync(CancellationToken ct) => LoadAsync(ct);

    public async Task<IActionResult> OnPostAddAsync(CancellationToken ct)
    {
        var name = Name?.Trim() ?? "";
        var host = Host?.Trim() ?? "";
        var till = TillCode?.Trim() ?? "";
        if (name.Length is 0 or > 80)
        {
            Errors["name"] = t["Cash.NameRequired"];
        }

        if (host.Length is 0 or > 253 || Uri.CheckHostName(host) == UriHostNameType.Unknown)
        {
            Errors["host"] = t["Cash.HostInvalid"];
        }

        if (!int.TryParse(Port?.Trim(), out var port) || port is < 1 or > 65535)
        {
            Errors["port"] = t["Cash.PortInvalid"];
        }

        if (till.Length is 0 or > 16 || !till.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-'))
        {
            Errors["till"] = t["Cash.TillInvalid"];
        }

        if (Errors.Count == 0)
        {
            var result = await gateway.PostAsync(gateway.Merchant("cash/machines"), new { name, host, port, tillCode = till, mode = "express" }, ct);
            if (result.Ok)
            {
                return RedirectToPage();
            }

            var field = result.Code switch { "invalid_name" => "name", "invalid_host" => "host", "invalid_port" => "port", "invalid_till_code" => "till", _ => null };
            if (field is null)
            {
                Error = result.Message;
            }
            else
            {
                Errors[field] = result.Message!;
            }
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostTestAsync(CancellationToken ct)
    {
        if (!Guid.TryParse(MachineId, out var id))
        {
            return RedirectToPage();
        }

        var test = await gateway.PostAsync(gateway.Merchant($"cash/machines/{id}/test"), new { }, ct);
        IReadOnlyList<LevelRow> levels = [];
        if (test.Ok)
        {
            var found = await gateway.GetAsync(gateway.Merchant($"cash/machines/{id}/levels"), ct);
            levels = [.. found.Body.Items("levels").Select(l => new LevelRow(l.Text("denomination"), l.Text("kind"), l.Text("state"), l.Number("percent")))];
        }

        Tested = new TestResult(id.ToString(), test.Ok, test.Message, levels);
        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var machines = await gateway.GetAsync(gateway.Merchant("cash/machines"), ct);
        Machines = [.. machines.Body.Items().Select(m => new MachineRow(m.Text("id"), m.Text("name"), m.Text("host"), m.Text("port"), m.Text("tillCode"),
            Statuses.Contains(m.Text("status")) ? m.Text("status") : "offline", m.Text("statusDetail"), m.Text("version")))];
    }
}
