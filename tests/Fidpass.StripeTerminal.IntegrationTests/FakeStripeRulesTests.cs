using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Fidpass.FakeStripe;
using Fidpass.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Fidpass.StripeTerminal.IntegrationTests;

/// <summary>A fake Stripe of its own (no webhook endpoint: events are only stored), driven over HTTP as Stripe.net would.</summary>
public sealed class FakeStripeHost : IAsyncLifetime
{
    public const string Key = "sk_test_51FidpassFakeRulesTests0000000000";

    private WebApplication? _app;

    public HttpClient Stripe { get; private set; } = null!;
    public HttpClient Control { get; private set; } = null!;
    public WebhookDispatcher Webhooks { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        _app = FakeStripeServer.Build(["--urls", "http://127.0.0.1:0", "--FakeStripe:RefundSettleMilliseconds", "200"]);
        await _app.StartAsync();
        var address = new Uri(_app.Urls.First());
        Stripe = new HttpClient { BaseAddress = address };
        Stripe.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        Control = new HttpClient { BaseAddress = address };
        Webhooks = _app.Services.GetRequiredService<WebhookDispatcher>();
    }

    public async ValueTask DisposeAsync()
    {
        Stripe?.Dispose();
        Control?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

/// <summary>
/// The fake follows Stripe's documented behaviour for what stripe-terminal uses; each rule cites where
/// Stripe documents it. The service's tests rely on these rules, so a fake that drifts from Stripe fails here first.
/// </summary>
public sealed class FakeStripeRulesTests(FakeStripeHost fake) : IClassFixture<FakeStripeHost>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed record Answer(HttpStatusCode Status, JsonNode Body, bool Replayed)
    {
        public string? Code => Body["error"]?["code"]?.GetValue<string>();

        public string Id => Body["id"]!.GetValue<string>();
    }

    private async Task<Answer> SendAsync(HttpMethod method, string path, Dictionary<string, string>? form = null, string? key = null, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (form is not null)
        {
            request.Content = new FormUrlEncodedContent(form);
        }

        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        using var response = await (client ?? fake.Stripe).SendAsync(request, Ct);
        return new((HttpStatusCode)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!,
            response.Headers.TryGetValues("Idempotent-Replayed", out var r) && r.Contains("true"));
    }

    private Task<Answer> PostAsync(string path, Dictionary<string, string> form, string? key = null) => SendAsync(HttpMethod.Post, path, form, key);

    private Task<Answer> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    private static Dictionary<string, string> Intent(long amount = 1000) => new()
    {
        ["amount"] = amount.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["currency"] = "eur",
        ["allowed_payment_method_types[0]"] = "card_present",
    };

    private async Task<string> ReaderAsync()
    {
        var location = await PostAsync("/v1/terminal/locations", new()
        {
            ["display_name"] = "Boutique",
            ["address[line1]"] = "1 rue de la Paix",
            ["address[city]"] = "Paris",
            ["address[postal_code]"] = "75002",
            ["address[country]"] = "FR",
        });
        Assert.Equal(HttpStatusCode.OK, location.Status);
        var reader = await PostAsync("/v1/terminal/readers", new() { ["registration_code"] = "simulated-wpe", ["label"] = "Comptoir", ["location"] = location.Id });
        return reader.Id;
    }

    private async Task<(string Reader, string Intent)> ProcessingAsync(string captureMethod = "automatic", long amount = 1000)
    {
        var reader = await ReaderAsync();
        var form = Intent(amount);
        form["capture_method"] = captureMethod;
        var intent = (await PostAsync("/v1/payment_intents", form)).Id;
        Assert.Equal(HttpStatusCode.OK, (await PostAsync($"/v1/terminal/readers/{reader}/process_payment_intent", new() { ["payment_intent"] = intent })).Status);
        return (reader, intent);
    }

    private async Task PresentAsync(string reader, string number = "4242424242424242")
    {
        using var response = await fake.Control.PostAsync(new Uri($"/__fake/readers/{reader}/present?number={number}", UriKind.Relative), null, Ct);
        response.EnsureSuccessStatusCode();
    }

    // https://docs.stripe.com/api/idempotent_requests: "Stripe's idempotency works by saving the resulting status code and
    // body of the first request made for any given idempotency key, regardless of whether it succeeds or fails.
    // Subsequent requests with the same key return the same result, including 500 errors."
    [Fact]
    public async Task A_500_is_stored_for_its_key_and_replayed_and_a_new_key_executes()
    {
        using (var fault = await fake.Control.PostAsync(new Uri("/__fake/faults?method=POST&path=/v1/payment_intents&status=500&count=1", UriKind.Relative), null, Ct))
        {
            fault.EnsureSuccessStatusCode();
        }

        var first = await PostAsync("/v1/payment_intents", Intent(), "rules-500");
        var again = await PostAsync("/v1/payment_intents", Intent(), "rules-500");
        var fresh = await PostAsync("/v1/payment_intents", Intent(), "rules-500-2");

        Assert.Equal((HttpStatusCode.InternalServerError, false), (first.Status, first.Replayed));
        Assert.Equal((HttpStatusCode.InternalServerError, true), (again.Status, again.Replayed));
        Assert.Equal(HttpStatusCode.OK, fresh.Status);
    }

    // Same page: "The idempotency layer compares incoming parameters to those of the original request and errors if
    // they're not the same to prevent accidental misuse."
    [Fact]
    public async Task The_same_key_with_other_parameters_is_an_idempotency_error()
    {
        var first = await PostAsync("/v1/payment_intents", Intent(1000), "rules-params");
        var other = await PostAsync("/v1/payment_intents", Intent(2000), "rules-params");
        var same = await PostAsync("/v1/payment_intents", Intent(1000), "rules-params");

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal((HttpStatusCode.BadRequest, "idempotency_error"), (other.Status, other.Body["error"]!["type"]!.GetValue<string>()));
        Assert.Equal((first.Id, true), (same.Id, same.Replayed));
    }

    // Same page: "Results are only saved if an API endpoint started executing. If incoming parameters failed
    // validation ... no idempotent result is saved because no API endpoint began execution."
    [Fact]
    public async Task A_validation_error_is_not_stored_for_its_key()
    {
        var invalid = await PostAsync("/v1/payment_intents", new() { ["amount"] = "1000" }, "rules-validation");
        var valid = await PostAsync("/v1/payment_intents", new() { ["amount"] = "1000" }, "rules-validation");

        Assert.Equal(("parameter_missing", "parameter_missing"), (invalid.Code, valid.Code));
        Assert.False(valid.Replayed);
    }

    // A timeout is an answer of an executing request: Stripe replays it for the key, so a retry needs a new key
    // (https://docs.stripe.com/terminal/payments/collect-card-payment?terminal-sdk-platform=server-driven#handle-errors).
    [Fact]
    public async Task A_reader_timeout_is_replayed_for_its_key()
    {
        var reader = await ReaderAsync();
        var intent = (await PostAsync("/v1/payment_intents", Intent())).Id;
        using (var armed = await fake.Control.PostAsync(new Uri($"/__fake/readers/{reader}/timeout?mode=lost&count=1", UriKind.Relative), null, Ct))
        {
            armed.EnsureSuccessStatusCode();
        }

        var process = new Dictionary<string, string> { ["payment_intent"] = intent };
        var first = await PostAsync($"/v1/terminal/readers/{reader}/process_payment_intent", process, "rules-timeout");
        var replayed = await PostAsync($"/v1/terminal/readers/{reader}/process_payment_intent", process, "rules-timeout");
        var next = await PostAsync($"/v1/terminal/readers/{reader}/process_payment_intent", process, "rules-timeout~2");

        Assert.Equal(("terminal_reader_timeout", "terminal_reader_timeout", true), (first.Code, replayed.Code, replayed.Replayed));
        Assert.Equal(HttpStatusCode.OK, next.Status);
    }

    // https://docs.stripe.com/terminal/references/testing#test-cards ("Charge is declined with a card_declined code")
    // and https://docs.stripe.com/testing#declined-payments (4000000000000002: decline_code generic_decline).
    // https://docs.stripe.com/api/payment_intents/object#payment_intent_object-last_payment_error: "It will be
    // cleared if the PaymentIntent is later updated for any reason."
    [Fact]
    public async Task A_declined_card_leaves_generic_decline_on_the_PaymentIntent_until_it_is_updated()
    {
        var (reader, intent) = await ProcessingAsync();
        await PresentAsync(reader, "4000000000000002");

        var declined = (await GetAsync($"/v1/payment_intents/{intent}")).Body;
        Assert.Equal(("requires_payment_method", "card_declined", "generic_decline"),
            (declined["status"]!.GetValue<string>(), declined["last_payment_error"]!["code"]!.GetValue<string>(), declined["last_payment_error"]!["decline_code"]!.GetValue<string>()));
        var action = (await GetAsync($"/v1/terminal/readers/{reader}")).Body["action"]!;
        Assert.Equal(("failed", "card_declined", "generic_decline"),
            (action["status"]!.GetValue<string>(), action["failure_code"]!.GetValue<string>(), action["api_error"]!["decline_code"]!.GetValue<string>()));

        await PostAsync($"/v1/terminal/readers/{reader}/process_payment_intent", new() { ["payment_intent"] = intent });
        Assert.NotNull((await GetAsync($"/v1/payment_intents/{intent}")).Body["last_payment_error"]);
        await PostAsync($"/v1/payment_intents/{intent}", new() { ["metadata[fidpass_attempt]"] = "2" });
        Assert.Null((await GetAsync($"/v1/payment_intents/{intent}")).Body["last_payment_error"]);
    }

    // https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts: EUR €0.50 minimum, eight digits maximum.
    [Fact]
    public async Task An_amount_below_fifty_cents_or_above_eight_digits_is_refused()
    {
        Assert.Equal("amount_too_small", (await PostAsync("/v1/payment_intents", Intent(49))).Code);
        Assert.Equal("amount_too_large", (await PostAsync("/v1/payment_intents", Intent(100_000_000))).Code);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v1/payment_intents", Intent(50))).Status);
    }

    // https://docs.stripe.com/api/payment_intents/object#payment_intent_object-payment_method_types (the values)
    // and https://docs.stripe.com/changelog/endive (allowed_payment_method_types replaces payment_method_types).
    [Fact]
    public async Task Only_known_payment_method_types_are_allowed()
    {
        var form = Intent();
        form["allowed_payment_method_types[0]"] = "carte_bleue";
        Assert.Equal("parameter_invalid_string", (await PostAsync("/v1/payment_intents", form)).Code);
        var old = Intent();
        old["payment_method_types[0]"] = "card_present";
        Assert.Equal("payment_method_types_no_longer_supported", (await PostAsync("/v1/payment_intents", old)).Code);
    }

    // https://docs.stripe.com/api/payment_intents/cancel#cancel_payment_intent-cancellation_reason:
    // duplicate, fraudulent, requested_by_customer, or abandoned.
    [Fact]
    public async Task Only_documented_cancellation_reasons_are_accepted()
    {
        var intent = (await PostAsync("/v1/payment_intents", Intent())).Id;
        Assert.Equal("parameter_invalid_string", (await PostAsync($"/v1/payment_intents/{intent}/cancel", new() { ["cancellation_reason"] = "changed_mind" })).Code);
        var canceled = await PostAsync($"/v1/payment_intents/{intent}/cancel", new() { ["cancellation_reason"] = "abandoned" });
        Assert.Equal("abandoned", canceled.Body["cancellation_reason"]!.GetValue<string>());
    }

    // https://docs.stripe.com/api/terminal/readers/set_reader_display: type is required; cart requires currency and total.
    [Fact]
    public async Task A_display_needs_its_type_and_the_carts_currency_and_total()
    {
        var reader = await ReaderAsync();
        var path = $"/v1/terminal/readers/{reader}/set_reader_display";
        Assert.Equal("type", (await PostAsync(path, new() { ["cart[currency]"] = "eur", ["cart[total]"] = "100" })).Body["error"]!["param"]!.GetValue<string>());
        Assert.Equal("cart[total]", (await PostAsync(path, new() { ["type"] = "cart", ["cart[currency]"] = "eur" })).Body["error"]!["param"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(path, new() { ["type"] = "cart", ["cart[currency]"] = "eur", ["cart[total]"] = "100" })).Status);
    }

    // https://docs.stripe.com/api/terminal/locations/create: address is required.
    [Fact]
    public async Task A_location_needs_an_address()
    {
        var missing = await PostAsync("/v1/terminal/locations", new() { ["display_name"] = "Boutique" });
        Assert.Equal(("parameter_missing", HttpStatusCode.BadRequest), (missing.Code, missing.Status));
    }

    // https://docs.stripe.com/keys: secret keys are sk_test_ (or restricted rk_test_) followed by letters and digits.
    [Fact]
    public async Task Only_well_formed_test_keys_are_accepted()
    {
        foreach (var key in new[] { "sk_test_x", "sk_test_fidpass_fake_key_with_underscores", "sk_live_51FidpassLiveKey000000000000000", "pk_test_51FidpassPublishable0000000000" })
        {
            using var client = new HttpClient { BaseAddress = fake.Stripe.BaseAddress };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "/v1/terminal/readers", client: client)).Status);
        }
    }

    // https://docs.stripe.com/api/events/object#event_object-account and
    // https://docs.stripe.com/api/terminal/connection_tokens/object#terminal_connection_token_object-location:
    // optional fields, absent rather than null.
    [Fact]
    public async Task Optional_fields_are_absent_rather_than_null()
    {
        var token = await PostAsync("/v1/terminal/connection_tokens", []);
        Assert.False(token.Body.AsObject().ContainsKey("location"));
        var intent = (await PostAsync("/v1/payment_intents", Intent())).Id;
        var evt = fake.Webhooks.Events.Single(e => e["data"]!["object"]!["id"]!.GetValue<string>() == intent);
        Assert.False(evt.ContainsKey("account"));
    }

    // https://docs.stripe.com/refunds#refund-statuses (pending, then succeeded or failed) and
    // https://docs.stripe.com/refunds#failed-refunds (refund.failed; the amount is returned).
    [Fact]
    public async Task A_refund_is_pending_then_succeeds_or_fails_with_its_events_and_the_charge_follows()
    {
        var (reader, intent) = await ProcessingAsync();
        await PresentAsync(reader);
        var chargeId = (await GetAsync($"/v1/payment_intents/{intent}")).Body["latest_charge"]!.GetValue<string>();

        var refund = await PostAsync("/v1/refunds", new() { ["payment_intent"] = intent, ["amount"] = "300" });
        Assert.Equal("pending", refund.Body["status"]!.GetValue<string>());
        await Eventually.True(async () => (await GetAsync($"/v1/refunds/{refund.Id}")).Body["status"]!.GetValue<string>() == "succeeded", what: "refund settled");
        using (var next = await fake.Control.PostAsync(new Uri("/__fake/refunds/next?outcome=failed", UriKind.Relative), null, Ct))
        {
            next.EnsureSuccessStatusCode();
        }

        var failing = await PostAsync("/v1/refunds", new() { ["payment_intent"] = intent, ["amount"] = "200" });
        await Eventually.True(async () => (await GetAsync($"/v1/refunds/{failing.Id}")).Body["status"]!.GetValue<string>() == "failed", what: "refund failed");

        var charge = (await GetAsync($"/v1/charges/{chargeId}")).Body;
        Assert.Equal((1000L, 300L, false, intent), (charge["amount"]!.GetValue<long>(), charge["amount_refunded"]!.GetValue<long>(),
            charge["refunded"]!.GetValue<bool>(), charge["payment_intent"]!.GetValue<string>()));
        var types = fake.Webhooks.Events.Select(e => e["type"]!.GetValue<string>())
            .Zip(fake.Webhooks.Events, (type, e) => (type, json: e.ToJsonString()))
            .Where(e => (e.type.StartsWith("refund.", StringComparison.Ordinal) || e.type.StartsWith("charge.", StringComparison.Ordinal))
                && e.json.Contains(chargeId, StringComparison.Ordinal))
            .Select(e => e.type).ToList();
        Assert.Equal(["refund.created", "charge.refunded", "refund.updated", "charge.refund.updated", "refund.created", "charge.refunded",
            "refund.failed", "refund.updated", "charge.refund.updated"], types);
    }

    // Reader-side failures of a server-driven action (spec 3.1; https://docs.stripe.com/terminal/payments/collect-card-payment?terminal-sdk-platform=server-driven#payment-failures):
    // the action fails, api_error is null unless an API error caused it, and the PaymentIntent stays re-usable.
    [Theory]
    [InlineData("customer_canceled", false)]
    [InlineData("card_read_timed_out", false)]
    [InlineData("api_error", true)]
    public async Task A_reader_failure_other_than_a_decline_leaves_the_PaymentIntent_reusable(string code, bool apiError)
    {
        var (reader, intent) = await ProcessingAsync();
        using (var fail = await fake.Control.PostAsync(new Uri($"/__fake/readers/{reader}/fail?code={code}", UriKind.Relative), null, Ct))
        {
            fail.EnsureSuccessStatusCode();
        }

        var action = (await GetAsync($"/v1/terminal/readers/{reader}")).Body["action"]!;
        Assert.Equal(("failed", code, apiError), (action["status"]!.GetValue<string>(), action["failure_code"]!.GetValue<string>(), action["api_error"] is not null));
        var pi = (await GetAsync($"/v1/payment_intents/{intent}")).Body;
        Assert.Equal(("requires_payment_method", true), (pi["status"]!.GetValue<string>(), pi["last_payment_error"] is null));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync($"/v1/terminal/readers/{reader}/process_payment_intent", new() { ["payment_intent"] = intent })).Status);
    }
}
