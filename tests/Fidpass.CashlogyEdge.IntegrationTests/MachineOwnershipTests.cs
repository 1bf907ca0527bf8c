using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.CashlogyEdge.Sessions;
using Fidpass.ServiceDefaults;
using Fidpass.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using ConnectorSimulator = Fidpass.CashlogySimulator.CashlogySimulator;

namespace Fidpass.CashlogyEdge.IntegrationTests;

/// <summary>
/// Two cashlogy-edge replicas on one database and one cash machine: exactly one talks to the
/// machine, and when it goes (stopped, or its database session killed as by <c>kill -9</c>) the
/// other takes the machine, settles a sale on it and is still the only client the Connector has.
/// </summary>
public sealed class MachineOwnershipTests(EdgeFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // These tests are about who owns the machine, not how fast: two replicas, a simulator and a sale
    // on a loaded 2-core CI machine once took longer than 30 s where a quiet run takes 1-5 s.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private sealed record Replicas(ServiceHost<CashlogyEdgeApi> First, ServiceHost<CashlogyEdgeApi> Second, ConnectorSimulator Simulator, Guid Merchant, string Slug, Guid MachineId, string Database);

    private async Task<Replicas> TwoReplicasAndOneMachineAsync()
    {
        var database = await TestServers.CreateDatabaseAsync("cashlogy_owner");
        var simulator = await ConnectorSimulator.StartAsync();
        var first = fixture.CreateHost(database);
        var merchant = Guid.NewGuid();
        var slug = "epicerie-" + Guid.NewGuid().ToString("N")[..6];
        using var http = Client(first, merchant, slug);
        var created = await http.PostAsJsonAsync($"/api/v1/merchants/{slug}/cash/machines",
            new { name = "Caisse", host = "127.0.0.1", port = simulator.Port, tillCode = "1", mode = "express" }, Ct);
        var machineId = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        await WaitReadyAsync(http, slug, machineId);
        var second = fixture.CreateHost(database);
        _ = second.Server;
        return new Replicas(first, second, simulator, merchant, slug, machineId, database);
    }

    private static MachineSessions Sessions(ServiceHost<CashlogyEdgeApi> host) => host.Services.GetRequiredService<MachineSessions>();

    private static HttpClient Client(ServiceHost<CashlogyEdgeApi> host, Guid merchant, string slug)
    {
        var http = host.CreateClient();
        Till.Identify(http, merchant, slug, "cash");
        return http;
    }

    private static Task WaitReadyAsync(HttpClient http, string slug, Guid machineId) =>
        Eventually.True(async () => (await http.GetFromJsonAsync<JsonElement>($"/api/v1/merchants/{slug}/cash/machines/{machineId}", Ct))
            .GetProperty("status").GetString() == "ready", within: Patience, what: "machine ready");

    /// <summary>Watches the simulator until disposed and remembers the most clients it ever had at once.</summary>
    private sealed class ClientWatch : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _watching;

        public ClientWatch(ConnectorSimulator simulator) => _watching = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Most = Math.Max(Most, simulator.ConnectedClients);
                await Task.Delay(10);
            }
        });

        public int Most { get; private set; }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _watching;
            _stop.Dispose();
        }
    }

    private static async Task SettleASaleAsync(HttpClient http, Replicas r, string requestId)
    {
        var charge = await http.PostAsJsonAsync($"/api/v1/merchants/{r.Slug}/cash/machines/{r.MachineId}/charges", new { requestId, amount = 500 }, Ct);
        var json = await charge.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(charge.StatusCode == System.Net.HttpStatusCode.Accepted, json.ToString());
        var operationId = json.GetProperty("operationId").GetGuid();
        await Eventually.True(() => Task.FromResult(r.Simulator.State == Fidpass.CashlogySimulator.SimulatorState.Charging), within: Patience, what: "charging");
        r.Simulator.Insert(500);
        await Eventually.Get(() => http.GetFromJsonAsync<JsonElement>($"/api/v1/merchants/{r.Slug}/cash/operations/{operationId}", Ct),
            o => o.GetProperty("status").GetString() == "settled", within: Patience, what: "sale settled");
    }

    [Fact]
    public async Task Only_one_replica_talks_to_the_machine_and_the_other_takes_it_when_the_first_stops()
    {
        var r = await TwoReplicasAndOneMachineAsync();
        await using var simulator = r.Simulator;
        await using var second = r.Second;
        await using (var watch = new ClientWatch(r.Simulator))
        {
            await Task.Delay(AdvisoryLockSession.TakeoverDelay + TimeSpan.FromSeconds(2), Ct);
            Assert.Equal([r.MachineId], Sessions(r.First).Owned);
            Assert.Empty(Sessions(second).Owned);
            Assert.Null(Sessions(second).Get(r.MachineId));

            await r.First.DisposeAsync();
            await Eventually.True(() => Task.FromResult(Sessions(second).Owned.Contains(r.MachineId)), within: Patience, what: "the second replica takes the machine");
            using var http = Client(second, r.Merchant, r.Slug);
            await WaitReadyAsync(http, r.Slug, r.MachineId);
            await SettleASaleAsync(http, r, "owner-1");
            Assert.Equal(1, watch.Most);
        }
    }

    [Fact]
    public async Task When_the_owners_database_session_dies_it_drops_the_machine_and_the_other_replica_takes_it()
    {
        var r = await TwoReplicasAndOneMachineAsync();
        await using var simulator = r.Simulator;
        await using var first = r.First;
        await using var second = r.Second;
        await Task.Delay(AdvisoryLockSession.TakeoverDelay + TimeSpan.FromSeconds(2), Ct);
        Assert.Empty(Sessions(second).Owned);

        await using (var watch = new ClientWatch(r.Simulator))
        {
            await using (var connection = new NpgsqlConnection(r.Database))
            {
                await connection.OpenAsync(Ct);
                await using var terminate = new NpgsqlCommand(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = @name AND datname = current_database()", connection);
                terminate.Parameters.AddWithValue("name", Sessions(first).ApplicationName);
                Assert.Equal(1L, await terminate.ExecuteScalarAsync(Ct));
            }

            await Eventually.True(() => Task.FromResult(Sessions(second).Owned.Contains(r.MachineId)), within: Patience, what: "the second replica takes the machine");
            Assert.Null(Sessions(first).Get(r.MachineId));
            using var http = Client(second, r.Merchant, r.Slug);
            await WaitReadyAsync(http, r.Slug, r.MachineId);
            await SettleASaleAsync(http, r, "owner-2");
            await Task.Delay(AdvisoryLockSession.TakeoverDelay, Ct);
            Assert.Empty(Sessions(first).Owned);
            Assert.Equal(1, watch.Most);
        }
    }

}
