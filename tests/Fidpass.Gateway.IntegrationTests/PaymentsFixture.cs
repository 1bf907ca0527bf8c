using Fidpass.CashlogyEdge;
using Fidpass.FakeStripe;
using Fidpass.Loyalty;
using Fidpass.StripeTerminal;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using ConnectorSimulator = Fidpass.CashlogySimulator.CashlogySimulator;

namespace Fidpass.Gateway.IntegrationTests;

/// <summary>
/// The whole payment-to-points path through the real gateway: merchant-token, loyalty,
/// stripe-terminal against the fake Stripe (webhooks delivered to the gateway) and cashlogy-edge
/// against the CashlogyConnector simulator over TCP.
/// </summary>
public sealed class PaymentsFixture : GatewayFixture
{
    public const string WebhookSecret = "whsec_gateway_payment_tests";
    private WebApplication _fakeStripe = null!;

    public HttpClient FakeStripe { get; private set; } = null!;
    public ConnectorSimulator Cash { get; private set; } = null!;

    protected override async Task StartServicesAsync()
    {
        _fakeStripe = FakeStripeServer.Build(["--urls", "http://127.0.0.1:0", "--FakeStripe:WebhookSecret", WebhookSecret]);
        await _fakeStripe.StartAsync();
        FakeStripe = new HttpClient { BaseAddress = new Uri(_fakeStripe.Urls.First()) };
        Cash = await ConnectorSimulator.StartAsync();

        await base.StartServicesAsync();
        await AddServiceAsync<LoyaltyApi>("loyalty");
        await AddServiceAsync<StripeTerminalApi>("stripe-terminal", host => host
            .With("Stripe:ApiBase", FakeStripe.BaseAddress!.ToString().TrimEnd('/'))
            .With("Stripe:WebhookSecret", WebhookSecret)
            .With("Stripe:PollAfterSeconds", "30"));
        await AddServiceAsync<CashlogyEdgeApi>("cashlogy-edge", host => host
            .AllowingLoopbackCashMachines()
            .With("Cashlogy:HealthPollInterval", "00:00:00.200")
            .With("Cashlogy:ReconnectDelay", "00:00:00.200"));
    }

    /// <summary>Stripe's webhooks reach stripe-terminal the way they do in production: through the gateway.</summary>
    public void DeliverWebhooksThroughGateway()
    {
        var webhooks = _fakeStripe.Services.GetRequiredService<WebhookDispatcher>();
        webhooks.Client = new HttpClient();
        webhooks.Target = new Uri(Gateway.Address, "/webhooks/stripe");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _fakeStripe.DisposeAsync();
        await Cash.DisposeAsync();
    }
}
