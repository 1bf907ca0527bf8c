using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fidpass.Testing;
using Stripe;

namespace Fidpass.StripeTerminal.IntegrationTests;

/// <summary>
/// Spec 6.2 scenarios, end to end through the gateway with loyalty running: the till's integration
/// key, the fake Stripe's webhooks through the gateway, the attached member's balance as loyalty keeps it.
/// </summary>
public sealed class CardPaymentTests(StripeTerminalFixture fixture) : IClassFixture<StripeTerminalFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> Json(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>(Ct);

    private static async Task<string> PaidSaleAsync(Merchant merchant, string readerId, long amount = 2500, Guid? member = null) =>
        (await PaidSaleWithIdAsync(merchant, readerId, amount, member)).PaymentIntentId;

    private static async Task<(string SaleId, string PaymentIntentId)> PaidSaleWithIdAsync(Merchant merchant, string readerId, long amount = 2500, Guid? member = null)
    {
        var saleId = $"sale-{Guid.NewGuid():N}";
        using var started = await merchant.PayAsync(new { saleId, amount, currency = "eur", readerId, memberBarcode = member?.ToString() });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        await merchant.PresentCardAsync(readerId);
        var paid = await merchant.PaymentReachesAsync(saleId, "succeeded");
        return (saleId, paid.GetProperty("paymentIntentId").GetString()!);
    }

    /// <summary>
    /// The relay publishes in stream order: once a later sale's PaymentCollected arrived, any
    /// duplicate of an earlier one would have arrived too. So "exactly once" needs no fixed sleep.
    /// </summary>
    private async Task BarrierAsync(Merchant merchant, string readerId)
    {
        var barrier = await PaidSaleAsync(merchant, readerId, 100);
        await Eventually.True(() => Task.FromResult(fixture.Collected.Any(c => c.PaymentId == barrier)), what: "barrier sale published");
    }

    private int CollectedFor(string paymentIntentId) => fixture.Collected.Count(c => c.PaymentId == paymentIntentId);

    /// <summary>
    /// Exactly one <c>PaymentCollected</c> per payment: each arrives, then a later sale's does, and
    /// each is still there once. The relay publishes a page's messages together, so the later sale's
    /// message can arrive first (it did in CI): the barrier alone does not prove the earlier ones were sent.
    /// </summary>
    private async Task PublishedOnceAsync(Merchant merchant, string readerId, params string[] paymentIntentIds)
    {
        await Eventually.True(() => Task.FromResult(paymentIntentIds.All(id => CollectedFor(id) >= 1)), what: "PaymentCollected of each payment");
        await BarrierAsync(merchant, readerId);
        Assert.All(paymentIntentIds, id => Assert.Equal(1, CollectedFor(id)));
    }

    [Fact]
    public async Task A_paid_sale_publishes_exactly_one_PaymentCollected_with_amount_member_and_basket()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        var member = await merchant.EnrolMemberAsync();

        var sale = new { saleId = "ticket-0001", amount = 2500, currency = "eur", readerId, memberBarcode = $"FIDPASS:{member}", basketReference = "basket-42" };
        using var started = await merchant.PayAsync(sale);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        Assert.Equal("processing", (await Json(started)).GetProperty("status").GetString());
        await merchant.PresentCardAsync(readerId);
        var paid = await merchant.PaymentReachesAsync("ticket-0001", "succeeded");
        var paymentIntentId = paid.GetProperty("paymentIntentId").GetString()!;

        var collected = await Eventually.Get(
            () => Task.FromResult(fixture.Collected.FirstOrDefault(c => c.PaymentId == paymentIntentId)), c => c is not null, what: "PaymentCollected");
        Assert.Equal((merchant.Id, 2500L, "eur", Contracts.Payments.PaymentMethod.Card, readerId, member, "basket-42"),
            (collected!.MerchantId, collected.Amount, collected.Currency, collected.Method, collected.SourceDeviceId, collected.MemberId, collected.BasketReference));

        // What Stripe received: card_present through allowed_payment_method_types, the barcode, a deterministic key.
        var create = (await fixture.FakeRequestsAsync()).Single(r => r.GetProperty("path").GetString() == "/v1/payment_intents"
            && r.GetProperty("idempotencyKey").GetString() == $"pi-create:{merchant.Id:N}:ticket-0001");
        var form = create.GetProperty("parameters");
        Assert.Equal("card_present", form.GetProperty("allowed_payment_method_types[0]").GetString());
        Assert.DoesNotContain(form.EnumerateObject(), p => p.Name.StartsWith("payment_method_types", StringComparison.Ordinal));
        Assert.Equal($"FIDPASS:{member}", form.GetProperty("metadata[fidpass_member]").GetString());
        Assert.Equal("2026-10-28.endive", create.GetProperty("stripeVersion").GetString());

        // The same sale sent again by the till is the same payment, not a second charge.
        using var again = await merchant.PayAsync(new { saleId = "ticket-0001", amount = 2500, currency = "eur", readerId, memberBarcode = $"FIDPASS:{member}" });
        Assert.Equal(paymentIntentId, (await Json(again)).GetProperty("paymentIntentId").GetString());
        await PublishedOnceAsync(merchant, readerId, paymentIntentId);
        await merchant.PointsReachAsync(member, 25);
        await BarrierAsync(merchant, readerId);
        Assert.Equal(25, await merchant.PointsAsync(member));
    }

    [Fact]
    public async Task Duplicated_reordered_and_late_webhooks_change_nothing()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        try
        {
            var member = await merchant.EnrolMemberAsync();
            await fixture.WebhookModeAsync("duplicate");
            var duplicated = await PaidSaleAsync(merchant, readerId, 2500, member);
            await fixture.WebhookModeAsync("reorder");
            var reordered = await PaidSaleAsync(merchant, readerId, 1700, member);
            await fixture.WebhookModeAsync("normal");

            // Late: every event of both sales delivered once more, long after the fact.
            foreach (var evt in (await fixture.FakeEventsAsync()).Where(e => e.ToJsonString().Contains(duplicated, StringComparison.Ordinal)
                || e.ToJsonString().Contains(reordered, StringComparison.Ordinal)))
            {
                await fixture.ControlAsync($"/__fake/events/{evt["id"]}/deliver");
            }

            await PublishedOnceAsync(merchant, readerId, duplicated, reordered);
            await merchant.PointsReachAsync(member, 25 + 17);
            await BarrierAsync(merchant, readerId);
            Assert.Equal(25 + 17, await merchant.PointsAsync(member));
        }
        finally
        {
            await fixture.WebhookModeAsync("normal");
        }
    }

    [Fact]
    public async Task A_duplicate_delivery_is_recognised_by_its_event_id()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        var paymentIntentId = await PaidSaleAsync(merchant, readerId);
        var succeeded = (await fixture.FakeEventsAsync()).First(e => (string?)e["type"] == "payment_intent.succeeded" && e.ToJsonString().Contains(paymentIntentId, StringComparison.Ordinal));
        var body = succeeded.ToJsonString();
        async Task<HttpResponseMessage> DeliverAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/stripe") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("Stripe-Signature", EventUtility.GenerateSignatureHeader(body, StripeTerminalFixture.WebhookSecret));
            return await fixture.Client.SendAsync(request, Ct);
        }

        // The fake may still be delivering it: whichever came first, this second delivery of ours is a duplicate.
        using var first = await DeliverAsync();
        using var response = await DeliverAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await Json(response)).GetProperty("duplicate").GetBoolean());
    }

    [Fact]
    public async Task A_reader_timeout_whose_command_arrived_anyway_is_retried_on_the_same_PaymentIntent_and_charged_once()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        await fixture.ControlAsync($"/__fake/readers/{readerId}/timeout?mode=applied&count=1");
        var member = await merchant.EnrolMemberAsync();

        using var started = await merchant.PayAsync(new { saleId = "sale-timeout-applied", amount = 1800, currency = "eur", readerId, memberBarcode = member.ToString() });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var paymentIntentId = (await Json(started)).GetProperty("paymentIntentId").GetString()!;
        await merchant.PresentCardAsync(readerId);
        await merchant.PaymentReachesAsync("sale-timeout-applied", "succeeded");

        // Stripe keeps the timeout as the key's answer: the retry is a new request with a new key.
        var processCalls = (await fixture.FakeRequestsAsync())
            .Where(r => r.GetProperty("path").GetString() == $"/v1/terminal/readers/{readerId}/process_payment_intent").ToList();
        Assert.Equal([400, 200], processCalls.Select(r => r.GetProperty("status").GetInt32()));
        Assert.Equal([$"process:{paymentIntentId}:1", $"process:{paymentIntentId}:1~2"], processCalls.Select(r => r.GetProperty("idempotencyKey").GetString()));
        Assert.DoesNotContain(processCalls, r => r.GetProperty("replayed").GetBoolean());
        await PublishedOnceAsync(merchant, readerId, paymentIntentId);
        await merchant.PointsReachAsync(member, 18);
    }

    [Fact]
    public async Task A_reader_command_lost_in_a_timeout_is_sent_again_with_a_new_key_and_the_sale_goes_through()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        await fixture.ControlAsync($"/__fake/readers/{readerId}/timeout?mode=lost&count=1");

        using var started = await merchant.PayAsync(new { saleId = "sale-timeout-lost-once", amount = 1400, currency = "eur", readerId });

        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var paymentIntentId = (await Json(started)).GetProperty("paymentIntentId").GetString()!;
        var processCalls = (await fixture.FakeRequestsAsync())
            .Where(r => r.GetProperty("path").GetString() == $"/v1/terminal/readers/{readerId}/process_payment_intent").ToList();
        Assert.Equal([400, 200], processCalls.Select(r => r.GetProperty("status").GetInt32()));
        Assert.Equal([$"process:{paymentIntentId}:1", $"process:{paymentIntentId}:1~2"], processCalls.Select(r => r.GetProperty("idempotencyKey").GetString()));
        await merchant.PresentCardAsync(readerId);
        await merchant.PaymentReachesAsync("sale-timeout-lost-once", "succeeded");
        await PublishedOnceAsync(merchant, readerId, paymentIntentId);
    }

    [Fact]
    public async Task A_reader_that_keeps_timing_out_is_reported_and_the_tills_retry_reuses_the_PaymentIntent()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        await fixture.ControlAsync($"/__fake/readers/{readerId}/timeout?mode=lost&count=4");
        var sale = new { saleId = "sale-timeout-lost", amount = 1200, currency = "eur", readerId };

        using var first = await merchant.PayAsync(sale);
        Assert.Equal(HttpStatusCode.Conflict, first.StatusCode);
        var problem = await Json(first);
        Assert.Equal("reader_timeout", problem.GetProperty("code").GetString());
        var paymentIntentId = problem.GetProperty("paymentIntentId").GetString();

        using var retry = await merchant.PayAsync(sale);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal(paymentIntentId, (await Json(retry)).GetProperty("paymentIntentId").GetString());
        await merchant.PresentCardAsync(readerId);
        await merchant.PaymentReachesAsync("sale-timeout-lost", "succeeded");

        var requests = await fixture.FakeRequestsAsync();
        Assert.Single(requests, r => r.GetProperty("path").GetString() == "/v1/payment_intents" && r.GetProperty("method").GetString() == "POST"
            && r.GetProperty("idempotencyKey").GetString() == $"pi-create:{merchant.Id:N}:sale-timeout-lost");
        // Each real try after a timeout has its own key (Stripe would replay the timeout for a reused one): five tries, five keys.
        var keys = requests.Where(r => r.GetProperty("path").GetString()!.EndsWith("/process_payment_intent", StringComparison.Ordinal)
                && r.GetProperty("path").GetString()!.Contains(readerId, StringComparison.Ordinal))
            .Select(r => r.GetProperty("idempotencyKey").GetString()).ToList();
        Assert.Equal([$"process:{paymentIntentId}:1", .. Enumerable.Range(2, 4).Select(n => $"process:{paymentIntentId}:1~{n}")], keys);
        await PublishedOnceAsync(merchant, readerId, paymentIntentId!);
    }

    [Fact]
    public async Task A_declined_card_collects_nothing_and_the_next_card_pays_on_the_same_PaymentIntent()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        var member = await merchant.EnrolMemberAsync();
        var sale = new { saleId = "sale-declined", amount = 3000, currency = "eur", readerId, memberBarcode = member.ToString() };

        using var started = await merchant.PayAsync(sale);
        var paymentIntentId = (await Json(started)).GetProperty("paymentIntentId").GetString()!;
        await merchant.PresentCardAsync(readerId, "4000000000000002");
        var declined = await merchant.PaymentReachesAsync("sale-declined", "declined");
        Assert.Equal("generic_decline", declined.GetProperty("errorCode").GetString());
        Assert.Equal(0, await merchant.PointsAsync(member));

        using var retry = await merchant.PayAsync(sale);
        var retried = await Json(retry);
        Assert.Equal((paymentIntentId, 2), (retried.GetProperty("paymentIntentId").GetString(), retried.GetProperty("attempt").GetInt32()));

        // Stripe keeps the first decline on the PaymentIntent until it is updated: the poller (every 300 ms
        // after 1 s here) must not read it as the second attempt's outcome while the customer looks for a card.
        await Task.Delay(2500, Ct);
        Assert.Equal("processing", (await merchant.PaymentAsync("sale-declined")).GetProperty("status").GetString());
        await merchant.PresentCardAsync(readerId);
        await merchant.PaymentReachesAsync("sale-declined", "succeeded");

        await PublishedOnceAsync(merchant, readerId, paymentIntentId);
        Assert.Equal(3000, fixture.Collected.Single(c => c.PaymentId == paymentIntentId).Amount);
        await merchant.PointsReachAsync(member, 30);
        Assert.Single(await fixture.FakeRequestsAsync(), r => r.GetProperty("path").GetString() == "/v1/payment_intents"
            && r.GetProperty("method").GetString() == "POST" && !r.GetProperty("replayed").GetBoolean()
            && r.GetProperty("parameters").GetProperty("metadata[fidpass_sale]").GetString() == "sale-declined"
            && r.GetProperty("parameters").GetProperty("metadata[fidpass_merchant]").GetString() == merchant.Id.ToString());
    }

    [Fact]
    public async Task A_refund_publishes_one_PaymentRefunded_even_when_the_till_sends_it_twice()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        var member = await merchant.EnrolMemberAsync();
        var (saleId, paymentIntentId) = await PaidSaleWithIdAsync(merchant, readerId, 2500, member);
        await merchant.PointsReachAsync(member, 25);

        using var first = await merchant.Http.PostAsJsonAsync(merchant.Route($"payments/{saleId}/refunds"), new { refundId = "avoir-1", amount = 1000 }, Ct);
        using var second = await merchant.Http.PostAsJsonAsync(merchant.Route($"payments/{saleId}/refunds"), new { refundId = "avoir-1", amount = 1000 }, Ct);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var answered = await Json(second);
        Assert.Equal(1000, answered.GetProperty("amountRefunded").GetInt64() + answered.GetProperty("amountRefundPending").GetInt64());
        using var tooMuch = await merchant.Http.PostAsJsonAsync(merchant.Route($"payments/{saleId}/refunds"), new { refundId = "avoir-2", amount = 1501 }, Ct);
        Assert.Equal("refund_amount_invalid", (await Json(tooMuch)).GetProperty("code").GetString());
        using var notCents = await merchant.Http.PostAsJsonAsync(merchant.Route($"payments/{saleId}/refunds"), new { refundId = "avoir-3", amount = 10.5 }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, notCents.StatusCode);

        var refunded = await Eventually.Get(
            () => Task.FromResult(fixture.Refunded.FirstOrDefault(r => r.PaymentId == paymentIntentId)), r => r is not null, what: "PaymentRefunded");
        Assert.Equal((merchant.Id, 1000L, "eur"), (refunded!.MerchantId, refunded.Amount, refunded.Currency));
        await BarrierAsync(merchant, readerId);
        Assert.Single(fixture.Refunded, r => r.PaymentId == paymentIntentId);

        // Loyalty takes back the points of the refunded 10 € once, however often the till sent it.
        await merchant.PointsReachAsync(member, 15);
        Assert.Single(await fixture.FakeRequestsAsync(), r => r.GetProperty("path").GetString() == "/v1/refunds" && r.GetProperty("method").GetString() == "POST"
            && !r.GetProperty("replayed").GetBoolean()
            && r.GetProperty("parameters").GetProperty("payment_intent").GetString() == paymentIntentId);
    }

    [Fact]
    public async Task When_webhooks_are_lost_the_poller_finishes_the_sale()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        try
        {
            await fixture.WebhookModeAsync("drop");
            var member = await merchant.EnrolMemberAsync();
            using var started = await merchant.PayAsync(new { saleId = "sale-no-webhook", amount = 900, currency = "eur", readerId, memberBarcode = member.ToString() });
            var paymentIntentId = (await Json(started)).GetProperty("paymentIntentId").GetString()!;
            await merchant.PresentCardAsync(readerId);

            await merchant.PaymentReachesAsync("sale-no-webhook", "succeeded");
            await Eventually.True(() => Task.FromResult(CollectedFor(paymentIntentId) == 1), what: "PaymentCollected from the poller");
            await merchant.PointsReachAsync(member, 9);
        }
        finally
        {
            await fixture.WebhookModeAsync("normal");
        }
    }

    [Fact]
    public async Task Manual_capture_clicked_twice_captures_once()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        var member = await merchant.EnrolMemberAsync();
        using var started = await merchant.PayAsync(new { saleId = "sale-manual", amount = 4200, currency = "eur", readerId, captureMethod = "manual", memberBarcode = member.ToString() });
        var paymentIntentId = (await Json(started)).GetProperty("paymentIntentId").GetString()!;
        await merchant.PresentCardAsync(readerId);
        await merchant.PaymentReachesAsync("sale-manual", "authorized");
        Assert.DoesNotContain(fixture.Collected, c => c.PaymentId == paymentIntentId);
        Assert.Equal(0, await merchant.PointsAsync(member));

        var captures = await Task.WhenAll(
            merchant.Http.PostAsync(merchant.Route("payments/sale-manual/capture"), null, Ct),
            merchant.Http.PostAsync(merchant.Route("payments/sale-manual/capture"), null, Ct));

        foreach (var capture in captures)
        {
            Assert.Equal("succeeded", (await Json(capture)).GetProperty("status").GetString());
            capture.Dispose();
        }

        var captureCalls = (await fixture.FakeRequestsAsync()).Where(r => r.GetProperty("path").GetString() == $"/v1/payment_intents/{paymentIntentId}/capture").ToList();
        Assert.All(captureCalls, r => Assert.Equal($"pi-capture:{paymentIntentId}", r.GetProperty("idempotencyKey").GetString()));
        Assert.Single(captureCalls, r => !r.GetProperty("replayed").GetBoolean() && r.GetProperty("status").GetInt32() == 200);
        await PublishedOnceAsync(merchant, readerId, paymentIntentId);
        await merchant.PointsReachAsync(member, 42);
    }

    [Fact]
    public async Task A_Stripe_5xx_replayed_for_its_key_leaves_no_sale_and_the_tills_retry_creates_one_PaymentIntent_with_a_new_key()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        await fixture.ControlAsync("/__fake/faults?method=POST&path=/v1/payment_intents&status=500&count=1&shouldRetry=true");

        using var failed = await merchant.PayAsync(new { saleId = "sale-5xx", amount = 700, currency = "eur", readerId });

        // Stripe.net's own retry keeps the key, so Stripe replays the 500: the start fails and leaves nothing behind.
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        using var nothing = await merchant.Http.GetAsync(merchant.Route("payments/sale-5xx"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, nothing.StatusCode);

        // The till's retry is a real new attempt: a new key, one PaymentIntent.
        using var started = await merchant.PayAsync(new { saleId = "sale-5xx", amount = 700, currency = "eur", readerId });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var creates = (await fixture.FakeRequestsAsync())
            .Where(r => r.GetProperty("idempotencyKey").GetString() is { } key && key.StartsWith($"pi-create:{merchant.Id:N}:sale-5xx", StringComparison.Ordinal)).ToList();
        Assert.Equal([(500, false), (500, true), (200, false)], creates.Select(r => (r.GetProperty("status").GetInt32(), r.GetProperty("replayed").GetBoolean())));
        Assert.Equal([$"pi-create:{merchant.Id:N}:sale-5xx", $"pi-create:{merchant.Id:N}:sale-5xx", $"pi-create:{merchant.Id:N}:sale-5xx~2"],
            creates.Select(r => r.GetProperty("idempotencyKey").GetString()));
    }

    [Fact]
    public async Task While_the_card_authorises_the_reader_is_busy_and_cannot_be_cancelled_then_the_sale_completes()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        await fixture.ControlAsync($"/__fake/readers/{readerId}/authorizing?milliseconds=1500");
        var member = await merchant.EnrolMemberAsync();
        using var started = await merchant.PayAsync(new { saleId = "sale-authorizing", amount = 1100, currency = "eur", readerId, memberBarcode = member.ToString() });
        var paymentIntentId = (await Json(started)).GetProperty("paymentIntentId").GetString()!;
        await merchant.PresentCardAsync(readerId);

        using var cancel = await merchant.Http.PostAsync(merchant.Route($"readers/{readerId}/cancel-action"), null, Ct);
        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
        Assert.Equal("reader_busy", (await Json(cancel)).GetProperty("code").GetString());
        using var other = await merchant.PayAsync(new { saleId = "sale-authorizing-2", amount = 1100, currency = "eur", readerId });
        Assert.Equal("reader_busy", (await Json(other)).GetProperty("code").GetString());

        await merchant.PaymentReachesAsync("sale-authorizing", "succeeded");
        await Eventually.True(() => Task.FromResult(CollectedFor(paymentIntentId) == 1), what: "PaymentCollected");
        await merchant.PointsReachAsync(member, 11);
    }

    [Fact]
    public async Task Webhooks_of_another_API_version_are_refused_and_the_poller_still_finishes_the_sale()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        try
        {
            await fixture.ControlAsync("/__fake/webhooks?apiVersion=2024-06-20");
            using var started = await merchant.PayAsync(new { saleId = "sale-old-version", amount = 1300, currency = "eur", readerId });
            await merchant.PresentCardAsync(readerId);
            var evt = (await fixture.FakeEventsAsync()).Last(e => (string?)e["api_version"] == "2024-06-20");

            using var delivery = await fixture.Fake.PostAsync(new Uri($"/__fake/events/{evt["id"]}/deliver", UriKind.Relative), null, Ct);
            Assert.Equal(400, (await Json(delivery)).GetProperty("status").GetInt32());
            await merchant.PaymentReachesAsync("sale-old-version", "succeeded");
        }
        finally
        {
            await fixture.WebhookModeAsync("normal");
        }
    }
}
