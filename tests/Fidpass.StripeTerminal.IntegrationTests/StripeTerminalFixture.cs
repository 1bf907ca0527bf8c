using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fidpass.Contracts.Devices;
using Fidpass.Contracts.Payments;
using Fidpass.FakeStripe;
using Fidpass.Gateway;
using Fidpass.Gateway.IntegrationTests;
using Fidpass.Loyalty;
using Fidpass.Testing;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fidpass.StripeTerminal.IntegrationTests;

/// <summary>
/// Spec 6.2 as a till lives it: the real gateway in front of merchant-token, loyalty and
/// stripe-terminal (each on its real Program and a Kestrel port, against the fixture's PostgreSQL
/// database and RabbitMQ vhost), the fake Stripe on a loopback port delivering its webhooks through
/// the gateway, real merchants with real integration keys, and a test consumer counting what
/// stripe-terminal publishes.
/// </summary>
public class StripeTerminalFixture : GatewayFixture
{
    public const string WebhookSecret = "whsec_integration_tests_secret";

    /// <summary>The Connect endpoint's own secret: connected accounts' events are signed with it.</summary>
    public const string ConnectWebhookSecret = "whsec_integration_tests_connect_secret";

    /// <summary>A configured key (the fake accepts only it), so the logs can be searched for it.</summary>
    public const string SecretKey = "sk_test_51FidpassIntegration2b7d0c9e41f3";

    private WebApplication? _fake;
    private IBusControl? _bus;

    public KestrelHost<StripeTerminalApi> Service { get; private set; } = null!;

    /// <summary>Settings a derived fixture changes for its tests (applied after the defaults).</summary>
    protected virtual IReadOnlyDictionary<string, string> Overrides => new Dictionary<string, string>();
    public HttpClient Fake { get; private set; } = null!;
    public WebhookDispatcher Webhooks { get; private set; } = null!;
    public ConcurrentQueue<PaymentCollected> Collected { get; } = new();
    public ConcurrentQueue<PaymentRefunded> Refunded { get; } = new();
    public ConcurrentQueue<ReaderStatusChanged> ReaderStatuses { get; } = new();

    /// <summary>Everything stripe-terminal logs, at every level (Trace included).</summary>
    public LogCapture TraceLogs { get; } = new();

    /// <summary>stripe-terminal itself, not through the gateway: its <c>/metrics</c>, which the gateway does not expose.</summary>
    public HttpClient ServiceClient { get; private set; } = null!;

    protected override async Task StartServicesAsync()
    {
        _fake = FakeStripeServer.Build([
            "--urls", "http://127.0.0.1:0", "--FakeStripe:WebhookSecret", WebhookSecret, "--FakeStripe:ConnectWebhookSecret", ConnectWebhookSecret,
            "--FakeStripe:ApiKey", SecretKey, "--FakeStripe:RefundSettleMilliseconds", "300"]);
        await _fake.StartAsync();
        var fakeUri = new Uri(_fake.Urls.First());
        Fake = new HttpClient { BaseAddress = fakeUri };

        await base.StartServicesAsync();
        await AddServiceAsync<LoyaltyApi>("loyalty");
        Service = await AddServiceAsync<StripeTerminalApi>("stripe-terminal", host =>
        {
            host.With("Stripe:ApiBase", fakeUri.ToString().TrimEnd('/'))
                .With("Stripe:SecretKey", SecretKey)
                .With("Stripe:DemoReaders", "false")
                .With("Stripe:WebhookSecret", WebhookSecret)
                .With("Stripe:ConnectWebhookSecret", ConnectWebhookSecret)
                .With("Stripe:MaxNetworkRetries", "1")
                .With("Stripe:PollAfterSeconds", "1")
                .With("Stripe:PollIntervalMilliseconds", "300")
                // Tests run the reader status round themselves (ReaderStatusMonitor.PollAsync): no timing in them.
                .With("Stripe:ReaderStatusPollSeconds", "3600")
                .WithServices(services => services.AddLogging(logging => logging.AddProvider(TraceLogs).AddFilter<LogCapture>(null, LogLevel.Trace)));
            foreach (var (key, value) in Overrides)
            {
                host.With(key, value);
            }
        });
        ServiceClient = new HttpClient { BaseAddress = Service.Address };
    }

    /// <summary>Tills poll their sales: the per-credential limit is the gateway tests' business, not these.</summary>
    protected override void ConfigureGateway(KestrelHost<GatewayApp> gateway) =>
        gateway.With("RateLimits:PerCredential:PermitLimit", "1000000");

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();

        // Stripe's webhooks reach stripe-terminal the way they do in production: through the gateway.
        Webhooks = _fake!.Services.GetRequiredService<WebhookDispatcher>();
        Webhooks.Client = new HttpClient();
        Webhooks.Target = new Uri(Gateway.Address, "/webhooks/stripe");
        Webhooks.ConnectTarget = new Uri(Gateway.Address, "/webhooks/stripe/connect");

