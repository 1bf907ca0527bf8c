using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.CashlogySimulator;
using Fidpass.ServiceDefaults;
using Fidpass.Testing;

namespace Fidpass.CashlogyEdge.IntegrationTests;

/// <summary>Checklist items 7 (roles) and 8 (close of day), dispense by denomination (<c>#U#</c>) and maintenance (<c>#W#</c>), over real TCP.</summary>
public sealed class BackOfficeTests(EdgeFixture fixture)
{
    /// <summary>Every back-office route with a body a manager would send (request ids unique per call).</summary>
    private static IEnumerable<(string Path, string Command, Dictionary<string, object?> Body)> BackOfficeCalls(Till till, object? who, string suffix) =>
    [
        ($"{till.Machine}/back-office", "G", new() { ["requestId"] = "BO-" + suffix, ["operator"] = who }),
        ($"{till.Machine}/floats", "A", new() { ["requestId"] = "FL-" + suffix, ["operator"] = who }),
        ($"{till.Machine}/stacker-collections", "S", new() { ["requestId"] = "SC-" + suffix, ["operator"] = who }),
        ($"{till.Machine}/closures", "F", new() { ["requestId"] = "CL-" + suffix, ["operator"] = who }),
        ($"{till.Machine}/dispensations", "U", new()
        {
            ["requestId"] = "DI-" + suffix, ["operator"] = who, ["denominations"] = new[] { new { value = 2000, count = 1 } },
        }),
        ($"{till.Machine}/payouts", "P", new() { ["requestId"] = "PO-" + suffix, ["amount"] = 500, ["operator"] = who }),
        ($"{till.Machine}/recover", "Z", new() { ["operator"] = who }),
        ($"{till.Machine}/maintenance", "W#1", new() { ["action"] = "reset", ["operator"] = who }),
    ];

    [Fact]
    public async Task Back_office_operations_are_refused_to_a_cashier_and_to_a_till_naming_no_role_and_nothing_reaches_the_machine()
    {
        await using var till = await Till.OpenAsync(fixture);
        var sentBefore = till.Simulator.Received.Count(f => !IsPolling(f));

        foreach (var (path, command, body) in BackOfficeCalls(till, Till.Cashier, "cashier"))
        {
            var response = await till.PostAsync(path, body);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Till.Ct);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{command}: {problem}");
            Assert.Equal("operator_role_forbidden", problem.GetProperty("code").GetString());
            Assert.Contains("manager", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        foreach (var (path, command, body) in BackOfficeCalls(till, null, "anonymous"))
        {
            body.Remove("operator");
            var response = await till.PostAsync(path, body);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Till.Ct);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{command}: {problem}");
            Assert.Equal("operator_role_required", problem.GetProperty("code").GetString());
        }

        // Only health polling reached the machine; no operation was journaled.
        Assert.Equal(sentBefore, till.Simulator.Received.Count(f => !IsPolling(f)));
        Assert.Equal(0, till.Sent("G") + till.Sent("A") + till.Sent("S") + till.Sent("F") + till.Sent("U") + till.Sent("P") + till.Sent("Z"));
        Assert.DoesNotContain("#W#1#", till.Simulator.Received);

        // A cashier may still sell and refund a sale: those are bounded by the sale itself.
        var sale = await till.ChargeAsync(1250, "RB-1");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.InsertAmount(1250);
        await till.SettledAsync(sale);
        var refund = await till.StartAsync($"{till.Machine}/payouts", new { requestId = "RB-1-r", amount = 250, saleOperationId = sale, @operator = Till.Cashier });
        Assert.Equal("completed", (await till.SettledAsync(refund)).GetProperty("outcome").GetString());
    }

    private static bool IsPolling(string frame) => frame.StartsWith("#?#", StringComparison.Ordinal) || frame == "#W#0#";

