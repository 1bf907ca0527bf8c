using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.CashlogySimulator;
using Fidpass.Testing;

namespace Fidpass.CashlogyEdge.IntegrationTests;

public sealed class PayoutAndBackOfficeTests(EdgeFixture fixture)
{
    private static async Task<Guid> SaleAsync(Till till, long amount, string requestId)
    {
        var id = await till.ChargeAsync(amount, requestId);
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.InsertAmount(amount);
        await till.SettledAsync(id);
        return id;
    }

    private static async Task<Guid> PayoutAsync(Till till, object body)
    {
        var response = await till.PostAsync($"{till.Machine}/payouts", body);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>(Till.Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, json.ToString());
        return json.GetProperty("operationId").GetGuid();
    }

    [Fact]
    public async Task A_refund_of_a_sale_pays_out_and_emits_exactly_one_PaymentRefunded()
    {
        await using var till = await Till.OpenAsync(fixture);
        var sale = await SaleAsync(till, 1250, "R-1");

        var refund = await PayoutAsync(till, new { requestId = "R-1-refund", amount = 500, saleOperationId = sale });
        var op = await till.SettledAsync(refund);

        Assert.Equal(("completed", 500L), (op.GetProperty("outcome").GetString(), op.GetProperty("dispensed").GetInt64()));
        Assert.Contains("#P#500#0#0#0#", till.Simulator.Received);
        var refundId = till.PaymentId(refund);
        await Eventually.True(() => Task.FromResult(fixture.Refunded.Any(r => r.RefundId == refundId)), what: "PaymentRefunded");
        var refunded = fixture.Refunded.Single(r => r.RefundId == refundId);
        Assert.Equal((till.PaymentId(sale), 500L, till.MerchantId), (refunded.PaymentId, refunded.Amount, refunded.MerchantId));

        // More than what is left of the sale: refused before the machine.
        var tooMuch = await till.PostAsync($"{till.Machine}/payouts", new { requestId = "R-1-refund-2", amount = 800, saleOperationId = sale });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooMuch.StatusCode);
        Assert.Equal("refund_exceeds_sale", (await tooMuch.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("code").GetString());
        Assert.Equal(1, till.Sent("P"));
    }

    [Fact]
    public async Task A_payout_the_machine_cannot_complete_reports_what_was_really_paid()
    {
        await using var till = await Till.OpenAsync(fixture, prepare: sim =>
        {
            foreach (var value in CashMachine.Coins.Concat(CashMachine.RecyclableNotes))
            {
                sim.Machine.SetCount(value, 0);
            }

            sim.Machine.SetCount(1000, 1);
            sim.Machine.SetCount(200, 1);
        });

        var id = await PayoutAsync(till, new { requestId = "R-2", amount = 1250, @operator = Till.Manager });
        var op = await till.SettledAsync(id);

        Assert.Equal(("partially_paid", "ER:GENERIC"), (op.GetProperty("outcome").GetString(), op.GetProperty("resultCode").GetString()));
        Assert.Equal((1200L, 50L), (op.GetProperty("dispensed").GetInt64(), op.GetProperty("shortfall").GetInt64()));
    }

    [Fact]
    public async Task A_payout_whose_reply_never_comes_times_out_as_unknown_and_is_reconciled_without_paying_twice()
    {
        await using var till = await Till.OpenAsync(fixture);
        till.Simulator.Faults.SwallowNextReplyTo = "P";

        var id = await PayoutAsync(till, new { requestId = "R-4", amount = 700, @operator = Till.Manager });
        var op = await till.SettledAsync(id);

        Assert.Equal(("completed", true, 700L), (op.GetProperty("outcome").GetString(), op.GetProperty("reconciled").GetBoolean(), op.GetProperty("dispensed").GetInt64()));
        Assert.Equal(1, till.Sent("P"));
        Assert.True(till.Sent("I") >= 2, "the edge dropped the connection after the timeout and initialised again");
    }

    [Fact]
    public async Task A_jam_during_a_payout_stops_it_and_records_the_partial_amount()
    {
        await using var till = await Till.OpenAsync(fixture);
        till.Simulator.Faults.JamAfterItems = 1;

        var id = await PayoutAsync(till, new { requestId = "R-3", amount = 700, @operator = Till.Manager });
        var op = await till.SettledAsync(id);

        Assert.Equal(("partially_paid", 500L, 200L), (op.GetProperty("outcome").GetString(), op.GetProperty("dispensed").GetInt64(), op.GetProperty("shortfall").GetInt64()));
    }

    [Fact]
    public async Task The_back_office_opened_from_the_till_records_the_operator_figures()
    {
        await using var till = await Till.OpenAsync(fixture);

        var response = await till.PostAsync($"{till.Machine}/back-office", new { requestId = "BO-1", @operator = Till.Manager });
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("operationId").GetGuid();
        await till.WaitForScreenAsync(SimulatorState.BackOffice);
        Assert.True(till.Simulator.CloseBackOffice(inserted: 965, returned: 965));
        var op = await till.SettledAsync(id);

        Assert.Equal(("completed", 965L, 965L), (op.GetProperty("outcome").GetString(), op.GetProperty("inserted").GetInt64(), op.GetProperty("returned").GetInt64()));
        Assert.Contains("#G#1#1#1#1#1#1#1#1#1#1#1#1#1#", till.Simulator.Received);
    }

