using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Fidpass.FakeStripe;
using Fidpass.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Fidpass.StripeTerminal.IntegrationTests;

/// <summary>
/// The fake's webhook delivery against an endpoint that misbehaves, as Stripe's does: an event that
/// got no answer in time or a 5xx is sent again later, and neither stops the events after it.
/// (A timed-out delivery once stopped the whole fake during a benchmark: its dispatcher threw.)
/// </summary>
public sealed class FakeStripeWebhookRetryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_event_left_unanswered_then_refused_with_a_503_is_delivered_again_and_later_events_still_arrive()
    {
        var attempts = new ConcurrentDictionary<string, int>();
        var order = new ConcurrentQueue<string>();
        string? first = null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var endpoint = builder.Build();
        endpoint.MapPost("/hook", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            var id = JsonNode.Parse(await reader.ReadToEndAsync())!["id"]!.GetValue<string>();
            var attempt = attempts.AddOrUpdate(id, 1, (_, n) => n + 1);
            order.Enqueue(id);
            Interlocked.CompareExchange(ref first, id, null);
            if (id == first && attempt == 1)
            {
                await Task.Delay(3000); // longer than the fake waits for an answer
            }

            return id == first && attempt == 2 ? Results.StatusCode(503) : Results.Ok();
        });
        await endpoint.StartAsync(Ct);

        await using var fake = FakeStripeServer.Build(["--urls", "http://127.0.0.1:0"]);
        await fake.StartAsync(Ct);
        var webhooks = fake.Services.GetRequiredService<WebhookDispatcher>();
        webhooks.Client = new HttpClient { Timeout = TimeSpan.FromMilliseconds(500) };
        webhooks.Target = new Uri(new Uri(endpoint.Urls.First()), "/hook");
        using var stripe = new HttpClient { BaseAddress = new Uri(fake.Urls.First()) };
        stripe.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sk_test_51FidpassWebhookRetryTests000000");

        await CreateIntentAsync(stripe, 1000);
        await Eventually.True(() => Task.FromResult(first is not null), what: "first event sent");
        var second = await CreateIntentAsync(stripe, 2000);

        // The first event: no answer in time, then 503, then taken; and no more after that.
        await Eventually.True(() => Task.FromResult(attempts.GetValueOrDefault(first!) == 3), within: TimeSpan.FromSeconds(20), what: "first event delivered a third time");
        await Task.Delay(2500, Ct);
        Assert.Equal(3, attempts[first!]);

        // The later event arrived once, before the first one's retries were over: not held up behind them.
        var secondEvent = Assert.Single(webhooks.Events, e => e["data"]?["object"]?["id"]?.GetValue<string>() == second)["id"]!.GetValue<string>();
        Assert.Equal(1, attempts.GetValueOrDefault(secondEvent));
        var sequence = order.ToList();
        Assert.True(sequence.IndexOf(secondEvent) < sequence.LastIndexOf(first!), string.Join(", ", sequence));

        // The fake is still serving its API.
        using var alive = await stripe.GetAsync(new Uri($"/v1/payment_intents/{second}", UriKind.Relative), Ct);
        Assert.True(alive.IsSuccessStatusCode);
    }

    private static async Task<string> CreateIntentAsync(HttpClient stripe, long amount)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["amount"] = amount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["currency"] = "eur",
            ["allowed_payment_method_types[0]"] = "card_present",
            ["capture_method"] = "automatic",
        });
        using var response = await stripe.PostAsync(new Uri("/v1/payment_intents", UriKind.Relative), form, Ct);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;
        Assert.True(response.IsSuccessStatusCode, body.ToJsonString());
        return body["id"]!.GetValue<string>();
    }
}
