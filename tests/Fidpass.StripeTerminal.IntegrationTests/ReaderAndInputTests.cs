using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Stripe;

namespace Fidpass.StripeTerminal.IntegrationTests;

public sealed class ReaderAndInputTests(StripeTerminalFixture fixture) : IClassFixture<StripeTerminalFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> Json(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>(Ct);

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.True(status == response.StatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, (await Json(response)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Bad_payment_input_is_refused_and_nothing_is_sent_to_Stripe()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        var otherMerchantsReader = await (await fixture.NewMerchantAsync()).RegisterReaderAsync();
        string[] ours = [readerId, otherMerchantsReader, "tmr_unknown", merchant.Id.ToString(), merchant.Id.ToString("N")];
        var before = await fixture.StripeCallsAboutAsync(ours);

        (object Body, HttpStatusCode Status, string Code)[] cases =
        [
            (new { saleId = "s1", amount = 0, currency = "eur", readerId }, HttpStatusCode.BadRequest, "invalid_amount"),
            (new { saleId = "s1", amount = -100, currency = "eur", readerId }, HttpStatusCode.BadRequest, "invalid_amount"),
            (new { saleId = "s1", amount = 12.5, currency = "eur", readerId }, HttpStatusCode.BadRequest, "invalid_amount"),
            (new { saleId = "s1", amount = "1250", currency = "eur", readerId }, HttpStatusCode.BadRequest, "invalid_amount"),
            (new { saleId = "s1", amount = 1250, currency = "usd", readerId }, HttpStatusCode.BadRequest, "unsupported_currency"),
            (new { saleId = "s1", amount = 1250, currency = "eur", readerId = "tmr_unknown" }, HttpStatusCode.NotFound, "reader_not_found"),
            (new { saleId = "s1", amount = 1250, currency = "eur", readerId = otherMerchantsReader }, HttpStatusCode.NotFound, "reader_not_found"),
            (new { amount = 1250, currency = "eur", readerId }, HttpStatusCode.BadRequest, "sale_id_required"),
            (new { saleId = "s1", amount = 1250, currency = "eur", readerId, memberBarcode = "not-a-card" }, HttpStatusCode.BadRequest, "invalid_member_barcode"),
        ];
        foreach (var (body, status, code) in cases)
        {
            using var response = await merchant.PayAsync(body);
            await AssertProblemAsync(response, status, code);
        }

        using var notJson = await merchant.Http.PostAsync(merchant.Route("payments"), new StringContent("{amount:", Encoding.UTF8, "application/json"), Ct);
        await AssertProblemAsync(notJson, HttpStatusCode.BadRequest, "invalid_body");
        Assert.Equal(before, await fixture.StripeCallsAboutAsync(ours));
        using var missing = await merchant.Http.GetAsync(merchant.Route("payments/s1"), Ct);
        await AssertProblemAsync(missing, HttpStatusCode.NotFound, "payment_not_found");
    }

    [Fact]
    public async Task A_webhook_with_a_bad_or_stale_signature_is_refused_and_changes_nothing()
    {
        var webhook = fixture.Client;
        var body = """{"id":"evt_forged","object":"event","api_version":"2026-10-28.endive","created":1763900000,"type":"payment_intent.succeeded","data":{"object":{"id":"pi_forged","object":"payment_intent","status":"succeeded"}}}""";
        var before = await fixture.StripeCallsAboutAsync("pi_forged", "evt_forged");

        foreach (var (header, code) in new[]
        {
            (EventUtility.GenerateSignatureHeader(body, "whsec_wrong"), "signature_invalid"),
            (EventUtility.GenerateSignatureHeader(body, StripeTerminalFixture.WebhookSecret, DateTimeOffset.UtcNow.AddMinutes(-20).ToUnixTimeSeconds()), "signature_expired"),
            (EventUtility.GenerateSignatureHeader(body + " ", StripeTerminalFixture.WebhookSecret), "signature_invalid"),
        })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/stripe") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("Stripe-Signature", header);
            using var response = await webhook.SendAsync(request, Ct);
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, code);
        }

        Assert.Equal(before, await fixture.StripeCallsAboutAsync("pi_forged", "evt_forged"));
    }

    [Fact]
    public async Task Stripe_secrets_never_appear_in_the_logs()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        using var started = await merchant.PayAsync(new { saleId = "sale-logs", amount = 1250, currency = "eur", readerId });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        await merchant.PresentCardAsync(readerId, "4000000000000002");
        await merchant.PaymentReachesAsync("sale-logs", "declined");
        var body = """{"id":"evt_logs","object":"event","api_version":"2026-10-28.endive","type":"payment_intent.succeeded","data":{"object":{"id":"pi_x","object":"payment_intent"}}}""";
        using var forged = new HttpRequestMessage(HttpMethod.Post, "/webhooks/stripe") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        forged.Headers.Add("Stripe-Signature", EventUtility.GenerateSignatureHeader(body, "whsec_wrong"));
        using var refused = await fixture.Client.SendAsync(forged, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);

        var lines = fixture.TraceLogs.Lines.ToList();
        // The capture is real: it holds the service's own lines and the Stripe HTTP calls.
        Assert.Contains(lines, l => l.Contains("acknowledged", StringComparison.Ordinal) && l.Contains(readerId, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Stripe webhook refused", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("/v1/payment_intents", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(StripeTerminalFixture.SecretKey, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(StripeTerminalFixture.WebhookSecret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Readers_are_registered_listed_renamed_and_deleted_per_merchant()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync("Caisse 1");

        using var badCode = await merchant.Http.PostAsJsonAsync(merchant.Route("readers"),
            new { registrationCode = "purple-llama-banana", label = "X", locationId = (await merchant.Http.GetFromJsonAsync<JsonElement>(merchant.Route("locations"), Ct))[0].GetProperty("id").GetString() }, Ct);
        await AssertProblemAsync(badCode, HttpStatusCode.BadRequest, "invalid_registration_code");

        using var renamed = await merchant.Http.PatchAsJsonAsync(merchant.Route($"readers/{readerId}"), new { label = "Terrasse" }, Ct);
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        var listed = Assert.Single((await merchant.Http.GetFromJsonAsync<JsonElement>(merchant.Route("readers"), Ct)).EnumerateArray());
        Assert.Equal(("Terrasse", "online", "simulated_wisepos_e"),
            (listed.GetProperty("label").GetString(), listed.GetProperty("status").GetString(), listed.GetProperty("deviceType").GetString()));
        Assert.True(listed.GetProperty("lastSeenAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
        var other = await fixture.NewMerchantAsync();
        Assert.Empty((await other.Http.GetFromJsonAsync<JsonElement>(other.Route("readers"), Ct)).EnumerateArray());

        using var otherDeletes = await other.Http.DeleteAsync(other.Route($"readers/{readerId}"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, otherDeletes.StatusCode);
        using var deleted = await merchant.Http.DeleteAsync(merchant.Route($"readers/{readerId}"), Ct);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty((await merchant.Http.GetFromJsonAsync<JsonElement>(merchant.Route("readers"), Ct)).EnumerateArray());
    }

    [Fact]
    public async Task A_till_keeps_its_reader_and_cannot_take_one_that_serves_another_sale_unless_forced()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        using var connected = await merchant.Http.PutAsJsonAsync(merchant.Route("tills/caisse-1/reader"), new { readerId }, Ct);
        Assert.Equal(HttpStatusCode.OK, connected.StatusCode);

        // The till pays with its remembered reader, as after a restart.
        using var started = await merchant.PayAsync(new { saleId = "sale-till-1", amount = 1500, currency = "eur", tillId = "caisse-1" });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        Assert.Equal(readerId, (await Json(started)).GetProperty("readerId").GetString());
        var remembered = await merchant.Http.GetFromJsonAsync<JsonElement>(merchant.Route("tills/caisse-1/reader"), Ct);
        Assert.Equal("process_payment_intent:in_progress", remembered.GetProperty("reader").GetProperty("action").GetString());

        using var refused = await merchant.Http.PutAsJsonAsync(merchant.Route("tills/caisse-2/reader"), new { readerId }, Ct);
        await AssertProblemAsync(refused, HttpStatusCode.Conflict, "reader_in_use");
        using var forced = await merchant.Http.PutAsJsonAsync(merchant.Route("tills/caisse-2/reader"), new { readerId, force = true }, Ct);
        Assert.Equal(HttpStatusCode.OK, forced.StatusCode);

        using var noReader = await merchant.PayAsync(new { saleId = "sale-till-3", amount = 1500, currency = "eur", tillId = "caisse-3" });
        await AssertProblemAsync(noReader, HttpStatusCode.Conflict, "till_not_connected");
    }

    [Fact]
    public async Task An_offline_reader_is_reported_with_a_next_step_and_nothing_is_queued()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        await fixture.ControlAsync($"/__fake/readers/{readerId}/offline");

        using var connect = await merchant.Http.PutAsJsonAsync(merchant.Route("tills/caisse-1/reader"), new { readerId }, Ct);
        await AssertProblemAsync(connect, HttpStatusCode.Conflict, "reader_offline");
        using var pay = await merchant.PayAsync(new { saleId = "sale-offline", amount = 1500, currency = "eur", readerId });
        Assert.Equal(HttpStatusCode.Conflict, pay.StatusCode);
        var problem = await Json(pay);
        Assert.Equal("reader_offline", problem.GetProperty("code").GetString());
        Assert.Contains("hors ligne", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("reader_failed", (await merchant.PaymentAsync("sale-offline")).GetProperty("status").GetString());

        // Back online: the same sale goes through on the same PaymentIntent, nothing was queued meanwhile.
        await fixture.ControlAsync($"/__fake/readers/{readerId}/online");
        var reader = await fixture.Fake.GetFromJsonAsync<JsonElement>("/__fake/readers", Ct);
        Assert.Equal(JsonValueKind.Null, reader.EnumerateArray().Single(r => r.GetProperty("id").GetString() == readerId).GetProperty("action").ValueKind);
        using var retry = await merchant.PayAsync(new { saleId = "sale-offline", amount = 1500, currency = "eur", readerId });
        Assert.Equal(problem.GetProperty("paymentIntentId").GetString(), (await Json(retry)).GetProperty("paymentIntentId").GetString());
    }

    [Fact]
    public async Task A_busy_reader_is_reported_and_the_sale_can_be_retried()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        await fixture.ControlAsync($"/__fake/readers/{readerId}/busy?seconds=60");

        using var pay = await merchant.PayAsync(new { saleId = "sale-busy", amount = 1500, currency = "eur", readerId });

        await AssertProblemAsync(pay, HttpStatusCode.Conflict, "reader_busy");
    }

    [Fact]
    public async Task A_stuck_reader_is_freed_by_the_operator_and_the_sale_goes_through_on_the_same_PaymentIntent()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        await fixture.ControlAsync($"/__fake/readers/{readerId}/stuck");
        var sale = new { saleId = "sale-stuck", amount = 1500, currency = "eur", readerId };
        using var started = await merchant.PayAsync(sale);
        var paymentIntentId = (await Json(started)).GetProperty("paymentIntentId").GetString();
        await merchant.PresentCardAsync(readerId);
        Assert.Equal("processing", (await merchant.PaymentAsync("sale-stuck")).GetProperty("status").GetString());

        using var freed = await merchant.Http.PostAsync(merchant.Route($"readers/{readerId}/cancel-action"), null, Ct);
        Assert.Equal(HttpStatusCode.OK, freed.StatusCode);
        Assert.Equal("reader_failed", (await merchant.PaymentAsync("sale-stuck")).GetProperty("status").GetString());

        await fixture.ControlAsync($"/__fake/readers/{readerId}/stuck?on=false");
        using var retry = await merchant.PayAsync(sale);
        var retried = await Json(retry);
        Assert.Equal((paymentIntentId, 2), (retried.GetProperty("paymentIntentId").GetString(), retried.GetProperty("attempt").GetInt32()));
        await merchant.PresentCardAsync(readerId);
        await merchant.PaymentReachesAsync("sale-stuck", "succeeded");
    }

    [Fact]
    public async Task A_sale_not_yet_paid_can_be_cancelled_and_its_PaymentIntent_is_cancelled_at_Stripe()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        using var started = await merchant.PayAsync(new { saleId = "sale-cancel", amount = 1500, currency = "eur", readerId });
        var paymentIntentId = (await Json(started)).GetProperty("paymentIntentId").GetString();

        using var cancel = await merchant.Http.PostAsync(merchant.Route("payments/sale-cancel/cancel"), null, Ct);

        Assert.Equal("canceled", (await Json(cancel)).GetProperty("status").GetString());
        var intent = await fixture.Fake.GetFromJsonAsync<JsonElement>("/__fake/readers", Ct);
        Assert.Equal(JsonValueKind.Null, intent.EnumerateArray().Single(r => r.GetProperty("id").GetString() == readerId).GetProperty("action").ValueKind);
        Assert.Contains(await fixture.FakeRequestsAsync(), r => r.GetProperty("path").GetString() == $"/v1/payment_intents/{paymentIntentId}/cancel"
            && r.GetProperty("idempotencyKey").GetString() == $"pi-cancel:{paymentIntentId}" && r.GetProperty("status").GetInt32() == 200);
    }

    [Fact]
    public async Task A_merchant_on_a_connected_account_has_every_call_sent_with_its_Stripe_Account()
    {
        var merchant = await fixture.NewMerchantAsync();
        using var account = await merchant.Dashboard.PutAsJsonAsync(merchant.Route("stripe-account"), new { accountId = "acct_1FidpassCafe" }, Ct);
        Assert.Equal(HttpStatusCode.OK, account.StatusCode);
        var readerId = await merchant.RegisterReaderAsync();

        using var started = await merchant.PayAsync(new { saleId = "sale-connect", amount = 2000, currency = "eur", readerId });
        var paymentIntentId = (await Json(started)).GetProperty("paymentIntentId").GetString()!;
        await merchant.PresentCardAsync(readerId);
        await merchant.PaymentReachesAsync("sale-connect", "succeeded");

        var calls = (await fixture.FakeRequestsAsync()).Where(r => r.GetRawText().Contains(readerId, StringComparison.Ordinal)
            || r.GetRawText().Contains(paymentIntentId, StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(calls);
        Assert.All(calls, r => Assert.Equal("acct_1FidpassCafe", r.GetProperty("stripeAccount").GetString()));
        using var invalid = await merchant.Dashboard.PutAsJsonAsync(merchant.Route("stripe-account"), new { accountId = "nope" }, Ct);
        await AssertProblemAsync(invalid, HttpStatusCode.BadRequest, "invalid_stripe_account");
    }

    [Fact]
    public async Task A_webhook_is_routed_by_its_account_and_one_from_another_account_is_ignored()
    {
        var merchant = await fixture.NewMerchantAsync();
        using var account = await merchant.Dashboard.PutAsJsonAsync(merchant.Route("stripe-account"), new { accountId = "acct_1FidpassRouted" }, Ct);
        var readerId = await merchant.RegisterReaderAsync();
        string paymentIntentId;
        try
        {
            // Stripe's own webhooks dropped (the poller finishes the sale), so none is still in flight below.
            await fixture.WebhookModeAsync("drop");
            using var started = await merchant.PayAsync(new { saleId = "sale-routed", amount = 1600, currency = "eur", readerId });
            paymentIntentId = (await Json(started)).GetProperty("paymentIntentId").GetString()!;
            await merchant.PresentCardAsync(readerId);
            await merchant.PaymentReachesAsync("sale-routed", "succeeded");
        }
        finally
        {
            await fixture.WebhookModeAsync("normal");
        }

        // The sale is over, so nothing else reads this PaymentIntent: each read below comes from a delivery of ours.
        async Task<int> ReadsAsync() => (await fixture.FakeRequestsAsync()).Count(r => r.GetProperty("method").GetString() == "GET"
            && r.GetProperty("path").GetString() == $"/v1/payment_intents/{paymentIntentId}");
        async Task DeliverAsync(string eventAccount)
        {
            var body = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["id"] = $"evt_{Guid.NewGuid():N}",
                ["object"] = "event",
                ["account"] = eventAccount,
                ["api_version"] = "2026-10-28.endive",
                ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                ["type"] = "payment_intent.succeeded",
                ["data"] = new { @object = new { id = paymentIntentId, @object = "payment_intent", status = "succeeded" } },
            });
            // Connected accounts' events come to the Connect endpoint, signed with its own secret.
            using var response = await fixture.PostWebhookAsync(
                body, EventUtility.GenerateSignatureHeader(body, StripeTerminalFixture.ConnectWebhookSecret), "/webhooks/stripe/connect");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var before = await ReadsAsync();
        await DeliverAsync("acct_1SomeoneElse");
        Assert.Equal(before, await ReadsAsync());

        await DeliverAsync("acct_1FidpassRouted");
        var reads = (await fixture.FakeRequestsAsync()).Where(r => r.GetProperty("method").GetString() == "GET"
            && r.GetProperty("path").GetString() == $"/v1/payment_intents/{paymentIntentId}").ToList();
        Assert.Equal(before + 1, reads.Count);
        Assert.Equal("acct_1FidpassRouted", reads[^1].GetProperty("stripeAccount").GetString());
    }

    [Fact]
    public async Task Routes_check_the_merchant_and_the_terminal_scope()
    {
        var merchant = await fixture.NewMerchantAsync(scopes: "scan lookup");
        using var noScope = await merchant.Http.GetAsync(merchant.Route("readers"), Ct);
        await AssertProblemAsync(noScope, HttpStatusCode.Forbidden, "scope_missing");

        // Another merchant's key on this merchant's slug is unknown there: the gateway never forwards it.
        var other = await fixture.NewMerchantAsync();
        var readerId = await other.RegisterReaderAsync();
        using var wrongSlug = await other.Http.GetAsync(merchant.Route("readers"), Ct);
        await AssertProblemAsync(wrongSlug, HttpStatusCode.Unauthorized, "unauthenticated");
        using var wrongSlugPays = await other.Http.PostAsJsonAsync(merchant.Route("payments"), new { saleId = "s-x", amount = 100, currency = "eur", readerId }, Ct);
        await AssertProblemAsync(wrongSlugPays, HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Equal(0, await fixture.StripeCallsAboutAsync("s-x"));

        using var anonymous = await fixture.Client.GetAsync(merchant.Route("readers"), Ct);
        await AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task A_connection_token_is_issued_for_the_merchants_location()
    {
        var merchant = await fixture.NewMerchantAsync();
        await merchant.RegisterReaderAsync();
        var locationId = (await merchant.Http.GetFromJsonAsync<JsonElement>(merchant.Route("locations"), Ct))[0].GetProperty("id").GetString();

        using var token = await merchant.Http.PostAsJsonAsync(merchant.Route("connection-tokens"), new { locationId }, Ct);
        Assert.StartsWith("pst_test_", (await Json(token)).GetProperty("secret").GetString(), StringComparison.Ordinal);
        var other = await fixture.NewMerchantAsync();
        using var foreign = await other.Http.PostAsJsonAsync(other.Route("connection-tokens"), new { locationId }, Ct);
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
    }
}