        _bus = Bus.Factory.CreateUsingRabbitMq(bus =>
        {
            bus.Host(new Uri(RabbitMq));
            bus.ReceiveEndpoint("stripe-terminal-tests", endpoint =>
            {
                endpoint.Handler<PaymentCollected>(context => { Collected.Enqueue(context.Message); return Task.CompletedTask; });
                endpoint.Handler<PaymentRefunded>(context => { Refunded.Enqueue(context.Message); return Task.CompletedTask; });
                endpoint.Handler<ReaderStatusChanged>(context => { ReaderStatuses.Enqueue(context.Message); return Task.CompletedTask; });
            });
        });
        await _bus.StartAsync(TestContext.Current.CancellationToken);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_bus is not null)
        {
            await _bus.StopAsync();
        }

        ServiceClient?.Dispose();
        await base.DisposeAsync();
        if (_fake is not null)
        {
            await _fake.StopAsync();
            await _fake.DisposeAsync();
        }

        Fake?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// A merchant created by the operator API and its till: a client on the gateway holding an
    /// integration key with <paramref name="scopes"/> (space separated), as an integrator installs it.
    /// </summary>
    public async Task<Merchant> NewMerchantAsync(string scopes = "terminal")
    {
        var created = await CreateMerchantAsync();
        var key = await IssueKeyAsync(created, scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var till = new HttpClient { BaseAddress = Gateway.Address };
        till.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
        var dashboard = new HttpClient { BaseAddress = Gateway.Address };
        dashboard.DefaultRequestHeaders.Add("X-Dashboard-Token", created.DashboardToken);
        return new Merchant(created.Id, created.Slug, till, dashboard, this);
    }

    public async Task<IReadOnlyList<JsonElement>> FakeRequestsAsync()
    {
        var all = await Fake.GetFromJsonAsync<JsonElement>("/__fake/requests", TestContext.Current.CancellationToken);
        return [.. all.EnumerateArray()];
    }

    /// <summary>
    /// Stripe calls that name one of <paramref name="ids"/> (reader, merchant, PaymentIntent): other
    /// tests' sales keep the poller reading Stripe meanwhile, so a plain count would not say "nothing sent".
    /// </summary>
    public async Task<int> StripeCallsAboutAsync(params string[] ids) =>
        (await FakeRequestsAsync()).Count(r => ids.Any(id => r.GetRawText().Contains(id, StringComparison.Ordinal)));

    public async Task<IReadOnlyList<JsonObject>> FakeEventsAsync() =>
        [.. (await Fake.GetFromJsonAsync<JsonArray>("/__fake/events", TestContext.Current.CancellationToken))!.Select(e => e!.AsObject())];

    public async Task ControlAsync(string pathAndQuery)
    {
        using var response = await Fake.PostAsync(new Uri(pathAndQuery, UriKind.Relative), null, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>A webhook as Stripe posts it: to the gateway, signed with <paramref name="signature"/>.</summary>
    public Task<HttpResponseMessage> PostWebhookAsync(string body, string signature, string path = "/webhooks/stripe")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("Stripe-Signature", signature);
        return Client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public Task PublishAsync<T>(T message)
        where T : class => _bus!.Publish(message, TestContext.Current.CancellationToken);

    public Task WebhookModeAsync(string mode) => ControlAsync($"/__fake/webhooks?mode={mode}");
}

/// <summary>A merchant's till (<paramref name="Http"/>, its integration key) and back office (<paramref name="Dashboard"/>, its dashboard token), both on the gateway.</summary>
public sealed record Merchant(Guid Id, string Slug, HttpClient Http, HttpClient Dashboard, StripeTerminalFixture Fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public Uri Route(string path) => new($"/api/v1/merchants/{Slug}/terminal/{path}", UriKind.Relative);

    public async Task<string> RegisterReaderAsync(string label = "Comptoir")
    {
        using var location = await Http.PostAsJsonAsync(Route("locations"),
            new { displayName = "Boutique", line1 = "1 rue de la Paix", city = "Paris", postalCode = "75002", country = "FR" }, Ct);
        location.EnsureSuccessStatusCode();
        var locationId = (await location.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString();
        using var reader = await Http.PostAsJsonAsync(Route("readers"), new { registrationCode = "simulated-wpe", label, locationId }, Ct);
        reader.EnsureSuccessStatusCode();
        return (await reader.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
    }

    public Task<HttpResponseMessage> PayAsync(object body) => Http.PostAsJsonAsync(Route("payments"), body, Ct);

    public async Task<JsonElement> PaymentAsync(string saleId) =>
        await Http.GetFromJsonAsync<JsonElement>(Route($"payments/{saleId}"), Ct);

    public Task<JsonElement> PaymentReachesAsync(string saleId, string status) =>
        Eventually.Get(() => PaymentAsync(saleId), p => p.GetProperty("status").GetString() == status, what: $"sale {saleId} {status}");

    /// <summary>A customer enrolled through the merchant's public page (loyalty's compatibility route): the member's card UUID.</summary>
    public async Task<Guid> EnrolMemberAsync()
    {
        using var enrolled = await Fixture.Client.PostAsJsonAsync($"/api/businesses/{Slug}/members",
            new { name = "Marie Curie", email = $"marie.{Guid.NewGuid():N}@example.fr" }, Ct);
        Assert.Equal(System.Net.HttpStatusCode.Created, enrolled.StatusCode);
        return (await enrolled.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("memberId").GetGuid();
    }

    /// <summary>The member's balance as loyalty answers an integrator's lookup through the gateway.</summary>
    public async Task<long> PointsAsync(Guid memberId) =>
        (await Dashboard.GetFromJsonAsync<JsonElement>($"/api/businesses/{Slug}/integration/lookup?barcode={memberId}", Ct))
            .GetProperty("member").GetProperty("points").GetInt64();

    public Task PointsReachAsync(Guid memberId, long expected) =>
        Eventually.True(async () => await PointsAsync(memberId) == expected, what: $"balance of {memberId} = {expected}");

    public async Task PresentCardAsync(string readerId, string number = "4242424242424242")
    {
        using var response = await Fixture.Fake.PostAsync(new Uri($"/__fake/readers/{readerId}/present?number={number}", UriKind.Relative), null, Ct);
        response.EnsureSuccessStatusCode();
    }
}