    [Fact]
    public async Task A_full_stacker_blocks_sales_until_it_is_collected_and_the_amount_removed_is_recorded()
    {
        await using var till = await Till.OpenAsync(fixture, prepare: sim => sim.Machine.SetCount(5000, 3));

        till.Simulator.RaiseError("1120");
        await till.WaitForStatusAsync("error");
        var refused = await till.PostAsync($"{till.Machine}/charges", new { requestId = "ST-0", amount = 500 });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        // The collection that resolves the error is allowed while the machine is in error.
        var id = await till.StartAsync($"{till.Machine}/stacker-collections", new { requestId = "ST-1", @operator = Till.Manager });
        var op = await till.SettledAsync(id);

        Assert.Equal(("completed", 15000L), (op.GetProperty("outcome").GetString(), op.GetProperty("dispensed").GetInt64()));
        Assert.Contains("#S#2#", till.Simulator.Received);
        Assert.Equal(0, till.Simulator.Machine.StackerTotal);
        Assert.Equal(0, till.Sent("C"));
        await till.WaitForStatusAsync("ready");
    }

    [Fact]
    public async Task Adding_float_headless_records_what_the_operator_loaded_and_credits_nobody()
    {
        await using var till = await Till.OpenAsync(fixture);
        var before = till.Simulator.Machine.RecyclersTotal;

        var response = await till.PostAsync($"{till.Machine}/floats", new { requestId = "F-1", @operator = Till.Manager });
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("operationId").GetGuid();
        await till.WaitForScreenAsync(SimulatorState.Accepting);
        till.Simulator.Insert(200, 200, 100);
        await Eventually.True(async () => (await till.GetJsonAsync(till.Operation(id))).GetProperty("progress") is { ValueKind: JsonValueKind.Object } p &&
            p.GetProperty("inserted").ValueKind == JsonValueKind.Number && p.GetProperty("inserted").GetInt64() == 500, what: "progress 500");
        var finish = await till.PostAsync($"{till.Operation(id)}/finish", new { });
        var op = await till.SettledAsync(id);

        Assert.Equal(HttpStatusCode.Accepted, finish.StatusCode);
        Assert.Equal(("completed", 500L), (op.GetProperty("outcome").GetString(), op.GetProperty("inserted").GetInt64()));
        Assert.Equal(before + 500, (await till.GetJsonAsync($"{till.Machine}/totals")).GetProperty("recyclers").GetInt64());
        Assert.Equal(JsonValueKind.Null, op.GetProperty("paymentId").ValueKind);
        Assert.Equal(["#A#2#", "#J#"], till.Simulator.Received.Where(f => f is "#A#2#" or "#J#"));
    }

    [Fact]
    public async Task Totals_inventory_and_levels_are_the_machine_figures()
    {
        await using var till = await Till.OpenAsync(fixture, prepare: sim => sim.Machine.SetCount(2, 1));

        var totals = await till.GetJsonAsync($"{till.Machine}/totals");
        var inventory = await till.GetJsonAsync($"{till.Machine}/inventory");
        var levels = await till.GetJsonAsync($"{till.Machine}/levels");

        Assert.Equal(till.Simulator.Machine.RecyclersTotal, totals.GetProperty("recyclers").GetInt64());
        Assert.Equal(till.Simulator.Machine.RecyclersTotal, inventory.GetProperty("recyclersTotal").GetInt64());
        Assert.Contains(inventory.GetProperty("recyclers").EnumerateArray(), d => d.GetProperty("value").GetInt64() == 2000 && d.GetProperty("kind").GetString() == "note");
        Assert.True(levels.GetProperty("warning").GetBoolean());
        Assert.Contains(levels.GetProperty("levels").EnumerateArray(), l => l.GetProperty("denomination").GetString() == "2" && l.GetProperty("state").GetString() == "near_empty");
    }

    [Fact]
    public async Task Levels_fall_back_to_GC_on_a_Connector_without_the_newer_commands()
    {
        await using var till = await Till.OpenAsync(fixture, prepare: sim => sim.Options.SupportsExtendedCommands = false);

        var levels = await till.GetJsonAsync($"{till.Machine}/levels");

        Assert.NotEmpty(levels.GetProperty("levels").EnumerateArray());
        Assert.Contains("#GC2#", till.Simulator.Received);
        Assert.Contains("#GC#", till.Simulator.Received);
    }

    [Fact]
    public async Task Machines_are_listed_tested_and_deleted()
    {
        await using var till = await Till.OpenAsync(fixture);

        var list = await till.GetJsonAsync($"/api/v1/merchants/{till.Slug}/cash/machines");
        var test = await till.PostAsync($"{till.Machine}/test", new { });
        var tested = await test.Content.ReadFromJsonAsync<JsonElement>(Till.Ct);
        var deleted = await till.Http.DeleteAsync(new Uri(till.Machine, UriKind.Relative), Till.Ct);
        var gone = await till.Http.GetAsync(new Uri(till.Machine, UriKind.Relative), Till.Ct);

        Assert.Equal(till.MachineId, list.EnumerateArray().Single().GetProperty("id").GetGuid());
        Assert.Equal("2.5.0.136", list.EnumerateArray().Single().GetProperty("version").GetString());
        Assert.Equal((HttpStatusCode.OK, true), (test.StatusCode, tested.GetProperty("reachable").GetBoolean()));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }
}
