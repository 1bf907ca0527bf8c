using System.Text.Json.Nodes;

namespace Fidpass.StripeTerminal.IntegrationTests.Contract;

/// <summary>
/// The fake's answers and webhook payloads checked against Stripe's own OpenAPI schemas
/// (<c>stripe-openapi-excerpt.json</c>: its source commit and API version are in the file), for
/// every object stripe-terminal reads: readers and their actions, PaymentIntents, refunds,
/// locations, connection tokens and events. A field the spec does not name, a null it forbids, a
/// missing required field or a value outside an enum fails here.
/// </summary>
public sealed class FakeStripeContractTests(FakeStripeHost fake) : IClassFixture<FakeStripeHost>
{
    private static readonly OpenApiValidator Spec = OpenApiValidator.Load(Path.Combine(AppContext.BaseDirectory, "Contract", "stripe-openapi-excerpt.json"));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly List<(string What, JsonNode Body)> _answers = [];

    private async Task<JsonNode> CallAsync(HttpMethod method, string path, Dictionary<string, string>? form = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = form is null ? null : new FormUrlEncodedContent(form) };
        using var response = await fake.Stripe.SendAsync(request, Ct);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {body.ToJsonString()}");
        _answers.Add(($"{method} {path}", body));
        return body;
    }

    private async Task ControlAsync(string pathAndQuery)
    {
        using var response = await fake.Control.PostAsync(new Uri(pathAndQuery, UriKind.Relative), null, Ct);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Every Stripe object in <paramref name="body"/> (lists unrolled) against the schema its <c>object</c> names.</summary>
    private static IEnumerable<string> Violations(string what, JsonNode body)
    {
        var items = body["object"]?.GetValue<string>() == "list" ? body["data"]!.AsArray().Select(i => i!) : [body];
        foreach (var item in items)
        {
            var kind = item["object"]!.GetValue<string>();
            Assert.True(Spec.Knows(kind), $"{what}: no schema for {kind} in the excerpt");
            foreach (var error in Spec.Validate(item, kind))
            {
                yield return $"{what}: {error}";
            }
        }
    }

    [Fact]
    public async Task Every_answer_and_event_of_a_full_card_flow_matches_Stripes_schemas()
    {
        var location = await CallAsync(HttpMethod.Post, "/v1/terminal/locations", new()
        {
            ["display_name"] = "Boutique",
            ["address[line1]"] = "1 rue de la Paix",
            ["address[city]"] = "Paris",
            ["address[postal_code]"] = "75002",
            ["address[country]"] = "FR",
            ["metadata[fidpass_merchant]"] = "m1",
        });
        await CallAsync(HttpMethod.Get, "/v1/terminal/locations");
        await CallAsync(HttpMethod.Post, "/v1/terminal/connection_tokens", new() { ["location"] = location["id"]!.GetValue<string>() });
        await CallAsync(HttpMethod.Post, "/v1/terminal/connection_tokens", []);
        var reader = (await CallAsync(HttpMethod.Post, "/v1/terminal/readers", new()
        {
            ["registration_code"] = "simulated-wpe",
            ["label"] = "Comptoir",
            ["location"] = location["id"]!.GetValue<string>(),
        }))["id"]!.GetValue<string>();
        await CallAsync(HttpMethod.Post, $"/v1/terminal/readers/{reader}/set_reader_display", new()
        {
            ["type"] = "cart",
            ["cart[currency]"] = "eur",
            ["cart[total]"] = "1000",
            ["cart[tax]"] = "0",
            ["cart[line_items][0][description]"] = "Pain",
            ["cart[line_items][0][amount]"] = "1000",
            ["cart[line_items][0][quantity]"] = "1",
        });

        async Task<string> IntentAsync(string capture)
        {
            var created = await CallAsync(HttpMethod.Post, "/v1/payment_intents", new()
            {
                ["amount"] = "1000",
                ["currency"] = "eur",
                ["allowed_payment_method_types[0]"] = "card_present",
                ["capture_method"] = capture,
                ["description"] = "Vente",
                ["metadata[fidpass_sale]"] = "s1",
            });
            var id = created["id"]!.GetValue<string>();
            await CallAsync(HttpMethod.Post, $"/v1/terminal/readers/{reader}/process_payment_intent", new()
            {
                ["payment_intent"] = id,
                ["process_config[skip_tipping]"] = "true",
                ["process_config[enable_customer_cancellation]"] = "true",
            });
            return id;
        }

        // Declined, then paid; manual capture; a reader failure; a cancel; a refund that succeeds and one that fails.
        var paid = await IntentAsync("automatic");
        await ControlAsync($"/__fake/readers/{reader}/present?number=4000000000000002");
        await CallAsync(HttpMethod.Get, $"/v1/payment_intents/{paid}");
        await CallAsync(HttpMethod.Get, $"/v1/terminal/readers/{reader}");
        await CallAsync(HttpMethod.Post, $"/v1/payment_intents/{paid}", new() { ["metadata[fidpass_attempt]"] = "2" });
        await CallAsync(HttpMethod.Post, $"/v1/terminal/readers/{reader}/process_payment_intent", new() { ["payment_intent"] = paid });
        await ControlAsync($"/__fake/readers/{reader}/present?number=4242424242424242");
        await CallAsync(HttpMethod.Get, $"/v1/payment_intents/{paid}");

        var manual = await IntentAsync("manual");
        await ControlAsync($"/__fake/readers/{reader}/present?number=4242424242424242");
        await CallAsync(HttpMethod.Post, $"/v1/payment_intents/{manual}/capture", []);

        var failed = await IntentAsync("automatic");
        await ControlAsync($"/__fake/readers/{reader}/fail?code=api_error");
        await CallAsync(HttpMethod.Get, $"/v1/terminal/readers/{reader}");
        await CallAsync(HttpMethod.Post, $"/v1/payment_intents/{failed}/cancel", new() { ["cancellation_reason"] = "abandoned" });
        await CallAsync(HttpMethod.Post, $"/v1/terminal/readers/{reader}/cancel_action", []);

        var refund = await CallAsync(HttpMethod.Post, "/v1/refunds", new() { ["payment_intent"] = paid, ["amount"] = "300", ["metadata[fidpass_refund_request]"] = "r1" });
        await ControlAsync("/__fake/refunds/next?outcome=failed");
        await CallAsync(HttpMethod.Post, "/v1/refunds", new() { ["payment_intent"] = paid, ["amount"] = "200" });
        await Fidpass.Testing.Eventually.True(async () => (await CallAsync(HttpMethod.Get, $"/v1/refunds?payment_intent={paid}"))["data"]!.AsArray()
            .All(r => r!["status"]!.GetValue<string>() != "pending"), what: "refunds settled");
        await CallAsync(HttpMethod.Get, $"/v1/refunds/{refund["id"]!.GetValue<string>()}");
        await CallAsync(HttpMethod.Get, "/v1/terminal/readers");

        var violations = _answers.SelectMany(a => Violations(a.What, a.Body)).ToList();
        var events = fake.Webhooks.Events;
        Assert.Contains(events, e => e["type"]!.GetValue<string>() == "refund.failed");
        foreach (var evt in events)
        {
            var what = $"event {evt["type"]}";
            violations.AddRange(Spec.Validate(evt, "event").Select(e => $"{what}: {e}"));
            var payload = evt["data"]!["object"]!;
            if (Spec.Knows(payload["object"]!.GetValue<string>()))
            {
                violations.AddRange(Violations($"{what} data.object", payload));
            }
        }

        Assert.True(violations.Count == 0, string.Join('\n', violations));
    }

    [Fact]
    public void The_validator_refuses_what_Stripe_would_never_send()
    {
        var evt = JsonNode.Parse("""{"id":"evt_1","object":"event","account":null,"api_version":"2026-10-28.endive","created":1,"data":{"object":{}},"livemode":false,"pending_webhooks":1,"type":"x"}""");
        var intent = JsonNode.Parse("""{"id":"pi_1","object":"payment_intent","created":1,"livemode":false,"status":"paid","amount":"10","colour":"blue"}""");
        var token = JsonNode.Parse("""{"object":"terminal.connection_token","location":null}""");

        Assert.Contains(Spec.Validate(evt, "event"), e => e.Contains("event.account: null", StringComparison.Ordinal));
        var intentErrors = Spec.Validate(intent, "payment_intent");
        Assert.Contains(intentErrors, e => e.Contains(".amount", StringComparison.Ordinal));
        Assert.Contains(intentErrors, e => e.Contains(".colour", StringComparison.Ordinal));
        Assert.DoesNotContain(intentErrors, e => e.Contains(".status", StringComparison.Ordinal));
        Assert.Contains(Spec.Validate(token, "terminal.connection_token"), e => e.Contains("required secret", StringComparison.Ordinal));
        Assert.Contains(Spec.Validate(token, "terminal.connection_token"), e => e.Contains(".location: null", StringComparison.Ordinal));
    }
}
