using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.CashlogySimulator;
using Fidpass.Testing;

namespace Fidpass.CashlogyEdge.IntegrationTests;

/// <summary>What the merchant's « Caisse espèces » page reads: the day's cash sales with their state, and the cash each machine last counted.</summary>
public sealed class DaySalesTests(EdgeFixture fixture)
{
    private static string Sales(Till till, string? query = null) => $"/api/v1/merchants/{till.Slug}/cash/sales{query}";

    private static async Task<JsonElement> SaleAsync(Till till, Guid operationId) =>
        (await till.GetJsonAsync(Sales(till))).GetProperty("items").EnumerateArray().Single(s => s.GetProperty("operationId").GetGuid() == operationId);

    private static Task<JsonElement> SaleReachesAsync(Till till, Guid operationId, string state) =>
        Eventually.Get(() => SaleAsync(till, operationId), s => s.GetProperty("state").GetString() == state, TimeSpan.FromSeconds(30), $"sale {state}");

    [Fact]
    public async Task The_days_cash_sales_say_in_progress_collected_partially_refunded_and_cancelled_and_the_machine_count_is_kept()
    {
        await using var till = await Till.OpenAsync(fixture);

        var notReported = await till.Http.GetAsync(new Uri($"{till.Machine}/cash", UriKind.Relative), Till.Ct);
        Assert.Equal(HttpStatusCode.NotFound, notReported.StatusCode);
        Assert.Equal("application/problem+json", notReported.Content.Headers.ContentType?.MediaType);
        Assert.Equal("cash_not_reported", (await notReported.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("code").GetString());

        var sale = await till.ChargeAsync(1200, "DS-1");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        await SaleReachesAsync(till, sale, "in_progress");
        till.Simulator.Insert(1000, 200);
        var collected = await SaleReachesAsync(till, sale, "collected");
        Assert.Equal((1200L, 1200L, 0L, false), (collected.GetProperty("collected").GetInt64(), collected.GetProperty("refundable").GetInt64(),
            collected.GetProperty("refunded").GetInt64(), collected.GetProperty("reconciled").GetBoolean()));

        // The machine's own count after the sale, kept: by denomination, totals as the simulator holds them.
        var cash = await till.GetJsonAsync($"{till.Machine}/cash");
        Assert.Equal(till.Simulator.Machine.RecyclersTotal, cash.GetProperty("recyclersTotal").GetInt64());
        Assert.Equal(till.Simulator.Machine.RecyclersTotal + till.Simulator.Machine.StackerTotal, cash.GetProperty("total").GetInt64());
        Assert.Equal(till.Simulator.Machine.Recyclers[1000], cash.GetProperty("recyclers").EnumerateArray()
            .Single(p => p.GetProperty("value").GetInt64() == 1000).GetProperty("count").GetInt32());
        Assert.True(cash.GetProperty("reportedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));

        var refund = await till.StartAsync($"{till.Machine}/payouts", new { requestId = "DS-1-r", amount = 500, saleOperationId = sale });
        await till.SettledAsync(refund);
        var partly = await SaleReachesAsync(till, sale, "partially_refunded");
        Assert.Equal((500L, 700L), (partly.GetProperty("refunded").GetInt64(), partly.GetProperty("refundable").GetInt64()));

        var cancelled = await till.ChargeAsync(990, "DS-2");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.PressCancel();
        await SaleReachesAsync(till, cancelled, "cancelled");

        var day = await till.GetJsonAsync(Sales(till));
        Assert.Equal("Europe/Paris", day.GetProperty("timeZone").GetString());
        Assert.Equal([cancelled, sale], day.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("operationId").GetGuid()));
        Assert.Empty((await till.GetJsonAsync(Sales(till, "?date=2001-01-01"))).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task A_sale_whose_reply_was_lost_is_listed_unknown_then_collected_and_reconciled()
    {
        await using var till = await Till.OpenAsync(fixture);
        var sale = await till.ChargeAsync(1500, "DS-3");
        await till.WaitForScreenAsync(SimulatorState.Charging);

        till.Simulator.StopListening();
        await SaleReachesAsync(till, sale, "unknown");
        // The customer pays on the Connector screen meanwhile; the Connector comes back.
        till.Simulator.Insert(1000, 500);
        await till.Simulator.StartListeningAsync();

        var reconciled = await SaleReachesAsync(till, sale, "collected");
        Assert.Equal((true, 1500L), (reconciled.GetProperty("reconciled").GetBoolean(), reconciled.GetProperty("collected").GetInt64()));
    }

    [Fact]
    public async Task A_malformed_day_or_another_merchants_machine_is_a_clear_refusal()
    {
        await using var till = await Till.OpenAsync(fixture);

        var bad = await till.Http.GetAsync(new Uri(Sales(till, "?date=07/12/2026"), UriKind.Relative), Till.Ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("invalid_date", (await bad.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("code").GetString());

        using var other = fixture.Host.CreateClient();
        Till.Identify(other, Guid.NewGuid(), till.Slug, "cash");
        var foreign = await other.GetAsync(new Uri($"{till.Machine}/cash", UriKind.Relative), Till.Ct);
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        Assert.Equal("machine_not_found", (await foreign.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("code").GetString());
        Assert.Empty((await (await other.GetAsync(new Uri(Sales(till), UriKind.Relative), Till.Ct)).Content.ReadFromJsonAsync<JsonElement>(Till.Ct))
            .GetProperty("items").EnumerateArray());
    }
}
