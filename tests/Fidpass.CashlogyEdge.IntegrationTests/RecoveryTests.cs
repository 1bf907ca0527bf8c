using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.CashlogySimulator;
using Fidpass.Testing;
using ConnectorSimulator = Fidpass.CashlogySimulator.CashlogySimulator;

namespace Fidpass.CashlogyEdge.IntegrationTests;

public sealed class RecoveryTests(EdgeFixture fixture)
{
    [Fact]
    public async Task A_charge_left_without_reply_by_an_edge_restart_is_reconciled_by_the_next_edge_and_paid_once()
    {
        await using var sim = await ConnectorSimulator.StartAsync();
        var database = await TestServers.CreateDatabaseAsync("cashlogy_restart");
        var merchant = Guid.NewGuid();
        var slug = "boulangerie-" + Guid.NewGuid().ToString("N")[..6];
        Guid machineId;
        Guid operationId;
        await using (var first = fixture.CreateHost(database))
        {
            using var http = first.CreateClient();
            Till.Identify(http, merchant, slug, "cash");
            var created = await http.PostAsJsonAsync($"/api/v1/merchants/{slug}/cash/machines",
                new { name = "Comptoir", host = "127.0.0.1", port = sim.Port, tillCode = "1", mode = "express" }, Till.Ct);
            machineId = (await created.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("id").GetGuid();
            await Eventually.True(async () => (await http.GetFromJsonAsync<JsonElement>($"/api/v1/merchants/{slug}/cash/machines/{machineId}", Till.Ct))
                .GetProperty("status").GetString() == "ready", what: "ready");
            var charge = await http.PostAsJsonAsync($"/api/v1/merchants/{slug}/cash/machines/{machineId}/charges", new { requestId = "N-1", amount = 1200 }, Till.Ct);
            operationId = (await charge.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("operationId").GetGuid();
            await Eventually.True(() => Task.FromResult(sim.State == SimulatorState.Charging), what: "charging");
        }

        // The edge is gone; the customer pays on the Connector screen anyway.
        sim.Insert(1000, 200);
        await using var second = fixture.CreateHost(database);
        using var client = second.CreateClient();
        Till.Identify(client, merchant, slug, "cash");
        var op = await Eventually.Get(() => client.GetFromJsonAsync<JsonElement>($"/api/v1/merchants/{slug}/cash/operations/{operationId}", Till.Ct),
            o => o.GetProperty("status").GetString() == "settled", TimeSpan.FromSeconds(30), "reconciled after restart");

        Assert.Equal(("completed", true, 1200L), (op.GetProperty("outcome").GetString(), op.GetProperty("reconciled").GetBoolean(), op.GetProperty("collected").GetInt64()));
        Assert.Equal(1, sim.Received.Count(f => f.StartsWith("#C#", StringComparison.Ordinal)));
        var paymentId = $"cash:{machineId}:{operationId}";
        await Eventually.True(() => Task.FromResult(fixture.Collected.Any(p => p.PaymentId == paymentId)), what: "PaymentCollected");
        Assert.Single(fixture.Collected, p => p.PaymentId == paymentId);
    }

    [Fact]
    public async Task Cancel_from_the_till_on_an_express_sale_ends_it_when_the_Connector_accepts_it_and_a_stray_reply_is_ignored()
    {
        await using var till = await Till.OpenAsync(fixture, prepare: sim =>
        {
            sim.Options.CancelAbortsExpressCharge = true;
            sim.Options.CancelEmitsOwnReply = true;
        });

        var id = await till.ChargeAsync(990, "K-1");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(500);
        var cancel = await till.PostAsync($"{till.Operation(id)}/cancel", new { });
        var op = await till.SettledAsync(id);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal(("cancelled", 500L, 500L, 0L), (op.GetProperty("outcome").GetString(), op.GetProperty("inserted").GetInt64(),
            op.GetProperty("returned").GetInt64(), op.GetProperty("collected").GetInt64()));

        // The stray #0# of the cancel does not confuse the next command.
        var totals = await till.GetJsonAsync($"{till.Machine}/totals");
        Assert.Equal(till.Simulator.Machine.RecyclersTotal, totals.GetProperty("recyclers").GetInt64());
    }

    [Fact]
    public async Task When_the_Connector_ignores_cancel_the_cashier_is_told_to_cancel_on_screen_and_that_settles_it()
    {
        await using var till = await Till.OpenAsync(fixture);

        var id = await till.ChargeAsync(990, "K-2");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        var cancel = await till.PostAsync($"{till.Operation(id)}/cancel", new { });
        var body = await cancel.Content.ReadFromJsonAsync<JsonElement>(Till.Ct);
        Assert.Contains("Annuler", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(SimulatorState.Charging, till.Simulator.State);
        till.Simulator.PressCancel();

        Assert.Equal("cancelled", (await till.SettledAsync(id)).GetProperty("outcome").GetString());
        var again = await till.PostAsync($"{till.Operation(id)}/cancel", new { });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task A_slow_first_init_shows_initialising_then_ready()
    {
        await using var till = await Till.OpenAsync(fixture, prepare: sim => sim.Options.InitDuration = TimeSpan.FromMilliseconds(600));

        Assert.Equal("2.5.0.136", (await till.GetJsonAsync(till.Machine)).GetProperty("version").GetString());
        Assert.Equal(1, till.Sent("I"));
    }

    [Fact]
    public async Task Machine_status_is_published_and_visible_in_metrics()
    {
        await using var till = await Till.OpenAsync(fixture);

        await Eventually.True(() => Task.FromResult(fixture.StatusChanges.Any(s => s.MachineId == till.MachineId && s.Status == "online" && s.MerchantId == till.MerchantId)),
            what: "online published");
        var metrics = await till.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative), Till.Ct);

        Assert.Contains("fidpass_cash_machines_online", metrics, StringComparison.Ordinal);
        Assert.Contains("fidpass_cash_machine_status_changes", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_cash_machine_status_gauge_is_1_while_ready_and_0_once_offline_with_one_series_per_machine()
    {
        await using var till = await Till.OpenAsync(fixture);
        var machine = $"machine_id=\"{till.MachineId}\"";

        var ready = await Eventually.Get(() => StatusSeriesAsync(till, machine), s => s.Count == 1 && s[0].Value == 1, what: "gauge 1");
        Assert.Contains($"merchant=\"{till.Slug}\"", ready[0].Labels, StringComparison.Ordinal);
        Assert.Contains("status=\"ready\"", ready[0].Labels, StringComparison.Ordinal);

        // The Connector stops: the same machine now reads 0, offline, and no stale "ready" series is left.
        till.Simulator.StopListening();
        await till.WaitForStatusAsync("offline");
        var offline = await Eventually.Get(() => StatusSeriesAsync(till, machine), s => s.Count == 1 && s[0].Value == 0, what: "gauge 0");
        Assert.Contains("status=\"offline\"", offline[0].Labels, StringComparison.Ordinal);

        await till.Simulator.StartListeningAsync();
        await till.WaitForStatusAsync("ready");
        await Eventually.Get(() => StatusSeriesAsync(till, machine), s => s.Count == 1 && s[0].Value == 1, what: "gauge back to 1");
    }

    /// <summary><c>fidpass_cash_machine_status{…}</c> lines of one machine in a <c>/metrics</c> scrape.</summary>
    private static async Task<List<(string Labels, double Value)>> StatusSeriesAsync(Till till, string machine)
    {
        var scrape = await till.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative), Till.Ct);
        return scrape.Split('\n')
            .Where(l => l.StartsWith("fidpass_cash_machine_status{", StringComparison.Ordinal) && l.Contains(machine, StringComparison.Ordinal))
            .Select(l =>
            {
                var close = l.IndexOf('}', StringComparison.Ordinal);
                var value = l[(close + 1)..].Trim().Split(' ')[0];
                return (l[..(close + 1)], double.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
            })
            .ToList();
    }
}
