using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.CashlogySimulator;
using Fidpass.Testing;

namespace Fidpass.CashlogyEdge.IntegrationTests;

/// <summary>Rows of spec 5.3, produced by the simulator and handled by the edge over real TCP.</summary>
public sealed class FailureModeTests(EdgeFixture fixture)
{
    [Fact]
    public async Task A_connection_cut_mid_charge_yields_one_reconciled_outcome_and_at_most_one_PaymentCollected()
    {
        await using var till = await Till.OpenAsync(fixture);

        var id = await till.ChargeAsync(1500, "T-6001", new { memberId = Guid.NewGuid().ToString() });
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.DropClients();
        // The customer finishes on the Connector screen; the reply has nowhere to go.
        till.Simulator.Insert(1000, 500);
        var op = await till.SettledAsync(id);

        Assert.Equal(("completed", true, 1500L), (op.GetProperty("outcome").GetString(), op.GetProperty("reconciled").GetBoolean(), op.GetProperty("collected").GetInt64()));
        Assert.Equal("connection_lost", op.GetProperty("resultCode").GetString());
        Assert.Equal(1500, (await till.PaymentAsync(id)).Amount);
        Assert.Equal(1, till.Sent("C"));
        Assert.True(till.Sent("I") >= 2, "the edge initialised again after reconnecting");

        // Nothing else arrives for this payment, even after further health rounds and another sale.
        var next = await till.ChargeAsync(20, "T-6002");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(20);
        await till.PaymentAsync(next);
        Assert.Single(fixture.Collected, p => p.PaymentId == till.PaymentId(id));
    }

    [Fact]
    public async Task A_connection_cut_then_a_cancel_on_screen_is_reconciled_as_nothing_collected()
    {
        await using var till = await Till.OpenAsync(fixture);

        var id = await till.ChargeAsync(1500, "T-6101");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.DropClients();
        till.Simulator.Insert(500);
        till.Simulator.PressCancel();
        var op = await till.SettledAsync(id);

        Assert.Equal(("cancelled", true, 0L), (op.GetProperty("outcome").GetString(), op.GetProperty("reconciled").GetBoolean(), op.GetProperty("collected").GetInt64()));
        // The WR:CANCEL the screen sent never reached the edge: the journal says the connection was lost, not that the machine answered.
        Assert.Equal(("connection_lost", "Réponse perdue ; la caisse n'a pas varié : rien n'a été encaissé."),
            (op.GetProperty("resultCode").GetString(), op.GetProperty("detail").GetString()));
        Assert.Equal(1, till.Sent("C"));
    }

    [Fact]
    public async Task A_sale_screen_left_open_after_a_cut_is_recovered_by_the_operator_with_Z_and_reconciled()
    {
        await using var till = await Till.OpenAsync(fixture);

        var id = await till.ChargeAsync(800, "T-6201");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(500);
        till.Simulator.DropClients();
        // The screen stays open: after reconnecting, #I# answers ER:BUSY and the edge never resets on its own.
        await till.WaitForStatusAsync("busy");
        Assert.Equal(0, till.Sent("Z"));
        var recover = await till.PostAsync($"{till.Machine}/recover", new { @operator = Till.Manager });
        var op = await till.SettledAsync(id);

        Assert.Equal(HttpStatusCode.OK, recover.StatusCode);
        Assert.Equal(1, till.Sent("Z"));
        Assert.Equal(("cancelled", true, 0L), (op.GetProperty("outcome").GetString(), op.GetProperty("reconciled").GetBoolean(), op.GetProperty("collected").GetInt64()));
        await till.WaitForStatusAsync("ready");
    }

    [Fact]
    public async Task A_Connector_restart_is_recovered_with_a_new_init_and_the_next_sale_works()
    {
        await using var till = await Till.OpenAsync(fixture);

        await till.Simulator.RestartAsync(TimeSpan.FromMilliseconds(300));
        await Eventually.True(() => Task.FromResult(till.Sent("I") >= 2 && till.Simulator.State == SimulatorState.Idle), what: "re-initialised");
        await till.WaitForStatusAsync("ready");
        var id = await till.ChargeAsync(300, "T-7001");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(200, 100);

        Assert.Equal("completed", (await till.SettledAsync(id)).GetProperty("outcome").GetString());
        // The status change travels through the relay and the bus: it may arrive after the sale settles.
        await Eventually.True(() => Task.FromResult(fixture.StatusChanges.Any(s => s.MachineId == till.MachineId && s.Status == "offline")), what: "offline published");
    }

