using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.CashlogyEdge.Protocol;
using Fidpass.CashlogyEdge.Sessions;
using Fidpass.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ConnectorSimulator = Fidpass.CashlogySimulator.CashlogySimulator;

namespace Fidpass.CashlogyEdge.IntegrationTests;

/// <summary>
/// A machine's session and the replica's ownership loop outlive whatever fails around them (the
/// store, one unreadable machine): a machine that answers is ready and stays so.
/// </summary>
public sealed class SessionResilienceTests(EdgeFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_session_whose_ready_callback_fails_keeps_watching_the_machine_and_reconnects_when_the_link_drops()
    {
        await using var simulator = await ConnectorSimulator.StartAsync();
        var statuses = new ConcurrentQueue<SessionStatus>();
        var readyCalls = 0;
        var settings = new SessionSettings("127.0.0.1", simulator.Port, new CashlogyTimeouts { Connect = TimeSpan.FromSeconds(1), Quiet = TimeSpan.FromMilliseconds(150) },
            TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(500), TimeSpan.FromMinutes(1));
        await using var session = new ConnectorSession(Guid.NewGuid(), settings, NullLogger.Instance,
            (status, _) =>
            {
                statuses.Enqueue(status);
                return Task.CompletedTask;
            },
            async _ =>
            {
                await Task.Yield();
                if (Interlocked.Increment(ref readyCalls) == 1)
                {
                    throw new NpgsqlException("The connection pool has been exhausted");
                }
            });
        session.Start();
        await Eventually.True(() => Task.FromResult(Volatile.Read(ref readyCalls) >= 1 && session.Status == SessionStatus.Ready), what: "ready, its callback failed");

        simulator.DropClients();
        await Eventually.True(() => Task.FromResult(statuses.Contains(SessionStatus.Offline) && session.Status == SessionStatus.Ready && simulator.ConnectedClients == 1),
            what: "the dropped link noticed and the machine ready again");
        Assert.True(Volatile.Read(ref readyCalls) >= 2, "the pending operations are settled once the store answers again");
    }

    [Fact]
    public async Task One_stored_machine_that_cannot_be_read_does_not_take_the_other_machines_offline()
    {
        var database = await TestServers.CreateDatabaseAsync("cashlogy_resilience");
        await using var simulator = await ConnectorSimulator.StartAsync();
        await using var host = fixture.CreateHost(database);
        var merchant = Guid.NewGuid();
        var slug = "halles-" + Guid.NewGuid().ToString("N")[..6];
        using var http = host.CreateClient();
        Till.Identify(http, merchant, slug, "cash");
        var broken = await AddMachineAsync(http, slug, "Ancienne", 1);
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync(Ct);
            await using var find = new NpgsqlCommand("SELECT table_schema FROM information_schema.tables WHERE table_name = 'mt_doc_machine'", connection);
            var schema = (string)(await find.ExecuteScalarAsync(Ct))!;
            // A row an older or newer version wrote differently: it no longer deserialises.
            await using var poison = new NpgsqlCommand(
                $"UPDATE \"{schema}\".mt_doc_machine SET data = data || '{{\"port\":\"huit\",\"Port\":\"huit\"}}'::jsonb WHERE id = @id", connection);
            poison.Parameters.AddWithValue("id", broken);
            Assert.Equal(1, await poison.ExecuteNonQueryAsync(Ct));
        }

        var machineId = await AddMachineAsync(http, slug, "Caisse", simulator.Port);
        var sessions = host.Services.GetRequiredService<MachineSessions>();
        ConnectorSession? first = null;
        DateTimeOffset? readySince = null;
        await Eventually.True(() =>
        {
            var current = sessions.Get(machineId);
            if (first is null && current is { Status: SessionStatus.Ready })
            {
                (first, readySince) = (current, current.LastSeen);
            }

            // Ready on the same session for a few seconds of the machine's own answers: many rounds of the ownership loop.
            return Task.FromResult(first is not null && current == first && current.Status == SessionStatus.Ready
                && current.LastSeen - readySince >= TimeSpan.FromSeconds(3));
        }, within: TimeSpan.FromSeconds(60), what: "the machine ready and kept open");
    }

    private static async Task<Guid> AddMachineAsync(HttpClient http, string slug, string name, int port)
    {
        var created = await http.PostAsJsonAsync($"/api/v1/merchants/{slug}/cash/machines",
            new { name, host = "127.0.0.1", port, tillCode = "1", mode = "express" }, Ct);
        var json = await created.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(created.IsSuccessStatusCode, json.ToString());
        return json.GetProperty("id").GetGuid();
    }
}