    [Fact]
    public async Task The_roles_a_machine_allows_are_the_merchants_choice_and_who_opened_the_back_office_is_journaled()
    {
        await using var till = await Till.OpenAsync(fixture);
        var update = await till.Http.PutAsJsonAsync(till.Machine, new
        {
            name = "Caisse 1",
            host = "127.0.0.1",
            port = till.Simulator.Port,
            tillCode = "TPV",
            mode = "express",
            backOfficeRoles = new[] { "supervisor" },
        }, Till.Ct);
        Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        Assert.Equal(["supervisor"], (await update.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("backOfficeRoles").EnumerateArray().Select(r => r.GetString()));

        var manager = await till.PostAsync($"{till.Machine}/back-office", new { requestId = "BR-1", @operator = Till.Manager });
        Assert.Equal(HttpStatusCode.Forbidden, manager.StatusCode);
        var id = await till.StartAsync($"{till.Machine}/back-office", new { requestId = "BR-2", @operator = new { id = "U-2", role = "supervisor" } });
        await till.WaitForScreenAsync(SimulatorState.BackOffice);
        till.Simulator.CloseBackOffice();
        var op = await till.SettledAsync(id);

        Assert.Equal(("supervisor", "U-2"), (op.GetProperty("operator").GetProperty("role").GetString(), op.GetProperty("operator").GetProperty("id").GetString()));
        Assert.Equal(1, till.Sent("G"));

        // The merchant's own dashboard token needs no till role.
        Till.Identify(till.Http, till.MerchantId, till.Slug, "", GatewayIdentity.DashboardToken);
        var owner = await till.StartAsync($"{till.Machine}/back-office", new { requestId = "BR-3" });
        await till.WaitForScreenAsync(SimulatorState.BackOffice);
        till.Simulator.CloseBackOffice();
        Assert.Equal("dashboard_token", (await till.SettledAsync(owner)).GetProperty("operator").GetProperty("role").GetString());
    }

    [Theory]
    [InlineData("""{"name":"Caisse","host":"127.0.0.1","port":8092,"backOfficeRoles":[]}""")]
    [InlineData("""{"name":"Caisse","host":"127.0.0.1","port":8092,"backOfficeRoles":"manager"}""")]
    [InlineData("""{"name":"Caisse","host":"127.0.0.1","port":8092,"backOfficeRoles":["chef#1"]}""")]
    public async Task Bad_back_office_roles_are_refused(string json)
    {
        await using var till = await Till.OpenAsync(fixture);

        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        var response = await till.Http.PostAsync(new Uri($"/api/v1/merchants/{till.Slug}/cash/machines", UriKind.Relative), content, Till.Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_back_office_roles", (await response.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Close_of_day_records_the_machine_counts_before_and_after_and_what_the_operator_took()
    {
        await using var till = await Till.OpenAsync(fixture, prepare: sim => sim.Machine.SetCount(5000, 2));
        var before = till.Simulator.Machine.RecyclersTotal + till.Simulator.Machine.StackerTotal;

        var id = await till.StartAsync($"{till.Machine}/closures", new { requestId = "Z-2026-12-01", @operator = Till.Manager });
        await till.WaitForScreenAsync(SimulatorState.Closing);
        // While the closure screen is open the machine is busy for any sale.
        var sale = await till.PostAsync($"{till.Machine}/charges", new { requestId = "Z-sale", amount = 500 });
        Assert.Equal(HttpStatusCode.Conflict, sale.StatusCode);
        Assert.True(till.Simulator.CloseDay(added: 0, withdrawn: 6000));
        var op = await till.SettledAsync(id);

        Assert.Equal(("completed", 6000L), (op.GetProperty("outcome").GetString(), op.GetProperty("dispensed").GetInt64()));
        Assert.Equal(before, op.GetProperty("countBefore").GetProperty("total").GetInt64());
        Assert.Equal(10000, op.GetProperty("countBefore").GetProperty("stacker").GetInt64());
        var after = op.GetProperty("countAfter");
        Assert.Equal(before - 6000, after.GetProperty("total").GetInt64());
        Assert.Equal(till.Simulator.Machine.RecyclersTotal, after.GetProperty("recyclers").GetInt64());
        Assert.Equal(till.Simulator.Machine.Recyclers[2000], after.GetProperty("recyclerDenominations").EnumerateArray()
            .Single(d => d.GetProperty("value").GetInt64() == 2000).GetProperty("count").GetInt32());
        Assert.Contains("retiré 60,00", op.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(["#F#1#"], till.Simulator.Received.Where(f => f.StartsWith("#F#", StringComparison.Ordinal)));
        Assert.Equal(0, till.Sent("C"));
        Assert.DoesNotContain(fixture.Collected, p => p.PaymentId == till.PaymentId(id));

        // Replaying the till's request gives the stored closure, nothing is sent again.
        var replay = await till.PostAsync($"{till.Machine}/closures", new { requestId = "Z-2026-12-01", @operator = Till.Manager });
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(1, till.Sent("F"));
    }

    [Fact]
    public async Task A_close_of_day_cancelled_on_the_machine_records_nothing_taken()
    {
        await using var till = await Till.OpenAsync(fixture);

        var id = await till.StartAsync($"{till.Machine}/closures", new { requestId = "Z-c", @operator = Till.Manager });
        await till.WaitForScreenAsync(SimulatorState.Closing);
        var cancel = await till.PostAsync($"{till.Operation(id)}/cancel", new { });
        var op = await till.SettledAsync(id);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal(("cancelled", "WR:CANCEL", 0L), (op.GetProperty("outcome").GetString(), op.GetProperty("resultCode").GetString(), op.GetProperty("dispensed").GetInt64()));
        Assert.Equal(op.GetProperty("countBefore").GetProperty("total").GetInt64(), op.GetProperty("countAfter").GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Dispensing_given_coins_and_notes_pays_exactly_those_and_reports_a_missing_value()
    {
        await using var till = await Till.OpenAsync(fixture, prepare: sim => sim.Machine.SetCount(2000, 3));
        var machine = till.Simulator.Machine;
        var coins = machine.Recyclers[100];

        var id = await till.StartAsync($"{till.Machine}/dispensations", new
        {
            requestId = "U-1",
            @operator = Till.Manager,
            denominations = new[] { new { value = 2000, count = 2 }, new { value = 100, count = 3 } },
        });
        var op = await till.SettledAsync(id);

        Assert.Equal(("completed", 4300L, 4300L), (op.GetProperty("outcome").GetString(), op.GetProperty("amount").GetInt64(), op.GetProperty("dispensed").GetInt64()));
        Assert.Contains("#U#100:3;2000:2#0#0#0#", till.Simulator.Received);
        Assert.Equal((1, coins - 3), (machine.Recyclers[2000], machine.Recyclers[100]));

        // Three 20 € notes asked, one left: WR:LEVEL with the real list; only 20 € recorded.
        var short_ = await till.StartAsync($"{till.Machine}/dispensations", new
        {
            requestId = "U-2",
            @operator = Till.Manager,
            denominations = new[] { new { value = 2000, count = 3 } },
        });
        var partial = await till.SettledAsync(short_);
        Assert.Equal(("partially_paid", "WR:LEVEL", 2000L, 4000L),
            (partial.GetProperty("outcome").GetString(), partial.GetProperty("resultCode").GetString(), partial.GetProperty("dispensed").GetInt64(), partial.GetProperty("shortfall").GetInt64()));
        Assert.Equal(1, partial.GetProperty("dispensedDenominations").EnumerateArray().Single().GetProperty("count").GetInt32());
        Assert.Equal(0, machine.Recyclers[2000]);

        // None left at all: ER:GENERIC, nothing recorded as paid.
        var none = await till.SettledAsync(await till.StartAsync($"{till.Machine}/dispensations", new
        {
            requestId = "U-3",
            @operator = Till.Manager,
            denominations = new[] { new { value = 2000, count = 1 } },
        }));
        Assert.Equal(("failed", "ER:GENERIC", 0L), (none.GetProperty("outcome").GetString(), none.GetProperty("resultCode").GetString(), none.GetProperty("dispensed").GetInt64()));
    }

    [Fact]
    public async Task Notes_moved_to_the_stacker_stay_in_the_machine_and_a_missing_safe_box_is_refused()
    {
        await using var till = await Till.OpenAsync(fixture);
        var machine = till.Simulator.Machine;
        var total = machine.RecyclersTotal + machine.StackerTotal;
        var tens = machine.Recyclers[1000];

        var moved = await till.SettledAsync(await till.StartAsync($"{till.Machine}/dispensations", new
        {
            requestId = "U-4",
            @operator = Till.Manager,
            destination = "stacker",
            denominations = new[] { new { value = 1000, count = 2 } },
        }));

        Assert.Equal(("completed", 2000L), (moved.GetProperty("outcome").GetString(), moved.GetProperty("dispensed").GetInt64()));
        Assert.Contains("#U#;1000:2#1#0#0#", till.Simulator.Received);
        Assert.Equal((tens - 2, 2, total), (machine.Recyclers[1000], machine.Stacker[1000], machine.RecyclersTotal + machine.StackerTotal));

        var safe = await till.SettledAsync(await till.StartAsync($"{till.Machine}/dispensations", new
        {
            requestId = "U-5",
            @operator = Till.Manager,
            destination = "safebox",
            denominations = new[] { new { value = 1000, count = 1 } },
        }));
        Assert.Equal(("rejected", "ER:BAD_DATA", 0L), (safe.GetProperty("outcome").GetString(), safe.GetProperty("resultCode").GetString(), safe.GetProperty("dispensed").GetInt64()));
        Assert.Contains("coffre", safe.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(tens - 2, machine.Recyclers[1000]);
    }

    [Theory]
    [InlineData("""{"requestId":"V-1","denominations":[]}""", "invalid_denominations")]
    [InlineData("""{"requestId":"V-2","denominations":[{"value":300,"count":1}]}""", "invalid_denominations")]
    [InlineData("""{"requestId":"V-3","denominations":[{"value":200,"count":0}]}""", "invalid_denominations")]
    [InlineData("""{"requestId":"V-4","denominations":[{"value":200,"count":1.5}]}""", "invalid_denominations")]
    [InlineData("""{"requestId":"V-5","denominations":[{"value":200,"count":1},{"value":200,"count":2}]}""", "invalid_denominations")]
    [InlineData("""{"requestId":"V-6","denominations":[{"value":200,"count":1}],"destination":"stacker"}""", "invalid_destination")]
    [InlineData("""{"requestId":"V-7","denominations":[{"value":500,"count":1}],"destination":"drawer"}""", "invalid_destination")]
    public async Task Bad_denominations_are_a_400_and_nothing_reaches_the_machine(string json, string code)
    {
        await using var till = await Till.OpenAsync(fixture);

        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        var response = await till.Http.PostAsync(new Uri($"{till.Machine}/dispensations", UriKind.Relative), content, Till.Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, (await response.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("code").GetString());
        Assert.Equal(0, till.Sent("U") + till.Sent("U2") + till.Sent("T"));
    }

    [Fact]
    public async Task Notes_left_before_maintenance_are_read_with_W_a_due_maintenance_is_shown_and_cleaning_resets_it()
    {
        await using var till = await Till.OpenAsync(fixture, prepare: sim => sim.MaintenanceNotesLeft = 12);

        await Eventually.True(async () => (await till.GetJsonAsync(till.Machine)).GetProperty("maintenance") is { ValueKind: JsonValueKind.Object } m &&
            m.GetProperty("notesLeft").GetInt64() == 12, what: "notes left read");
        // Two notes in a sale: 10 left, still fine; one more: 9, maintenance due (a warning, sales go on).
        var first = await till.ChargeAsync(1000, "W-1");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(500, 500);
        await till.SettledAsync(first);
        var second = await till.ChargeAsync(500, "W-2");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(500);
        await till.SettledAsync(second);
        var due = await Eventually.Get(() => till.GetJsonAsync(till.Machine),
            m => m.GetProperty("maintenance").GetProperty("due").GetBoolean(), what: "maintenance due");

        Assert.Equal(9, due.GetProperty("maintenance").GetProperty("notesLeft").GetInt64());
        Assert.Contains("courroies", due.GetProperty("maintenance").GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("ready", due.GetProperty("status").GetString());
        Assert.Contains(due.GetProperty("errors").EnumerateArray(), e => e.GetProperty("code").GetString() == "1315" && e.GetProperty("warning").GetBoolean());

        var cleaned = await till.PostAsync($"{till.Machine}/maintenance", new { action = "cleaning", @operator = Till.Manager });
        var machine = await cleaned.Content.ReadFromJsonAsync<JsonElement>(Till.Ct);

        Assert.Equal(HttpStatusCode.OK, cleaned.StatusCode);
        Assert.Contains("#W#2#", till.Simulator.Received);
        Assert.Equal((5000L, false), (machine.GetProperty("maintenance").GetProperty("notesLeft").GetInt64(), machine.GetProperty("maintenance").GetProperty("due").GetBoolean()));
        var bad = await till.PostAsync($"{till.Machine}/maintenance", new { action = "oil", @operator = Till.Manager });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }
}