    [Fact]
    public async Task A_Connector_that_is_not_running_is_reported_offline_and_a_charge_is_refused_without_journal()
    {
        await using var till = await Till.OpenAsync(fixture);

        till.Simulator.StopListening();
        await till.WaitForStatusAsync("offline");
        var response = await till.PostAsync($"{till.Machine}/charges", new { requestId = "T-7101", amount = 500 });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("machine_offline", (await response.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("code").GetString());
        Assert.Equal(0, till.Sent("C"));
        await Eventually.True(() => Task.FromResult(fixture.StatusChanges.Any(s => s.MachineId == till.MachineId && s.Status == "offline")), what: "offline published");
    }

    [Fact]
    public async Task A_busy_machine_rejects_the_charge_and_nothing_moves()
    {
        await using var till = await Till.OpenAsync(fixture);
        till.Simulator.Faults.Busy = true;

        var id = await till.ChargeAsync(990, "T-8001");
        var op = await till.SettledAsync(id);

        Assert.Equal(("rejected", "ER:BUSY", 0L), (op.GetProperty("outcome").GetString(), op.GetProperty("resultCode").GetString(), op.GetProperty("collected").GetInt64()));
    }

    [Fact]
    public async Task A_door_open_blocks_sales_and_shows_the_device_error_to_the_cashier()
    {
        await using var till = await Till.OpenAsync(fixture);

        till.Simulator.Faults.DoorOpen = true;
        await till.WaitForStatusAsync("error");
        var machine = await till.GetJsonAsync(till.Machine);
        var response = await till.PostAsync($"{till.Machine}/charges", new { requestId = "T-8101", amount = 500 });

        Assert.Contains("Porte du lecteur de billets ouverte", machine.GetProperty("errors").EnumerateArray().Single().GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("machine_error", (await response.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("code").GetString());
        Assert.Equal(0, till.Sent("C"));

        till.Simulator.ClearErrors();
        await till.WaitForStatusAsync("ready");
    }

    [Fact]
    public async Task A_machine_switched_off_during_a_sale_request_fails_with_nothing_collected()
    {
        await using var till = await Till.OpenAsync(fixture);
        till.Simulator.Faults.MachineOff = true;

        // The health poll may not have seen it yet: whichever comes first, nothing is collected.
        var response = await till.PostAsync($"{till.Machine}/charges", new { requestId = "T-8201", amount = 500 });
        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            var id = (await response.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("operationId").GetGuid();
            var op = await till.SettledAsync(id);
            Assert.Equal(0, op.GetProperty("collected").GetInt64());
        }
        else
        {
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        }

        await till.WaitForStatusAsync("error");
        Assert.Contains("1075", (await till.GetJsonAsync(till.Machine)).GetProperty("statusDetail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Split_replies_and_a_stale_frame_do_not_change_the_recorded_figures()
    {
        await using var till = await Till.OpenAsync(fixture);

        var id = await till.ChargeAsync(990, "T-9001");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Faults.SplitRepliesEvery = 3;
        till.Simulator.Faults.StaleFrameBeforeNextReply = "#0#2.5#";
        till.Simulator.Insert(2000);
        var op = await till.SettledAsync(id);
        till.Simulator.Faults.SplitRepliesEvery = null;

        Assert.Equal(("completed", 2000L, 1010L), (op.GetProperty("outcome").GetString(), op.GetProperty("inserted").GetInt64(), op.GetProperty("returned").GetInt64()));
    }

    [Fact]
    public async Task A_reply_cut_in_the_middle_is_an_unknown_outcome_settled_by_reconciliation()
    {
        await using var till = await Till.OpenAsync(fixture);

        var id = await till.ChargeAsync(700, "T-9101");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Faults.DropNextReplyAfterBytes = 6;
        till.Simulator.Insert(500, 200);
        var op = await till.SettledAsync(id);

        Assert.Equal(("completed", true, 700L), (op.GetProperty("outcome").GetString(), op.GetProperty("reconciled").GetBoolean(), op.GetProperty("collected").GetInt64()));
        Assert.Equal(1, till.Sent("C"));
    }

    [Fact]
    public async Task A_level_warning_is_a_success_with_a_warning()
    {
        await using var till = await Till.OpenAsync(fixture, prepare: sim => sim.Machine.SetCount(1, 1));

        var id = await till.ChargeAsync(360, "T-9201");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(500);
        var op = await till.SettledAsync(id);

        Assert.Equal(("completed", "WR:LEVEL", true), (op.GetProperty("outcome").GetString(), op.GetProperty("resultCode").GetString(), op.GetProperty("levelWarning").GetBoolean()));
        Assert.Equal((500L, 140L), (op.GetProperty("inserted").GetInt64(), op.GetProperty("returned").GetInt64()));
    }

    [Fact]
    public async Task A_Connector_restart_in_the_middle_of_a_sale_leaves_one_outcome_that_asks_for_a_check_and_collects_nothing()
    {
        await using var till = await Till.OpenAsync(fixture);

        var id = await till.ChargeAsync(800, "T-9301");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(500);
        // The Connector crashes: the sale on screen is gone, the 5 € note stays in the machine.
        await till.Simulator.RestartAsync(TimeSpan.FromMilliseconds(300));
        var op = await till.SettledAsync(id);

        Assert.Equal(("needs_attention", true, 0L), (op.GetProperty("outcome").GetString(), op.GetProperty("reconciled").GetBoolean(), op.GetProperty("collected").GetInt64()));
        Assert.Contains("5,00", op.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, till.Sent("C"));
        await till.WaitForStatusAsync("ready");
        var next = await till.ChargeAsync(200, "T-9302");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(200);
        await till.PaymentAsync(next);
        Assert.DoesNotContain(fixture.Collected, p => p.PaymentId == till.PaymentId(id));
    }

    [Fact]
    public async Task A_machine_reset_behind_a_running_Connector_answers_ER_ILLEGAL_and_is_initialised_again_on_the_same_connection()
    {
        await using var till = await Till.OpenAsync(fixture);

        till.Simulator.ResetMachine();
        await Eventually.True(() => Task.FromResult(till.Sent("I") >= 2 && till.Simulator.State == SimulatorState.Idle), what: "initialised again");
        await till.WaitForStatusAsync("ready");
        var id = await till.ChargeAsync(150, "T-9401");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(100, 50);

        Assert.Equal("completed", (await till.SettledAsync(id)).GetProperty("outcome").GetString());
        Assert.Contains(till.Simulator.Transcript, l => l.Contains("#ER:ILLEGAL#", StringComparison.Ordinal));
        Assert.Single(till.Simulator.Transcript, l => l.Contains("ConnectionRequest", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("C", 2)] // the charge itself answers ER:ILLEGAL: nothing moved, so it is sent once more
    [InlineData("T", 1)] // the count taken before it does
    public async Task A_machine_that_loses_its_initialisation_just_before_a_command_is_initialised_again_and_the_command_retried_once(string command, int charges)
    {
        await using var till = await Till.OpenAsync(fixture);
        var inits = till.Sent("I");
        till.Simulator.Faults.LoseInitializationBefore = command;

        var id = await till.ChargeAsync(700, "T-9451-" + command);
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(500, 200);
        var op = await till.SettledAsync(id);

        Assert.Equal(("completed", 700L), (op.GetProperty("outcome").GetString(), op.GetProperty("collected").GetInt64()));
        Assert.Equal(700, (await till.PaymentAsync(id)).Amount);
        Assert.Equal(charges, till.Sent("C"));
        Assert.Equal(inits + 1, till.Sent("I"));
        Assert.Single(till.Simulator.Transcript, l => l.Contains("#ER:ILLEGAL#", StringComparison.Ordinal));
        Assert.Single(till.Simulator.Transcript, l => l.Contains("ConnectionRequest", StringComparison.Ordinal));
    }

    [Fact]
    public async Task While_the_Connector_initialises_the_machine_shows_initialising_and_a_charge_is_refused_with_nothing_sent()
    {
        await using var till = await Till.OpenAsync(fixture);
        till.Simulator.Options.InitDuration = TimeSpan.FromSeconds(2);

        await till.Simulator.RestartAsync(TimeSpan.FromMilliseconds(100));
        await till.WaitForStatusAsync("initializing");
        var response = await till.PostAsync($"{till.Machine}/charges", new { requestId = "T-9501", amount = 500 });
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Till.Ct);

        Assert.Equal((HttpStatusCode.Conflict, "machine_initializing"), (response.StatusCode, problem.GetProperty("code").GetString()));
        Assert.Equal(0, till.Sent("C"));
        await till.WaitForStatusAsync("ready");
        Assert.Equal(2, till.Sent("I"));
    }

    [Fact]
    public async Task A_jam_blocks_sales_until_the_operator_resolves_the_incident_with_RI()
    {
        await using var till = await Till.OpenAsync(fixture);
        till.Simulator.Faults.JamAfterItems = 0;

        var payout = await till.StartAsync($"{till.Machine}/payouts", new { requestId = "T-9601", amount = 500, @operator = Till.Manager });
        Assert.Equal("failed", (await till.SettledAsync(payout)).GetProperty("outcome").GetString());
        await till.WaitForStatusAsync("error");
        var sale = await till.PostAsync($"{till.Machine}/charges", new { requestId = "T-9602", amount = 500 });
        Assert.Equal("machine_error", (await sale.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("code").GetString());
        var nothing = await till.PostAsync($"{till.Machine}/incidents/resolve", new { @operator = Till.Manager });
        Assert.Equal(HttpStatusCode.BadRequest, nothing.StatusCode);

        var resolved = await till.PostAsync($"{till.Machine}/incidents/resolve", new { accountingMismatch = true, @operator = Till.Manager });

        Assert.Equal(HttpStatusCode.OK, resolved.StatusCode);
        Assert.Equal(["#RI#0#1#2#"], till.Simulator.Received.Where(f => f.StartsWith("#RI#", StringComparison.Ordinal)));
        await till.WaitForStatusAsync("ready");
        Assert.Equal(0, till.Sent("C"));
    }
}
