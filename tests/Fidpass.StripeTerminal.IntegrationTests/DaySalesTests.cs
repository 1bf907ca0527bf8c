using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Testing;

namespace Fidpass.StripeTerminal.IntegrationTests;

/// <summary>What the merchant's « Lecteurs de carte » page reads: the day's card sales with their state, and which till pays on which reader.</summary>
public sealed class DaySalesTests(StripeTerminalFixture fixture) : IClassFixture<StripeTerminalFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> DayAsync(Merchant merchant, string query = "") =>
        await merchant.Http.GetFromJsonAsync<JsonElement>(merchant.Route("payments" + query), Ct);

    private static Task<JsonElement> SaleReachesAsync(Merchant merchant, string saleId, string state) => Eventually.Get(
        async () => (await DayAsync(merchant)).GetProperty("items").EnumerateArray().SingleOrDefault(s => s.GetProperty("saleId").GetString() == saleId),
        s => s.ValueKind == JsonValueKind.Object && s.GetProperty("state").GetString() == state, what: $"{saleId} {state} in the day's list");

    [Fact]
    public async Task The_days_card_sales_say_in_progress_collected_refunded_cancelled_and_declined_newest_first()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();

        using (var started = await merchant.PayAsync(new { saleId = "day-1", amount = 1250, currency = "eur", readerId }))
        {
            Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        }

        var running = await SaleReachesAsync(merchant, "day-1", "in_progress");
        Assert.Equal((readerId, 1250L, 0L), (running.GetProperty("readerId").GetString(), running.GetProperty("amount").GetInt64(), running.GetProperty("refundable").GetInt64()));
        await merchant.PresentCardAsync(readerId);
        var collected = await SaleReachesAsync(merchant, "day-1", "collected");
        Assert.Equal(1250, collected.GetProperty("refundable").GetInt64());

        using (var refund = await merchant.Http.PostAsJsonAsync(merchant.Route("payments/day-1/refunds"), new { refundId = "r-1", amount = 1250 }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, refund.StatusCode);
        }

        var refunded = await SaleReachesAsync(merchant, "day-1", "refunded");
        Assert.Equal(0, refunded.GetProperty("refundable").GetInt64());

        using (var second = await merchant.PayAsync(new { saleId = "day-2", amount = 800, currency = "eur", readerId }))
        {
            Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        }

        await merchant.PresentCardAsync(readerId, "4000000000000002");
        await SaleReachesAsync(merchant, "day-2", "declined");
        using (var cancel = await merchant.Http.PostAsync(merchant.Route("payments/day-2/cancel"), null, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        }

        await SaleReachesAsync(merchant, "day-2", "cancelled");

        var day = await DayAsync(merchant);
        Assert.Equal("Europe/Paris", day.GetProperty("timeZone").GetString());
        Assert.Equal(["day-2", "day-1"], day.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("saleId").GetString()));
        Assert.Empty((await DayAsync(merchant, "?date=2001-01-01")).GetProperty("items").EnumerateArray());

        // Another merchant's day is its own.
        var other = await fixture.NewMerchantAsync();
        Assert.Empty((await DayAsync(other)).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task A_malformed_day_is_a_problem_and_the_tills_list_says_which_reader_each_till_uses()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync("Terrasse");

        using var bad = await merchant.Http.GetAsync(merchant.Route("payments?date=2026-13-01"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        Assert.Equal("invalid_date", (await bad.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("code").GetString());

        Assert.Empty(await merchant.Http.GetFromJsonAsync<JsonElement[]>(merchant.Route("tills"), Ct) ?? []);
        using (var link = await merchant.Http.PutAsJsonAsync(merchant.Route("tills/caisse-2/reader"), new { readerId }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, link.StatusCode);
        }

        var tills = await merchant.Http.GetFromJsonAsync<JsonElement[]>(merchant.Route("tills"), Ct);
        var only = Assert.Single(tills!);
        Assert.Equal(("caisse-2", readerId), (only.GetProperty("tillId").GetString(), only.GetProperty("readerId").GetString()));
        var other = await fixture.NewMerchantAsync();
        Assert.Empty(await other.Http.GetFromJsonAsync<JsonElement[]>(other.Route("tills"), Ct) ?? []);
    }
}
