using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fidpass.Contracts.Payments;
using Fidpass.FakeStripe;
using Fidpass.ServiceDefaults;
using Fidpass.Testing;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Fidpass.StripeTerminal.IntegrationTests;

/// <summary>
/// The fake Stripe on a real loopback port, stripe-terminal on its real Program against its own
/// PostgreSQL database and RabbitMQ vhost, the fake's webhooks delivered to the service, and a test
/// consumer counting what the service publishes.
/// </summary>
public sealed class StripeTerminalFixture : IAsyncLifetime
{
    public const string WebhookSecret = "whsec_integration_tests_secret";

    private WebApplication? _fake;
    private IBusControl? _bus;

    public ServiceHost<StripeTerminalApi> Service { get; private set; } = null!;
    public HttpClient Fake { get; private set; } = null!;
    public WebhookDispatcher Webhooks { get; private set; } = null!;
    public ConcurrentQueue<PaymentCollected> Collected { get; } = new();
    public ConcurrentQueue<PaymentRefunded> Refunded { get; } = new();

    public async ValueTask InitializeAsync()
    {
        _fake = FakeStripeServer.Build(["--urls", "http://127.0.0.1:0", "--FakeStripe:WebhookSecret", WebhookSecret]);
        await _fake.StartAsync();
        var fakeUri = new Uri(_fake.Urls.First());
        Fake = new HttpClient { BaseAddress = fakeUri };

        var postgres = await TestServers.CreateDatabaseAsync("stripe_terminal");
        var rabbit = await TestServers.CreateVirtualHostAsync("stripe-terminal");
        Service = new ServiceHost<StripeTerminalApi>()
            .WithInfrastructure(postgres, rabbit)
            .With("Stripe:ApiBase", fakeUri.ToString().TrimEnd('/'))
            .With("Stripe:WebhookSecret", WebhookSecret)
            .With("Stripe:MaxNetworkRetries", "1")
            .With("Stripe:PollAfterSeconds", "1")
            .With("Stripe:PollIntervalMilliseconds", "300");
        _ = Service.Server;

        Webhooks = _fake.Services.GetRequiredService<WebhookDispatcher>();
        Webhooks.Client = Service.CreateClient();
        Webhooks.Target = new Uri(Service.Server.BaseAddress, "/webhooks/stripe");

        _bus = Bus.Factory.CreateUsingRabbitMq(bus =>
        {
            bus.Host(new Uri(rabbit));
            bus.ReceiveEndpoint("stripe-terminal-tests", endpoint =>
            {
                endpoint.Handler<PaymentCollected>(context => { Collected.Enqueue(context.Message); return Task.CompletedTask; });
                endpoint.Handler<PaymentRefunded>(context => { Refunded.Enqueue(context.Message); return Task.CompletedTask; });
            });
        });
        await _bus.StartAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_bus is not null)
        {
            await _bus.StopAsync();
        }

        await Service.DisposeAsync();
        if (_fake is not null)
        {
            await _fake.StopAsync();
            await _fake.DisposeAsync();
        }

        Fake.Dispose();
    }

    /// <summary>A till or dashboard of one merchant, as the gateway forwards it.</summary>
    public Merchant NewMerchant(string scopes = "terminal")
    {
        var id = Guid.NewGuid();
        var slug = $"cafe-{id.ToString("N")[..8]}";
        var client = Service.CreateClient();
        client.DefaultRequestHeaders.Add(GatewayIdentity.MerchantIdHeader, id.ToString());
        client.DefaultRequestHeaders.Add(GatewayIdentity.MerchantSlugHeader, slug);
        client.DefaultRequestHeaders.Add(GatewayIdentity.CredentialKindHeader, GatewayIdentity.IntegrationKey);
        client.DefaultRequestHeaders.Add(GatewayIdentity.ScopesHeader, scopes);
        return new Merchant(id, slug, client, this);
    }

    public async Task<IReadOnlyList<JsonElement>> FakeRequestsAsync()
    {
        var all = await Fake.GetFromJsonAsync<JsonElement>("/__fake/requests", TestContext.Current.CancellationToken);
        return [.. all.EnumerateArray()];
    }

    public async Task<IReadOnlyList<JsonObject>> FakeEventsAsync() =>
        [.. (await Fake.GetFromJsonAsync<JsonArray>("/__fake/events", TestContext.Current.CancellationToken))!.Select(e => e!.AsObject())];

    public async Task ControlAsync(string pathAndQuery)
    {
        using var response = await Fake.PostAsync(new Uri(pathAndQuery, UriKind.Relative), null, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    public Task PublishAsync<T>(T message)
        where T : class => _bus!.Publish(message, TestContext.Current.CancellationToken);

    public Task WebhookModeAsync(string mode) => ControlAsync($"/__fake/webhooks?mode={mode}");
}

public sealed record Merchant(Guid Id, string Slug, HttpClient Http, StripeTerminalFixture Fixture)
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

    public async Task PresentCardAsync(string readerId, string number = "4242424242424242")
    {
        using var response = await Fixture.Fake.PostAsync(new Uri($"/__fake/readers/{readerId}/present?number={number}", UriKind.Relative), null, Ct);
        response.EnsureSuccessStatusCode();
    }
}
