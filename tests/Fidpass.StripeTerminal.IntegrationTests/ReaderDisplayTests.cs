using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fidpass.Testing;

namespace Fidpass.StripeTerminal.IntegrationTests;

/// <summary>Spec 6.2 #9: the cart display, replaced by the payment, never sent during one.</summary>
public sealed class ReaderDisplayTests(StripeTerminalFixture fixture) : IClassFixture<StripeTerminalFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> Json(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>(Ct);

    private static readonly object Basket = new
    {
        currency = "eur",
        lineItems = new object[] { new { description = "Café crème", amount = 250, quantity = 2 }, new { description = "Croissant", amount = 390 } },
        tax = 0,
        total = 890,
    };

    private async Task<JsonElement> FakeReaderAsync(string readerId) =>
        (await fixture.Fake.GetFromJsonAsync<JsonElement>("/__fake/readers", Ct)).EnumerateArray().Single(r => r.GetProperty("id").GetString() == readerId);

    private async Task<int> DisplayCallsAsync(string readerId) =>
        (await fixture.FakeRequestsAsync()).Count(r => r.GetProperty("path").GetString() == $"/v1/terminal/readers/{readerId}/set_reader_display");

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.True(status == response.StatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, (await Json(response)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task The_cart_shown_while_ringing_up_is_replaced_by_the_payment_and_never_shown_during_it()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();

        using var shown = await merchant.Http.PutAsJsonAsync(merchant.Route($"readers/{readerId}/display"), Basket, Ct);
        Assert.Equal(HttpStatusCode.OK, shown.StatusCode);
        Assert.Equal("set_reader_display:in_progress", (await Json(shown)).GetProperty("action").GetString());
        var cart = (await FakeReaderAsync(readerId)).GetProperty("action").GetProperty("set_reader_display").GetProperty("cart");
        Assert.Equal(890, cart.GetProperty("total").GetInt64());
        Assert.Equal([("Café crème", 250L, 2L), ("Croissant", 390L, 1L)], cart.GetProperty("line_items").EnumerateArray()
            .Select(l => (l.GetProperty("description").GetString(), l.GetProperty("amount").GetInt64(), l.GetProperty("quantity").GetInt64())));

        // A displayed cart counts as "in use" for another till (the fail_if_in_use idea).
        using var otherTill = await merchant.Http.PutAsJsonAsync(merchant.Route("tills/caisse-2/reader"), new { readerId }, Ct);
        await AssertProblemAsync(otherTill, HttpStatusCode.Conflict, "reader_in_use");

        using var started = await merchant.PayAsync(new { saleId = "sale-after-cart", amount = 890, currency = "eur", readerId });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var paymentIntentId = (await Json(started)).GetProperty("paymentIntentId").GetString();
        var action = (await FakeReaderAsync(readerId)).GetProperty("action");
        Assert.Equal(("process_payment_intent", paymentIntentId), (action.GetProperty("type").GetString(),
            action.GetProperty("process_payment_intent").GetProperty("payment_intent").GetString()));

        // During the payment a display would silently replace it at Stripe: refused before anything is sent, and "clear" leaves the payment alone.
        using var during = await merchant.Http.PutAsJsonAsync(merchant.Route($"readers/{readerId}/display"), Basket, Ct);
        await AssertProblemAsync(during, HttpStatusCode.Conflict, "reader_payment_in_progress");
        using var cleared = await merchant.Http.DeleteAsync(merchant.Route($"readers/{readerId}/display"), Ct);
        Assert.Equal(HttpStatusCode.NoContent, cleared.StatusCode);
        Assert.Equal("process_payment_intent", (await FakeReaderAsync(readerId)).GetProperty("action").GetProperty("type").GetString());
        Assert.Equal(1, await DisplayCallsAsync(readerId));

        await merchant.PresentCardAsync(readerId);
        await merchant.PaymentReachesAsync("sale-after-cart", "succeeded");
        await Eventually.True(() => Task.FromResult(fixture.Collected.Count(c => c.PaymentId == paymentIntentId) == 1), what: "PaymentCollected");
        Assert.Equal(1, await DisplayCallsAsync(readerId));
    }

    [Fact]
    public async Task A_cart_can_be_cleared_and_shown_again()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        using var shown = await merchant.Http.PutAsJsonAsync(merchant.Route($"readers/{readerId}/display"), Basket, Ct);
        Assert.Equal(HttpStatusCode.OK, shown.StatusCode);

        using var cleared = await merchant.Http.DeleteAsync(merchant.Route($"readers/{readerId}/display"), Ct);

        Assert.Equal(HttpStatusCode.NoContent, cleared.StatusCode);
        Assert.Equal(JsonValueKind.Null, (await FakeReaderAsync(readerId)).GetProperty("action").ValueKind);
        using var again = await merchant.Http.PutAsJsonAsync(merchant.Route($"readers/{readerId}/display"), Basket, Ct);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(2, await DisplayCallsAsync(readerId));
    }

    [Fact]
    public async Task A_bad_cart_is_refused_and_nothing_is_sent_to_Stripe()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        var otherMerchantsReader = await (await fixture.NewMerchantAsync()).RegisterReaderAsync();
        string[] readers = [readerId, otherMerchantsReader, "tmr_unknown"];
        var before = await fixture.StripeCallsAboutAsync(readers);

        (string ReaderId, object Body, HttpStatusCode Status, string Code)[] cases =
        [
            (readerId, new { lineItems = new[] { new { description = "Café", amount = 2.5 } } }, HttpStatusCode.BadRequest, "cart_amount_invalid"),
            (readerId, new { lineItems = new[] { new { description = "Café", amount = "250" } } }, HttpStatusCode.BadRequest, "cart_amount_invalid"),
            (readerId, new { lineItems = new[] { new { description = "Café", amount = 250 } }, tax = 12.5 }, HttpStatusCode.BadRequest, "cart_amount_invalid"),
            (readerId, new { lineItems = new[] { new { description = "Café", amount = 250 } }, total = 300 }, HttpStatusCode.BadRequest, "cart_total_mismatch"),
            (readerId, new { lineItems = new[] { new { description = "Café", amount = 250, quantity = 0 } } }, HttpStatusCode.BadRequest, "cart_line_invalid"),
            (readerId, new { lineItems = new[] { new { description = " ", amount = 250 } } }, HttpStatusCode.BadRequest, "cart_line_invalid"),
            (readerId, new { lineItems = Array.Empty<object>() }, HttpStatusCode.BadRequest, "cart_lines_required"),
            (readerId, new { currency = "usd", lineItems = new[] { new { description = "Café", amount = 250 } } }, HttpStatusCode.BadRequest, "unsupported_currency"),
            ("tmr_unknown", Basket, HttpStatusCode.NotFound, "reader_not_found"),
            (otherMerchantsReader, Basket, HttpStatusCode.NotFound, "reader_not_found"),
        ];
        foreach (var (reader, body, status, code) in cases)
        {
            using var response = await merchant.Http.PutAsJsonAsync(merchant.Route($"readers/{reader}/display"), body, Ct);
            await AssertProblemAsync(response, status, code);
        }

        using var notJson = await merchant.Http.PutAsync(merchant.Route($"readers/{readerId}/display"), new StringContent("[", Encoding.UTF8, "application/json"), Ct);
        await AssertProblemAsync(notJson, HttpStatusCode.BadRequest, "invalid_body");
        Assert.Equal(before, await fixture.StripeCallsAboutAsync(readers));
    }
}
