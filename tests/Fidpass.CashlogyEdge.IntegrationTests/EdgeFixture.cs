using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using ConnectorSimulator = Fidpass.CashlogySimulator.CashlogySimulator;
using Fidpass.CashlogyEdge.Sessions;
using Fidpass.Contracts.Devices;
using Fidpass.Contracts.Payments;
using Fidpass.ServiceDefaults;
using Fidpass.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

[assembly: AssemblyFixture(typeof(Fidpass.CashlogyEdge.IntegrationTests.EdgeFixture))]

namespace Fidpass.CashlogyEdge.IntegrationTests;

/// <summary>
/// One cashlogy-edge on real PostgreSQL and RabbitMQ (own database and vhost) for the whole run, and
/// a test consumer on the same vhost counting what the edge publishes. Each test gets its own merchant,
/// machine and simulator, so tests never see each other's money.
/// </summary>
public sealed class EdgeFixture : IAsyncLifetime
{
    public ServiceHost<CashlogyEdgeApi> Host { get; private set; } = null!;

    public ConcurrentBag<PaymentCollected> Collected { get; } = [];

    public ConcurrentBag<PaymentRefunded> Refunded { get; } = [];

    public ConcurrentBag<CashMachineStatusChanged> StatusChanges { get; } = [];

    private IBusControl? _bus;

    public string RabbitMq { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        var postgres = await TestServers.CreateDatabaseAsync("cashlogy");
        var rabbit = await TestServers.CreateVirtualHostAsync("cashlogy");
        RabbitMq = rabbit;
        _bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(new Uri(rabbit));
            cfg.ReceiveEndpoint("cashlogy-tests-observer", e =>
            {
                e.Handler<PaymentCollected>(ctx =>
                {
                    Collected.Add(ctx.Message);
                    return Task.CompletedTask;
                });
                e.Handler<PaymentRefunded>(ctx =>
                {
                    Refunded.Add(ctx.Message);
                    return Task.CompletedTask;
                });
                e.Handler<CashMachineStatusChanged>(ctx =>
                {
                    StatusChanges.Add(ctx.Message);
                    return Task.CompletedTask;
                });
            });
        });
        await _bus.StartAsync();
        Host = CreateHost(postgres);
        _ = Host.Server;
    }

    /// <summary>An edge on <paramref name="postgres"/> with the fast timings tests use; the fixture's own host is one of these.</summary>
    public ServiceHost<CashlogyEdgeApi> CreateHost(string postgres) =>
        new ServiceHost<CashlogyEdgeApi>().WithInfrastructure(postgres, RabbitMq)
            .AllowingLoopbackCashMachines()
            .With("Cashlogy:HealthPollInterval", "00:00:00.150")
            .With("Cashlogy:ReconnectDelay", "00:00:00.150")
            .With("Cashlogy:MaxReconnectDelay", "00:00:00.500")
            .With("Cashlogy:HeadlessPollInterval", "00:00:00.050")
            .With("Cashlogy:MaintenanceCheckInterval", "00:00:00.500")
            .With("Cashlogy:Timeouts:Quiet", "00:00:00.150")
            .With("Cashlogy:Timeouts:Connect", "00:00:01")
            .With("Cashlogy:Timeouts:Dispense", "00:00:01.500");

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        if (_bus is not null)
        {
            await _bus.StopAsync();
        }
    }
}

/// <summary>A merchant with one machine on its own simulator, and the calls a till makes through the gateway.</summary>
public sealed class Till : IAsyncDisposable
{
    private Till(EdgeFixture fixture, ConnectorSimulator simulator, HttpClient http, string slug)
    {
        Fixture = fixture;
        Simulator = simulator;
        Http = http;
        Slug = slug;
    }

    public EdgeFixture Fixture { get; }

    public ConnectorSimulator Simulator { get; }

    public HttpClient Http { get; }

    public string Slug { get; }

    public Guid MerchantId { get; private set; } = Guid.NewGuid();

