using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Testing;

namespace Fidpass.Gateway.IntegrationTests;

public sealed class PaymentToPointsTests(PaymentsFixture fixture) : IClassFixture<PaymentsFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_card_payment_on_a_reader_credits_the_attached_member_once_and_a_refund_takes_points_back()
    {
        fixture.DeliverWebhooksThroughGateway();
        var (merchant, till, memberId) = await OpenTillAsync("terminal");
        var reader = await Eventually.Get(
            async () => (await till.GetFromJsonAsync<JsonElement>($"/api/v1/merchants/{merchant.Slug}/terminal/readers", Ct)),
            readers => readers.GetArrayLength() > 0, what: "the merchant's simulated reader");
        var readerId = reader[0].GetProperty("id").GetString();

        // Every webhook is delivered three times: the credit must still happen once.
        (await fixture.FakeStripe.PostAsync(new Uri("/__fake/webhooks?mode=duplicate", UriKind.Relative), null, Ct)).EnsureSuccessStatusCode();
        var sale = await till.PostAsJsonAsync($"/api/v1/merchants/{merchant.Slug}/terminal/payments",
            new { saleId = "T1-0001", amount = 1290, currency = "eur", readerId, memberBarcode = $" {memberId.ToString().ToUpperInvariant()} " }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, sale.StatusCode);
        (await fixture.FakeStripe.PostAsync(new Uri($"/__fake/readers/{readerId}/present?number=4242424242424242", UriKind.Relative), null, Ct)).EnsureSuccessStatusCode();

        await WaitForPointsAsync(till, merchant, memberId, 12);
        await Task.Delay(TimeSpan.FromSeconds(1), Ct); // leave time for a wrong second credit to show
        Assert.Equal(12, await PointsAsync(till, merchant, memberId));

        var refund = await till.PostAsJsonAsync($"/api/v1/merchants/{merchant.Slug}/terminal/payments/T1-0001/refunds", new { refundId = "R1", amount = 645 }, Ct);
        Assert.True(refund.IsSuccessStatusCode, await refund.Content.ReadAsStringAsync(Ct));
        await WaitForPointsAsync(till, merchant, memberId, 6);

        // What the business dashboards read (docs/operations.md). The hosts share this process and so
        // the Fidpass meter: any host's /metrics shows the counters the services recorded.
        var scrape = await Eventually.Get(
            () => fixture.Gateway.CreateClient().GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct),
            text => Counter(text, "fidpass_refunds_total", "method=\"card\"") >= 1 && Counter(text, "fidpass_points_reversed_total", "source=\"refund\"") >= 6,
            what: "business counters in the Prometheus scrape");
        Assert.True(Counter(scrape, "fidpass_payments_collected_total", "method=\"card\"") >= 1);
        Assert.True(Counter(scrape, "fidpass_payments_collected_amount_total", "method=\"card\"") >= 1290);
        Assert.True(Counter(scrape, "fidpass_points_credited_total", "source=\"payment\"") >= 12);
    }

    /// <summary>Sum of a Prometheus counter's samples whose labels contain <paramref name="label"/>.</summary>
    private static double Counter(string scrape, string name, string label) =>
        scrape.Split('\n')
            .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal) && line.Contains(label, StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task A_cash_payment_in_a_Cashlogy_machine_credits_the_attached_member_with_what_was_collected()
    {
        var (merchant, till, memberId) = await OpenTillAsync("cash");
        var created = await till.PostAsJsonAsync($"/api/v1/merchants/{merchant.Slug}/cash/machines",
            new { name = "Caisse 1", host = "127.0.0.1", port = fixture.Cash.Port, tillCode = "1", mode = "express" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var machine = $"/api/v1/merchants/{merchant.Slug}/cash/machines/{(await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid()}";
        await Eventually.True(async () => (await till.GetFromJsonAsync<JsonElement>(machine, Ct)).GetProperty("status").GetString() == "ready", what: "machine ready");

        var charge = await till.PostAsJsonAsync($"{machine}/charges", new { requestId = "T1-0002", amount = 850, memberBarcode = $"https://fidpass.fr/c/{memberId}" }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, charge.StatusCode);
        await Eventually.True(() => Task.FromResult(fixture.Cash.InsertAmount(1000)), what: "the customer inserts 10 €");

        await WaitForPointsAsync(till, merchant, memberId, 8);
    }

    [Fact]
    public async Task A_cash_sale_with_an_unknown_erased_or_foreign_card_is_collected_and_the_till_is_told_no_points_will_be_credited()
    {
        var (merchant, till, memberId) = await OpenTillAsync("cash");
        var (_, _, foreign) = await OpenTillAsync("cash");
        var erased = await EnrolAsync(merchant);
        using var dashboard = new HttpClient { BaseAddress = fixture.Gateway.Address };
        dashboard.DefaultRequestHeaders.Add("X-Dashboard-Token", merchant.DashboardToken);
        Assert.Equal(HttpStatusCode.NoContent, (await dashboard.DeleteAsync($"/api/v1/merchants/{merchant.Slug}/members/{erased}", Ct)).StatusCode);
        await using var simulator = await Fidpass.CashlogySimulator.CashlogySimulator.StartAsync();
        var created = await till.PostAsJsonAsync($"/api/v1/merchants/{merchant.Slug}/cash/machines",
            new { name = "Caisse 2", host = "127.0.0.1", port = simulator.Port, tillCode = "2", mode = "express" }, Ct);
        var machine = $"/api/v1/merchants/{merchant.Slug}/cash/machines/{(await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid()}";
        await Eventually.True(async () => (await till.GetFromJsonAsync<JsonElement>(machine, Ct)).GetProperty("status").GetString() == "ready", what: "machine ready");

        (Guid Card, string Code)[] sales = [(memberId, "member_active"), (Guid.NewGuid(), "member_unknown"), (foreign, "member_of_another_merchant"), (erased, "member_erased")];
        foreach (var (card, code) in sales)
        {
            var charge = await till.PostAsJsonAsync($"{machine}/charges", new { requestId = "T2-" + code, amount = 500, memberId = card }, Ct);
            var answer = await charge.Content.ReadFromJsonAsync<JsonElement>(Ct);
            Assert.Equal(HttpStatusCode.Accepted, charge.StatusCode);
            var loyalty = answer.GetProperty("loyalty");
            Assert.Equal((code, code == "member_active"), (loyalty.GetProperty("code").GetString(), loyalty.GetProperty("creditsPoints").GetBoolean()));
            if (code != "member_active")
            {
                Assert.Contains("aucun point ne sera crédité", loyalty.GetProperty("message").GetString(), StringComparison.Ordinal);
            }

            await Eventually.True(() => Task.FromResult(simulator.InsertAmount(500)), what: "the customer pays 5 €");
            var operation = $"/api/v1/merchants/{merchant.Slug}/cash/operations/{answer.GetProperty("operationId").GetGuid()}";
            var settled = await Eventually.Get(() => till.GetFromJsonAsync<JsonElement>(operation, Ct), o => o.GetProperty("status").GetString() == "settled", what: "sale settled");
            Assert.Equal(("completed", 500L, code), (settled.GetProperty("outcome").GetString(), settled.GetProperty("collected").GetInt64(), settled.GetProperty("loyalty").GetProperty("code").GetString()));
        }

        await WaitForPointsAsync(till, merchant, memberId, 5);
    }

    [Fact]
    public async Task A_card_sale_with_an_unknown_erased_or_foreign_card_is_collected_and_the_till_is_told_no_points_will_be_credited()
    {
        fixture.DeliverWebhooksThroughGateway();
        var (merchant, till, memberId) = await OpenTillAsync("terminal");
        var (foreignMerchant, foreignTill, foreign) = await OpenTillAsync("terminal");
        var erased = await EnrolAsync(merchant);
        using var dashboard = new HttpClient { BaseAddress = fixture.Gateway.Address };
        dashboard.DefaultRequestHeaders.Add("X-Dashboard-Token", merchant.DashboardToken);
        Assert.Equal(HttpStatusCode.NoContent, (await dashboard.DeleteAsync($"/api/v1/merchants/{merchant.Slug}/members/{erased}", Ct)).StatusCode);
        var payments = $"/api/v1/merchants/{merchant.Slug}/terminal/payments";
        var reader = await Eventually.Get(
            async () => (await till.GetFromJsonAsync<JsonElement>($"/api/v1/merchants/{merchant.Slug}/terminal/readers", Ct)),
            readers => readers.GetArrayLength() > 0, what: "the merchant's simulated reader");
        var readerId = reader[0].GetProperty("id").GetString();

        (Guid Card, string Code)[] sales = [(Guid.NewGuid(), "member_unknown"), (foreign, "member_of_another_merchant"), (erased, "member_erased"), (memberId, "member_active")];
        foreach (var (card, code) in sales)
        {
            var body = new { saleId = "C-" + code, amount = 700, currency = "eur", readerId, memberBarcode = card.ToString() };
            var sale = await till.PostAsJsonAsync(payments, body, Ct);
            Assert.Equal(HttpStatusCode.Accepted, sale.StatusCode);
            var loyalty = (await sale.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("loyalty");
            Assert.Equal((code, code == "member_active"), (loyalty.GetProperty("code").GetString(), loyalty.GetProperty("creditsPoints").GetBoolean()));
            if (code != "member_active")
            {
                Assert.Contains("aucun point ne sera crédité", loyalty.GetProperty("message").GetString(), StringComparison.Ordinal);
            }

            (await fixture.FakeStripe.PostAsync(new Uri($"/__fake/readers/{readerId}/present?number=4242424242424242", UriKind.Relative), null, Ct)).EnsureSuccessStatusCode();
            var paid = await Eventually.Get(() => till.GetFromJsonAsync<JsonElement>($"{payments}/C-{code}", Ct),
                p => p.GetProperty("status").GetString() == "succeeded", what: "card sale collected");
            Assert.Equal((700L, code), (paid.GetProperty("amountReceived").GetInt64(), paid.GetProperty("loyalty").GetProperty("code").GetString()));

            // The same sale sent again answers what was said when it started.
            var replay = await till.PostAsJsonAsync(payments, body, Ct);
            Assert.Equal(code, (await replay.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("loyalty").GetProperty("code").GetString());
        }

        await WaitForPointsAsync(till, merchant, memberId, 7);
        await Task.Delay(TimeSpan.FromSeconds(1), Ct); // leave time for a wrong credit to show
        Assert.Equal(0, await PointsAsync(foreignTill, foreignMerchant, foreign));

        var plain = await till.PostAsJsonAsync(payments, new { saleId = "C-no-card", amount = 700, currency = "eur", readerId }, Ct);
        Assert.Equal(JsonValueKind.Null, (await plain.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("loyalty").ValueKind);
    }

    private async Task<Guid> EnrolAsync(CreatedMerchant merchant)
    {
        var enrolled = await fixture.Client.PostAsJsonAsync($"/api/businesses/{merchant.Slug}/members", new { name = "Marie Curie", email = $"marie.{Guid.NewGuid():N}@example.fr" }, Ct);
        Assert.Equal(HttpStatusCode.Created, enrolled.StatusCode);
        return (await enrolled.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("memberId").GetGuid();
    }

    private async Task<(CreatedMerchant Merchant, HttpClient Till, Guid MemberId)> OpenTillAsync(string scope)
    {
        var merchant = await fixture.CreateMerchantAsync();
        var key = await fixture.IssueKeyAsync(merchant, scope, "lookup");
        var till = new HttpClient { BaseAddress = fixture.Gateway.Address };
        till.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key.Key);

        return (merchant, till, await EnrolAsync(merchant));
    }

    private static async Task<long> PointsAsync(HttpClient till, CreatedMerchant merchant, Guid memberId)
    {
        var lookup = await till.GetFromJsonAsync<JsonElement>($"/api/businesses/{merchant.Slug}/integration/lookup?barcode={memberId}", Ct);
        return lookup.GetProperty("member").GetProperty("points").GetInt64();
    }

    private static Task WaitForPointsAsync(HttpClient till, CreatedMerchant merchant, Guid memberId, long expected) =>
        Eventually.True(async () => await PointsAsync(till, merchant, memberId) == expected, TimeSpan.FromSeconds(20), $"balance {expected}");
}
