using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.CashlogyEdge;
using Fidpass.FakeStripe;
using Fidpass.Loyalty;
using Fidpass.MerchantToken;
using Fidpass.ServiceDefaults;
using Fidpass.StripeTerminal;
using Fidpass.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;
using ConnectorSimulator = Fidpass.CashlogySimulator.CashlogySimulator;

namespace Fidpass.Fuzz.IntegrationTests;

/// <summary>One service under fuzzing: how to call it as the gateway would, and where its state lives.</summary>
public sealed record FuzzTarget(string Name, string Schema, string Postgres, Func<HttpClient> CreateClient, IReadOnlyDictionary<string, string> KnownIds);

/// <summary>
/// Every service on its real Program, each on its own database and RabbitMQ virtual host, with one
/// merchant and a few real resources (a member, a cash machine on the simulator) so that path
/// parameters lead somewhere. Stripe is the fake Stripe on a loopback port.
/// </summary>
public sealed class FuzzFixture : IAsyncLifetime
{
    private const string AdminKey = "fuzz-operator-key-5f1c";
    private const string WebhookSecret = "whsec_fuzz";
    private readonly List<IAsyncDisposable> _owned = [];
    private WebApplication? _fakeStripe;

    public Guid MerchantId { get; private set; }
    public string Slug { get; private set; } = "";
    public Dictionary<string, FuzzTarget> Targets { get; } = new(StringComparer.Ordinal);

    public async ValueTask InitializeAsync()
    {
        _fakeStripe = FakeStripeServer.Build(["--urls", "http://127.0.0.1:0", "--FakeStripe:WebhookSecret", WebhookSecret]);
        await _fakeStripe.StartAsync();
        var simulator = await ConnectorSimulator.StartAsync();
        _owned.Add(simulator);

        var (merchantToken, mtDb) = await StartAsync<MerchantTokenApi>("merchant_token", host => host.With("FIDPASS_ADMIN_KEY", AdminKey));
        var (loyalty, loyaltyDb) = await StartAsync<LoyaltyApi>("loyalty", _ => { });
        var (terminal, terminalDb) = await StartAsync<StripeTerminalApi>("stripe_terminal", host => host
            .With("Stripe:ApiBase", _fakeStripe.Urls.First().TrimEnd('/'))
            .With("Stripe:WebhookSecret", WebhookSecret)
            .With("Stripe:DemoReaders", "false")
            .With("Stripe:MaxNetworkRetries", "0")
            .With("Stripe:ReaderStatusPollSeconds", "3600"));
        var (cash, cashDb) = await StartAsync<CashlogyEdgeApi>("cashlogy", host => host
            .AllowingLoopbackCashMachines()
            .With("Cashlogy:HealthPollInterval", "00:00:01")
            .With("Cashlogy:Timeouts:Connect", "00:00:01"));

        using (var admin = merchantToken.CreateClient())
        {
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
            var created = await admin.PostAsJsonAsync("/api/v1/admin/merchants",
                new { name = "Café du Fuzz", email = "fuzz@example.fr", slug = "cafe-fuzz" }, TestContext.Current.CancellationToken);
            var body = await created.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
            MerchantId = body.GetProperty("id").GetGuid();
            Slug = body.GetProperty("slug").GetString()!;
        }

        var ids = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["slug"] = Slug };
        using (var client = Identified(loyalty.CreateClient()))
        {
            var enrolled = await client.PostAsJsonAsync($"/api/businesses/{Slug}/members",
                new { name = "Jeanne Martin", email = "jeanne@example.fr" }, TestContext.Current.CancellationToken);
            ids["memberId"] = (await enrolled.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("memberId").GetString()!;
        }

        using (var client = Identified(cash.CreateClient()))
        {
            // Best effort: a deployment may refuse loopback machine addresses; the fuzz then uses unknown ids.
            var machine = await client.PostAsJsonAsync($"/api/v1/merchants/{Slug}/cash/machines",
                new { name = "Caisse 1", host = "127.0.0.1", port = simulator.Port, tillCode = "TPV", mode = "express" }, TestContext.Current.CancellationToken);
            if (machine.IsSuccessStatusCode)
            {
                ids["machineId"] = (await machine.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetString()!;
            }
        }

        Targets["merchant-token"] = new("merchant-token", "merchant_token", mtDb, () => Identified(merchantToken.CreateClient()), ids);
        Targets["loyalty"] = new("loyalty", "loyalty", loyaltyDb, () => Identified(loyalty.CreateClient()), ids);
        Targets["stripe-terminal"] = new("stripe-terminal", "stripe_terminal", terminalDb, () => Identified(terminal.CreateClient()), ids);
        Targets["cashlogy-edge"] = new("cashlogy-edge", "cashlogy_edge", cashDb, () => Identified(cash.CreateClient()), ids);
    }

    /// <summary>The most powerful caller the gateway lets through: the merchant's own dashboard token.</summary>
    private HttpClient Identified(HttpClient client)
    {
        client.DefaultRequestHeaders.Add(GatewayIdentity.MerchantIdHeader, MerchantId.ToString());
        client.DefaultRequestHeaders.Add(GatewayIdentity.MerchantSlugHeader, Slug);
        client.DefaultRequestHeaders.Add(GatewayIdentity.CredentialKindHeader, GatewayIdentity.DashboardToken);
        client.DefaultRequestHeaders.Add(GatewayIdentity.ScopesHeader, "");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        client.Timeout = TimeSpan.FromSeconds(30);
        return client;
    }

    private async Task<(WebApplicationFactory<T> Host, string Postgres)> StartAsync<T>(string name, Action<ServiceHost<T>> configure)
        where T : class
    {
        var postgres = await TestServers.CreateDatabaseAsync("fuzz_" + name);
        var host = new ServiceHost<T>().WithInfrastructure(postgres, await TestServers.CreateVirtualHostAsync("fuzz-" + name));
        configure(host);
        await host.StartedAsync();
        _owned.Add(host);
        return (host, postgres);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }

        if (_fakeStripe is not null)
        {
            await _fakeStripe.DisposeAsync();
        }

        NpgsqlConnection.ClearAllPools();
    }
}
