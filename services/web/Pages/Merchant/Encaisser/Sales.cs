using System.Text.Json;
using Fidpass.Web.Gateway;
using Microsoft.AspNetCore.Mvc;

namespace Fidpass.Web.Pages.Merchant.Encaisser;

/// <summary>
/// One sale of the day as the merchant reads it. <c>State</c> is the services' vocabulary (collected,
/// refunded, cancelled, unknown…), shown through <c>Sales.State.*</c>; <c>Reconciled</c>: the outcome
/// was established afterwards from the machine's own counts (its reply had been lost).
/// </summary>
public sealed record SaleRow(
    string Kind, string Id, string DeviceId, string Device, long Amount, string State, bool Reconciled, long Refunded, long Refundable,
    DateTimeOffset At, bool WithMember, string? Detail)
{
    public bool InProgress => State is "in_progress" or "unknown";
}

public sealed record Device(string Kind, string Id, string Name, string? Status)
{
    public string Key => $"{Kind}:{Id}";
}

public sealed record CashHeld(string MachineId, DateTimeOffset ReportedAt, long Total, IReadOnlyList<CashPiece> Pieces);

public sealed record CashPiece(long Value, long Count, string Kind)
{
    public string Euros => Aujourdhui.AujourdhuiModel.Euros(Value);
}

/// <summary>The card and cash sales of the day, the devices and what each machine holds, read through the gateway.</summary>
public sealed class Sales(GatewayClient gateway)
{
    public static DateTimeOffset? Time(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.TryGetDateTimeOffset(out var t) ? t : null;

    public static bool Flag(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    public async Task<IReadOnlyList<Device>> ReadersAsync(CancellationToken ct) =>
        [.. (await gateway.GetAsync(gateway.Merchant("terminal/readers"), ct)).Body.Items()
            .Select(r => new Device("card", r.Text("id"), r.Text("label"), r.Text("status")))];

    public async Task<IReadOnlyList<Device>> MachinesAsync(CancellationToken ct) =>
        [.. (await gateway.GetAsync(gateway.Merchant("cash/machines"), ct)).Body.Items()
            .Select(m => new Device("cash", m.Text("id"), m.Text("name"), m.Text("status")))];

    public async Task<IReadOnlyList<SaleRow>> CardSalesAsync(IReadOnlyList<Device> readers, CancellationToken ct) =>
        [.. (await gateway.GetAsync(gateway.Merchant("terminal/payments"), ct)).Body.Items("items").Select(s => new SaleRow(
            "card", s.Text("saleId"), s.Text("readerId"), readers.FirstOrDefault(r => r.Id == s.Text("readerId"))?.Name ?? "",
            s.Number("amount"), s.Text("state"), false, s.Number("amountRefunded") + s.Number("amountRefundPending"), s.Number("refundable"),
            Time(s, "startedAt") ?? default, s.Text("memberId").Length > 0, s.Text("errorMessage") is { Length: > 0 } e ? e : null))];

    public async Task<IReadOnlyList<SaleRow>> CashSalesAsync(IReadOnlyList<Device> machines, CancellationToken ct) =>
        [.. (await gateway.GetAsync(gateway.Merchant("cash/sales"), ct)).Body.Items("items").Select(s => new SaleRow(
            "cash", s.Text("operationId"), s.Text("machineId"), machines.FirstOrDefault(m => m.Id == s.Text("machineId"))?.Name ?? "",
            s.Number("amount"), s.Text("state"), Flag(s, "reconciled"), s.Number("refunded") + s.Number("refundPending"), s.Number("refundable"),
            Time(s, "requestedAt") ?? default, s.Text("memberId").Length > 0, s.Text("detail") is { Length: > 0 } d ? d : null))];

    /// <summary>What the machine counted last, without asking it (null before its first count).</summary>
    public async Task<CashHeld?> CashHeldAsync(string machineId, CancellationToken ct)
    {
        var found = await gateway.GetAsync(gateway.Merchant($"cash/machines/{Uri.EscapeDataString(machineId)}/cash"), ct);
        if (!found.Ok)
        {
            return null;
        }

        var b = found.Body;
        IEnumerable<CashPiece> Pieces(string name) => b.Items(name).Select(p => new CashPiece(p.Number("value"), p.Number("count"), p.Text("kind")));
        return new CashHeld(machineId, Time(b, "reportedAt") ?? default, b.Number("total"),
            [.. Pieces("recyclers").Concat(Pieces("stacker")).Where(p => p.Count > 0).OrderByDescending(p => p.Value)]);
    }
}

/// <summary>Where a form on another page sends the merchant back to: only a path of this site.</summary>
public static class LocalReturn
{
    public static IActionResult To(string? path, string fallback) =>
        new LocalRedirectResult(path is { Length: > 1 } p && p[0] == '/' && p[1] != '/' && p[1] != '\\' ? p : fallback);
}
