using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Stripe;

namespace Fidpass.FakeStripe;

public sealed class FakeStripeOptions
{
    /// <summary>Where events are POSTed (the service's <c>/webhooks/stripe</c>); empty: events are only stored.</summary>
    public string? WebhookUrl { get; set; }
    public string WebhookSecret { get; set; } = "whsec_fidpass_fake_local_secret";

    /// <summary>
    /// Where connected accounts' events go (the Connect endpoint, its own secret), as Stripe sends
    /// them (https://docs.stripe.com/connect/webhooks). Empty: they are stored, not delivered, as at Stripe without a Connect endpoint.
    /// </summary>
    public string? ConnectWebhookUrl { get; set; }
    public string ConnectWebhookSecret { get; set; } = "whsec_fidpass_fake_connect_secret";

    /// <summary>How long a refund stays <c>pending</c> before it settles.</summary>
    public int RefundSettleMilliseconds { get; set; } = 300;
    public string ApiVersion { get; set; } = "2026-10-28.endive";

    /// <summary>When set, only this exact key is accepted; otherwise any <c>sk_test_…</c> key.</summary>
    public string? ApiKey { get; set; }

    /// <summary>How long a presented card authorises; the reader answers <c>terminal_reader_busy</c> meanwhile.</summary>
    public int AuthorizingMilliseconds { get; set; }

    /// <summary>Terminal test amounts: the cents decide the outcome (.01 call_issuer, .05 generic_decline, …).</summary>
    public bool HonourTestAmounts { get; set; } = true;
    public int? Seed { get; set; }
}

/// <summary>How events reach the endpoint; switched at run time through <c>POST /__fake/webhooks</c>.</summary>
public sealed class WebhookSettings
{
    /// <summary><c>normal</c>, <c>duplicate</c> (each event three times), <c>reorder</c> (each batch backwards), <c>drop</c>.</summary>
    public string Mode { get; set; } = "normal";
    public int DelayMilliseconds { get; set; }

    /// <summary><c>valid</c>, <c>bad</c> (one byte changed), <c>stale</c> (timestamp 1000 s old), <c>wrong_secret</c>.</summary>
    public string Signature { get; set; } = "valid";
    public string? ApiVersion { get; set; }
}

/// <summary>
/// Stripe's delivery model: at least once, order not guaranteed, asynchronous to the API call that
/// caused it, each POST signed <c>t=…,v1=HMAC-SHA256(secret, "t.payload")</c>.
/// </summary>
public sealed class WebhookDispatcher(FakeStripeOptions options, TimeProvider clock, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    private readonly Channel<List<JsonObject>> _queue = Channel.CreateUnbounded<List<JsonObject>>();
    private readonly List<JsonObject> _events = [];
    private readonly Lock _eventsLock = new();

    public WebhookSettings Settings { get; set; } = new();

    /// <summary>Tests point this at a service hosted in-process; default: a plain HttpClient.</summary>
    public HttpClient Client { get; set; } = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>Overrides <see cref="FakeStripeOptions.WebhookUrl"/> at run time.</summary>
    public Uri? Target { get; set; }

    /// <summary>Overrides <see cref="FakeStripeOptions.ConnectWebhookUrl"/> at run time.</summary>
    public Uri? ConnectTarget { get; set; }

    private int _delivered;

    public int Delivered => Volatile.Read(ref _delivered);

    public IReadOnlyList<JsonObject> Events
    {
        get
        {
            lock (_eventsLock)
            {
                return [.. _events.Select(e => (JsonObject)e.DeepClone())];
            }
        }
    }

    public JsonObject? Find(string id)
    {
        lock (_eventsLock)
        {
            return _events.FirstOrDefault(e => e["id"]!.GetValue<string>() == id);
        }
    }

    public void Enqueue(List<JsonObject> batch)
    {
        lock (_eventsLock)
        {
            _events.AddRange(batch);
        }

        _queue.Writer.TryWrite([.. batch.Select(e => (JsonObject)e.DeepClone())]);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var batch in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            var settings = Settings;
            if (settings.Mode == "drop")
            {
                continue;
            }

            if (settings.DelayMilliseconds > 0)
            {
                await Task.Delay(settings.DelayMilliseconds, stoppingToken);
            }

            IEnumerable<JsonObject> order = settings.Mode == "reorder" ? Enumerable.Reverse(batch) : batch;
            foreach (var evt in order)
            {
                var copies = settings.Mode == "duplicate" ? 3 : 1;
                for (var i = 0; i < copies; i++)
                {
                    if (await DeliverAsync(evt, settings, stoppingToken) is 0 or >= 500)
                    {
                        _ = RetryAsync(evt, settings, stoppingToken);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Like Stripe, an event the endpoint did not take (no answer in time, connection refused, 5xx) is
    /// sent again later, with back-off, while the next events go on; Stripe keeps trying for days,
    /// this fake for about half a minute (1, 2, 4, 8, 16 s).
    /// </summary>
    private async Task RetryAsync(JsonObject evt, WebhookSettings settings, CancellationToken stoppingToken)
    {
        try
        {
            for (var delay = 1; delay <= 16; delay *= 2)
            {
                await Task.Delay(TimeSpan.FromSeconds(delay), stoppingToken);
                if (await DeliverAsync(evt, settings, stoppingToken) is > 0 and < 500)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Sends one event now (also used to re-deliver an old event late). 0 when it got no answer.</summary>
    public async Task<int> DeliverAsync(JsonObject evt, WebhookSettings settings, CancellationToken cancellationToken)
    {
        var connected = evt["account"] is not null;
        var target = connected
            ? ConnectTarget ?? (string.IsNullOrWhiteSpace(options.ConnectWebhookUrl) ? null : new Uri(options.ConnectWebhookUrl))
            : Target ?? (string.IsNullOrWhiteSpace(options.WebhookUrl) ? null : new Uri(options.WebhookUrl));
        if (target is null)
        {
            return 0;
        }

        var secret = connected ? options.ConnectWebhookSecret : options.WebhookSecret;

        var payload = evt.ToJsonString();
        var type = evt["type"]!.GetValue<string>();
        var id = evt["id"]!.GetValue<string>();
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        var header = settings.Signature switch
        {
            "stale" => EventUtility.GenerateSignatureHeader(payload, secret, now - 1000),
            "wrong_secret" => EventUtility.GenerateSignatureHeader(payload, "whsec_not_the_endpoint_secret", now),
            _ => EventUtility.GenerateSignatureHeader(payload, secret, now),
        };
        var body = settings.Signature == "bad" ? payload + " " : payload;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, target)
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            request.Headers.TryAddWithoutValidation("Stripe-Signature", header);
            request.Headers.TryAddWithoutValidation("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)");
            using var response = await Client.SendAsync(request, cancellationToken);
            Interlocked.Increment(ref _delivered);
            var status = (int)response.StatusCode;
            if (logger.IsEnabled(LogLevel.Information))
            {
                logger.LogInformation("Webhook {Type} {Id} → {Status}", type, id, status);
            }

            return status;
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Refused, or no answer within the client's timeout: not delivered, and the dispatcher goes on.
            logger.LogWarning("Webhook {Type} {Id} not delivered: {Error}", type, id, ex.Message);
            return 0;
        }
    }
}