    public Guid MachineId { get; private set; }

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The till's signed-in user for back-office operations (the machine's default allowed role).</summary>
    public static readonly object Manager = new { id = "U-12", role = "manager" };

    public static readonly object Cashier = new { id = "U-31", role = "cashier" };

    public static async Task<Till> OpenAsync(EdgeFixture fixture, string mode = "express", Action<ConnectorSimulator>? prepare = null)
    {
        var simulator = await ConnectorSimulator.StartAsync();
        prepare?.Invoke(simulator);
        var slug = "cafe-" + Guid.NewGuid().ToString("N")[..8];
        var till = new Till(fixture, simulator, fixture.Host.CreateClient(), slug);
        Identify(till.Http, till.MerchantId, slug, "cash");
        var created = await till.Http.PostAsJsonAsync($"/api/v1/merchants/{slug}/cash/machines",
            new { name = "Caisse 1", host = "127.0.0.1", port = simulator.Port, tillCode = "TPV", mode }, Ct);
        Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        till.MachineId = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        await till.WaitForStatusAsync("ready");
        return till;
    }

    public static void Identify(HttpClient http, Guid merchantId, string slug, string scopes, string kind = GatewayIdentity.IntegrationKey)
    {
        http.DefaultRequestHeaders.Remove(GatewayIdentity.MerchantIdHeader);
        http.DefaultRequestHeaders.Remove(GatewayIdentity.MerchantSlugHeader);
        http.DefaultRequestHeaders.Remove(GatewayIdentity.CredentialKindHeader);
        http.DefaultRequestHeaders.Remove(GatewayIdentity.ScopesHeader);
        http.DefaultRequestHeaders.Add(GatewayIdentity.MerchantIdHeader, merchantId.ToString());
        http.DefaultRequestHeaders.Add(GatewayIdentity.MerchantSlugHeader, slug);
        http.DefaultRequestHeaders.Add(GatewayIdentity.CredentialKindHeader, kind);
        http.DefaultRequestHeaders.Add(GatewayIdentity.ScopesHeader, scopes);
    }

    public string Machine => $"/api/v1/merchants/{Slug}/cash/machines/{MachineId}";

    public async Task<JsonElement> GetJsonAsync(string path) =>
        await (await Http.GetAsync(new Uri(path, UriKind.Relative), Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);

    public Task WaitForStatusAsync(string status) =>
        Eventually.True(async () => (await GetJsonAsync(Machine)).GetProperty("status").GetString() == status, what: $"machine {status}");

    public Task<HttpResponseMessage> PostAsync(string path, object body) => Http.PostAsJsonAsync(path, body, Ct);

    /// <summary>Starts an operation and returns its id (202 expected).</summary>
    public async Task<Guid> StartAsync(string path, object body)
    {
        var response = await PostAsync(path, body);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, json.ToString());
        return json.GetProperty("operationId").GetGuid();
    }

    public async Task<Guid> ChargeAsync(long amount, string requestId, object? extra = null)
    {
        var body = new Dictionary<string, object?> { ["requestId"] = requestId, ["amount"] = amount };
        if (extra is not null)
        {
            foreach (var p in extra.GetType().GetProperties())
            {
                body[p.Name] = p.GetValue(extra);
            }
        }

        var response = await PostAsync($"{Machine}/charges", body);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, json.ToString());
        return json.GetProperty("operationId").GetGuid();
    }

    public string Operation(Guid id) => $"/api/v1/merchants/{Slug}/cash/operations/{id}";

    public Task<JsonElement> SettledAsync(Guid operationId) =>
        Eventually.Get(() => GetJsonAsync(Operation(operationId)), op => op.GetProperty("status").GetString() == "settled", what: "operation settled");

    public Task WaitForScreenAsync(Fidpass.CashlogySimulator.SimulatorState state) =>
        Eventually.True(() => Task.FromResult(Simulator.State == state), what: $"simulator {state}");

    public int Sent(string command) => Simulator.Received.Count(f => f.StartsWith($"#{command}#", StringComparison.Ordinal));

    public string PaymentId(Guid operationId) => $"cash:{MachineId}:{operationId}";

    public async Task<PaymentCollected> PaymentAsync(Guid operationId)
    {
        var paymentId = PaymentId(operationId);
        await Eventually.True(() => Task.FromResult(Fixture.Collected.Any(p => p.PaymentId == paymentId)), what: "PaymentCollected");
        return Fixture.Collected.Single(p => p.PaymentId == paymentId);
    }

    /// <summary>
    /// Stops the edge's session with this machine before its simulator goes: a session left behind
    /// keeps reconnecting to the closed port, and when the OS hands that port to a later test's
    /// simulator, it takes the simulator's single client slot and that test's machine never gets ready.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Fixture.Host.Services.GetRequiredService<MachineSessions>().CloseAsync(MachineId);
        await Simulator.DisposeAsync();
    }
}
