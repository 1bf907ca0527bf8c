using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fidpass.Testing;
using Stripe;

namespace Fidpass.StripeTerminal.IntegrationTests;

/// <summary>
/// stripe-terminal under Stripe's rules as the fake now models them (issues 19, 20 and 25), end to
/// end through the gateway: signed but unreadable webhooks, the Connect endpoint, one sale per
/// reader, starts that fail, bodies and header-hostile text, amounts, reader failures, refunds that settle later.
/// </summary>
public sealed class StripeRulesTests(StripeTerminalFixture fixture) : IClassFixture<StripeTerminalFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> Json(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>(Ct);

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(status == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, JsonDocument.Parse(text).RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Correctly_signed_but_malformed_webhooks_are_refused_with_400_on_both_endpoints()
    {
        string[] bodies =
        [
            "",
            "{\"id\":\"evt_trunc\",\"object\":\"event\",\"type\":\"payment_intent.succeeded\",\"data\":{\"obj",
            "not json at all",
            "[]",
            "null",
            """{"object":"event","api_version":"2026-10-28.endive","type":"payment_intent.succeeded","data":{"object":{"id":"pi_x","object":"payment_intent"}}}""",
            """{"id":"evt_no_version","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_x","object":"payment_intent"}}}""",
            """{"id":"evt_bad_created","object":"event","api_version":"2026-10-28.endive","created":"yesterday","type":"payment_intent.succeeded","data":{"object":{"id":"pi_x","object":"payment_intent"}}}""",
            """{"id":12,"object":"event","api_version":"2026-10-28.endive","type":"payment_intent.succeeded","data":{"object":{"id":"pi_x","object":"payment_intent"}}}""",
            """{"id":"evt_bad_data","object":"event","api_version":"2026-10-28.endive","type":"payment_intent.succeeded","data":"pi_x"}""",
            """{"id":"evt_bad_amount","object":"event","api_version":"2026-10-28.endive","type":"payment_intent.succeeded","data":{"object":{"id":"pi_x","object":"payment_intent","amount":"lots"}}}""",
        ];
        foreach (var (path, secret) in new[] { ("/webhooks/stripe", StripeTerminalFixture.WebhookSecret), ("/webhooks/stripe/connect", StripeTerminalFixture.ConnectWebhookSecret) })
        {
            foreach (var body in bodies)
            {
                using var response = await fixture.PostWebhookAsync(body, EventUtility.GenerateSignatureHeader(body, secret), path);
                Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path} {body}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }

        // Nothing was recorded: the same event id, well-formed this time, is still handled as new.
        var fixedBody = """{"id":"evt_bad_created","object":"event","api_version":"2026-10-28.endive","created":1763900000,"type":"payment_intent.succeeded","data":{"object":{"id":"pi_unknown","object":"payment_intent"}}}""";
        using var accepted = await fixture.PostWebhookAsync(fixedBody, EventUtility.GenerateSignatureHeader(fixedBody, StripeTerminalFixture.WebhookSecret));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.False((await Json(accepted)).TryGetProperty("duplicate", out _));
    }

    [Fact]
    public async Task Connected_accounts_events_are_verified_with_the_Connect_secret_and_the_platforms_with_its_own()
    {
        var merchant = await fixture.NewMerchantAsync();
        using (var account = await merchant.Dashboard.PutAsJsonAsync(merchant.Route("stripe-account"), new { accountId = "acct_1FidpassConnectHook" }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, account.StatusCode);
        }

        var readerId = await merchant.RegisterReaderAsync();
        using var started = await merchant.PayAsync(new { saleId = "sale-connect-hook", amount = 1900, currency = "eur", readerId });
        var paymentIntentId = (await Json(started)).GetProperty("paymentIntentId").GetString()!;
        await merchant.PresentCardAsync(readerId);
        await merchant.PaymentReachesAsync("sale-connect-hook", "succeeded");

        // The fake sends the connected account's events to the Connect endpoint with its secret: taken.
        var evt = (await fixture.FakeEventsAsync()).Last(e => (string?)e["account"] == "acct_1FidpassConnectHook" && e.ToJsonString().Contains(paymentIntentId, StringComparison.Ordinal));
        using (var delivery = await fixture.Fake.PostAsync(new Uri($"/__fake/events/{evt["id"]}/deliver", UriKind.Relative), null, Ct))
        {
            Assert.Equal(200, (await Json(delivery)).GetProperty("status").GetInt32());
        }

        // Each endpoint checks its own secret: a connected account's event signed with the platform's secret is refused, and the reverse.
        var body = evt.ToJsonString();
        using var wrongOnConnect = await fixture.PostWebhookAsync(body, EventUtility.GenerateSignatureHeader(body, StripeTerminalFixture.WebhookSecret), "/webhooks/stripe/connect");
        await AssertProblemAsync(wrongOnConnect, HttpStatusCode.BadRequest, "signature_invalid");
        using var wrongOnPlatform = await fixture.PostWebhookAsync(body, EventUtility.GenerateSignatureHeader(body, StripeTerminalFixture.ConnectWebhookSecret));
        await AssertProblemAsync(wrongOnPlatform, HttpStatusCode.BadRequest, "signature_invalid");

        // A platform sale's events still reach the platform endpoint.
        var platform = await fixture.NewMerchantAsync();
        var platformReader = await platform.RegisterReaderAsync();
        using var platformSale = await platform.PayAsync(new { saleId = "sale-platform-hook", amount = 1900, currency = "eur", readerId = platformReader });
        var platformIntent = (await Json(platformSale)).GetProperty("paymentIntentId").GetString()!;
        var platformEvent = (await fixture.FakeEventsAsync()).Last(e => e["account"] is null && e.ToJsonString().Contains(platformIntent, StringComparison.Ordinal));
        using var platformDelivery = await fixture.Fake.PostAsync(new Uri($"/__fake/events/{platformEvent["id"]}/deliver", UriKind.Relative), null, Ct);
        Assert.Equal(200, (await Json(platformDelivery)).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_second_sale_on_a_busy_reader_is_refused_until_the_till_cancels_the_first()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        using var first = await merchant.PayAsync(new { saleId = "sale-busy-first", amount = 1200, currency = "eur", readerId });
        var firstIntent = (await Json(first)).GetProperty("paymentIntentId").GetString();

        using var second = await merchant.PayAsync(new { saleId = "sale-busy-second", amount = 800, currency = "eur", readerId });
        await AssertProblemAsync(second, HttpStatusCode.Conflict, "reader_busy");
        Assert.Equal("sale-busy-first", (await Json(second)).GetProperty("saleId").GetString());
        using var secondMissing = await merchant.Http.GetAsync(merchant.Route("payments/sale-busy-second"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, secondMissing.StatusCode);

        // The first sale is untouched, still on the reader.
        Assert.Equal("processing", (await merchant.PaymentAsync("sale-busy-first")).GetProperty("status").GetString());
        var reader = (await fixture.Fake.GetFromJsonAsync<JsonElement>("/__fake/readers", Ct)).EnumerateArray().Single(r => r.GetProperty("id").GetString() == readerId);
        Assert.Equal(firstIntent, reader.GetProperty("action").GetProperty("process_payment_intent").GetProperty("payment_intent").GetString());

        // The till cancels the first explicitly; then the second goes through.
        using var cancel = await merchant.Http.PostAsync(merchant.Route("payments/sale-busy-first/cancel"), null, Ct);
        Assert.Equal("canceled", (await Json(cancel)).GetProperty("status").GetString());
        using var retry = await merchant.PayAsync(new { saleId = "sale-busy-second", amount = 800, currency = "eur", readerId });
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        await merchant.PresentCardAsync(readerId);
        await merchant.PaymentReachesAsync("sale-busy-second", "succeeded");
    }

    [Fact]
    public async Task A_sale_the_reader_silently_left_does_not_block_the_next_one()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        try
        {
            // The customer cancels on the reader and the webhook is lost: our journal still says "processing".
            await fixture.WebhookModeAsync("drop");
            using var first = await merchant.PayAsync(new { saleId = "sale-left-first", amount = 1200, currency = "eur", readerId });
            await fixture.ControlAsync($"/__fake/readers/{readerId}/fail?code=customer_canceled");
            Assert.Equal("processing", (await merchant.PaymentAsync("sale-left-first")).GetProperty("status").GetString());

            using var second = await merchant.PayAsync(new { saleId = "sale-left-second", amount = 800, currency = "eur", readerId });
            Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
            Assert.Equal("reader_failed", (await merchant.PaymentAsync("sale-left-first")).GetProperty("status").GetString());
        }
        finally
        {
            await fixture.WebhookModeAsync("normal");
        }
    }

    [Fact]
    public async Task A_start_that_fails_at_Stripe_leaves_no_sale_and_the_till_may_start_it_again_differently()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        await fixture.ControlAsync("/__fake/faults?method=POST&path=/v1/payment_intents&status=500&count=1&shouldRetry=true");

        using var failed = await merchant.PayAsync(new { saleId = "sale-failed-start", amount = 1500, currency = "eur", readerId });
        await AssertProblemAsync(failed, HttpStatusCode.BadGateway, "stripe_unavailable");
        using var missing = await merchant.Http.GetAsync(merchant.Route("payments/sale-failed-start"), Ct);
        await AssertProblemAsync(missing, HttpStatusCode.NotFound, "payment_not_found");

        // Nothing half-created: the till corrects the amount and starts the same sale id.
        using var retry = await merchant.PayAsync(new { saleId = "sale-failed-start", amount = 1400, currency = "eur", readerId });
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal(1400, (await Json(retry)).GetProperty("amount").GetInt64());
    }

    [Fact]
    public async Task Bodies_that_are_not_a_JSON_object_are_refused_with_400_on_every_terminal_route()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        var before = await fixture.StripeCallsAboutAsync(readerId, merchant.Id.ToString(), merchant.Id.ToString("N"));
        (HttpMethod Method, string Path)[] routes =
        [
            (HttpMethod.Put, "stripe-account"), (HttpMethod.Post, "locations"), (HttpMethod.Post, "readers"),
            (HttpMethod.Patch, $"readers/{readerId}"), (HttpMethod.Put, $"readers/{readerId}/display"), (HttpMethod.Put, "tills/caisse-1/reader"),
            (HttpMethod.Post, "connection-tokens"), (HttpMethod.Post, "payments"), (HttpMethod.Post, "payments/nope/refunds"),
        ];
        foreach (var (method, path) in routes)
        {
            foreach (var body in new[] { "", "null", "[]", "{\"saleId\":", "\"text\"", "42" })
            {
                using var request = new HttpRequestMessage(method, merchant.Route(path)) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                // Only the merchant's own credentials may change the Stripe account: they reach its body check.
                using var response = await (path == "stripe-account" ? merchant.Dashboard : merchant.Http).SendAsync(request, Ct);
                await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_body");
            }
        }

        // A field of the wrong kind is the client's mistake too.
        using var wrongKind = await merchant.Http.PatchAsync(merchant.Route($"readers/{readerId}"), new StringContent("{\"label\":12}", Encoding.UTF8, "application/json"), Ct);
        await AssertProblemAsync(wrongKind, HttpStatusCode.BadRequest, "invalid_body");
        Assert.Equal(before, await fixture.StripeCallsAboutAsync(readerId, merchant.Id.ToString(), merchant.Id.ToString("N")));
    }

    [Fact]
    public async Task Accents_and_newlines_in_labels_names_and_refund_ids_reach_Stripe_without_breaking_a_header()
    {
        var merchant = await fixture.NewMerchantAsync();
        using var location = await merchant.Http.PostAsJsonAsync(merchant.Route("locations"),
            new { displayName = "Boulangerie Émile\nrue d'Été", line1 = "1 rue de l'Église", city = "Orléans", postalCode = "45000" }, Ct);
        Assert.Equal(HttpStatusCode.Created, location.StatusCode);
        var locationId = (await Json(location)).GetProperty("id").GetString();
        using var reader = await merchant.Http.PostAsJsonAsync(merchant.Route("readers"), new { registrationCode = "simulated-wpe", label = "Caisse n°1 — entrée", locationId }, Ct);
        Assert.Equal(HttpStatusCode.Created, reader.StatusCode);
        var readerId = (await Json(reader)).GetProperty("id").GetString()!;
        using var renamed = await merchant.Http.PatchAsJsonAsync(merchant.Route($"readers/{readerId}"), new { label = "Café\r\nterrasse" }, Ct);
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);

        using var started = await merchant.PayAsync(new { saleId = "vente-été-\n1", amount = 1000, currency = "eur", readerId });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        await merchant.PresentCardAsync(readerId);
        await merchant.PaymentReachesAsync(Uri.EscapeDataString("vente-été-\n1"), "succeeded");
        using var refund = await merchant.Http.PostAsJsonAsync(merchant.Route($"payments/{Uri.EscapeDataString("vente-été-\n1")}/refunds"), new { refundId = "avoir-é\n1", amount = 100 }, Ct);
        Assert.Equal(HttpStatusCode.OK, refund.StatusCode);

        // The keys Stripe saw are header-safe: printable ASCII only.
        var keys = (await fixture.FakeRequestsAsync()).Where(r => r.GetRawText().Contains(readerId, StringComparison.Ordinal) || r.GetProperty("path").GetString() == "/v1/refunds")
            .Select(r => r.GetProperty("idempotencyKey").GetString()).OfType<string>().ToList();
        Assert.NotEmpty(keys);
        Assert.All(keys, k => Assert.True(k.All(c => c is > ' ' and <= '~'), k));
    }

    [Theory]
    [InlineData(49, "amount_below_minimum")]
    [InlineData(1_000_001, "amount_too_large")]
    public async Task Card_amounts_outside_Stripes_minimum_and_the_configured_maximum_are_refused_before_Stripe(long amount, string code)
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        var before = await fixture.StripeCallsAboutAsync(readerId, merchant.Id.ToString("N"));

        using var response = await merchant.PayAsync(new { saleId = "sale-bounds", amount, currency = "eur", readerId });

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, code);
        Assert.Contains("€", (await Json(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await fixture.StripeCallsAboutAsync(readerId, merchant.Id.ToString("N")));
    }

    [Theory]
    [InlineData("customer_canceled")]
    [InlineData("card_read_timed_out")]
    [InlineData("api_error")]
    public async Task A_reader_failure_other_than_a_decline_ends_the_attempt_and_the_retry_pays_on_the_same_PaymentIntent(string code)
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        var saleId = $"sale-{code}";
        using var started = await merchant.PayAsync(new { saleId, amount = 1300, currency = "eur", readerId });
        var paymentIntentId = (await Json(started)).GetProperty("paymentIntentId").GetString();

        await fixture.ControlAsync($"/__fake/readers/{readerId}/fail?code={code}");
        var failed = await merchant.PaymentReachesAsync(saleId, "reader_failed");
        Assert.Equal(code, failed.GetProperty("errorCode").GetString());

        using var retry = await merchant.PayAsync(new { saleId, amount = 1300, currency = "eur", readerId });
        var retried = await Json(retry);
        Assert.Equal((paymentIntentId, 2), (retried.GetProperty("paymentIntentId").GetString(), retried.GetProperty("attempt").GetInt32()));
        await merchant.PresentCardAsync(readerId);
        await merchant.PaymentReachesAsync(saleId, "succeeded");
    }

    [Fact]
    public async Task A_refund_that_fails_at_Stripe_gives_nothing_back_and_the_till_can_send_it_again()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        var member = await merchant.EnrolMemberAsync();
        using var started = await merchant.PayAsync(new { saleId = "sale-refund-fails", amount = 2000, currency = "eur", readerId, memberBarcode = member.ToString() });
        var paymentIntentId = (await Json(started)).GetProperty("paymentIntentId").GetString()!;
        await merchant.PresentCardAsync(readerId);
        await merchant.PaymentReachesAsync("sale-refund-fails", "succeeded");
        await merchant.PointsReachAsync(member, 20);

        await fixture.ControlAsync("/__fake/refunds/next?outcome=failed");
        using var first = await merchant.Http.PostAsJsonAsync(merchant.Route("payments/sale-refund-fails/refunds"), new { refundId = "avoir-x", amount = 500 }, Ct);
        Assert.Equal(500, (await Json(first)).GetProperty("amountRefundPending").GetInt64());
        var failed = await Eventually.Get(() => merchant.PaymentAsync("sale-refund-fails"), p => p.GetProperty("errorCode").GetString() == "refund_failed", what: "refund failed");
        Assert.Equal((0L, 0L), (failed.GetProperty("amountRefunded").GetInt64(), failed.GetProperty("amountRefundPending").GetInt64()));

        // Sent again: a new key (Stripe would replay the failed refund for the old one), refunded once, points taken back once.
        using var again = await merchant.Http.PostAsJsonAsync(merchant.Route("payments/sale-refund-fails/refunds"), new { refundId = "avoir-x", amount = 500 }, Ct);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        await Eventually.Get(() => merchant.PaymentAsync("sale-refund-fails"), p => p.GetProperty("amountRefunded").GetInt64() == 500, what: "refund succeeded");
        await merchant.PointsReachAsync(member, 15);
        var refundCalls = (await fixture.FakeRequestsAsync()).Where(r => r.GetProperty("path").GetString() == "/v1/refunds" && r.GetProperty("method").GetString() == "POST"
            && r.GetProperty("parameters").GetProperty("payment_intent").GetString() == paymentIntentId).Select(r => r.GetProperty("idempotencyKey").GetString()).ToList();
        Assert.Equal([$"refund:{paymentIntentId}:avoir-x", $"refund:{paymentIntentId}:avoir-x~2"], refundCalls);
        await Eventually.True(() => Task.FromResult(fixture.Refunded.Count(r => r.PaymentId == paymentIntentId) == 1), what: "one PaymentRefunded");
    }
}
