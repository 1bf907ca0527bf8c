using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.CashlogySimulator;
using Fidpass.Contracts.Payments;
using Fidpass.Testing;

namespace Fidpass.CashlogyEdge.IntegrationTests;

public sealed class ChargeTests(EdgeFixture fixture)
{
    [Fact]
    public async Task A_clean_express_sale_records_the_machine_figures_and_emits_exactly_one_PaymentCollected()
    {
        await using var till = await Till.OpenAsync(fixture);
        var member = Guid.NewGuid();

        var operationId = await till.ChargeAsync(990, "T-1001", new { memberId = member.ToString(), basketReference = "basket-77" });
        await till.WaitForScreenAsync(SimulatorState.Charging);
        Assert.True(till.Simulator.Insert(2000));
        var op = await till.SettledAsync(operationId);

        Assert.Equal("completed", op.GetProperty("outcome").GetString());
        Assert.Equal((2000, 1010, 990), (op.GetProperty("inserted").GetInt64(), op.GetProperty("returned").GetInt64(), op.GetProperty("collected").GetInt64()));
        var payment = await till.PaymentAsync(operationId);
        Assert.Equal((990L, "eur", PaymentMethod.Cash), (payment.Amount, payment.Currency, payment.Method));
        Assert.Equal((member, "basket-77", till.MerchantId), (payment.MemberId, payment.BasketReference, payment.MerchantId));
        Assert.Equal(till.PaymentId(operationId), op.GetProperty("paymentId").GetString());

        // The till retries the same request: same operation, nothing re-sent, no second payment.
        var replay = await till.PostAsync($"{till.Machine}/charges", new { requestId = "T-1001", amount = 990 });
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(operationId, (await replay.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("operationId").GetGuid());
        var later = await till.ChargeAsync(100, "T-1002");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(100);
        await till.PaymentAsync(later);
        Assert.Single(fixture.Collected, p => p.PaymentId == till.PaymentId(operationId));
        Assert.Equal(2, till.Sent("C"));
    }

    [Fact]
    public async Task A_sale_cancelled_after_cash_was_inserted_gives_it_back_and_credits_nothing()
    {
        await using var till = await Till.OpenAsync(fixture);

        var cancelled = await till.ChargeAsync(2500, "T-2001");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(1000, 500, 200, 100);
        till.Simulator.PressCancel();
        var op = await till.SettledAsync(cancelled);

        Assert.Equal("cancelled", op.GetProperty("outcome").GetString());
        Assert.Equal((1800, 1800, 0), (op.GetProperty("inserted").GetInt64(), op.GetProperty("returned").GetInt64(), op.GetProperty("collected").GetInt64()));
        Assert.Equal(JsonValueKind.Null, op.GetProperty("paymentId").ValueKind);

        // A later sale's payment arrives, so the relay has passed the cancelled one: it published nothing for it.
        var next = await till.ChargeAsync(50, "T-2002");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(50);
        await till.PaymentAsync(next);
        Assert.DoesNotContain(fixture.Collected, p => p.PaymentId == till.PaymentId(cancelled));
    }

    [Fact]
    public async Task A_sale_cancelled_before_any_cash_collects_nothing()
    {
        await using var till = await Till.OpenAsync(fixture);

        var id = await till.ChargeAsync(990, "T-2101");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.PressCancel();
        var op = await till.SettledAsync(id);

        Assert.Equal(("cancelled", "WR:CANCEL", 0L), (op.GetProperty("outcome").GetString(), op.GetProperty("resultCode").GetString(), op.GetProperty("inserted").GetInt64()));
    }

    [Fact]
    public async Task Change_the_machine_cannot_give_is_reported_as_owed_and_only_the_sale_is_credited()
    {
        await using var till = await Till.OpenAsync(fixture, prepare: sim =>
        {
            foreach (var value in CashMachine.Coins.Concat(CashMachine.RecyclableNotes))
            {
                sim.Machine.SetCount(value, 0);
            }

            sim.Machine.SetCount(1000, 1);
        });

        var id = await till.ChargeAsync(990, "T-3001");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(2000);
        var op = await till.SettledAsync(id);

        Assert.Equal("change_short", op.GetProperty("outcome").GetString());
        Assert.Equal((2000, 1000, 990, 10), (op.GetProperty("inserted").GetInt64(), op.GetProperty("returned").GetInt64(),
            op.GetProperty("collected").GetInt64(), op.GetProperty("shortfall").GetInt64()));
        Assert.Contains("0,10", op.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(990, (await till.PaymentAsync(id)).Amount);
    }

    [Fact]
    public async Task A_partial_payment_allowed_by_the_till_credits_only_what_was_paid()
    {
        await using var till = await Till.OpenAsync(fixture);

        var id = await till.ChargeAsync(1000, "T-4001", new { allowPartial = true });
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(500);
        Assert.True(till.Simulator.PressAccept());
        var op = await till.SettledAsync(id);

        Assert.Equal(("partially_paid", 500L), (op.GetProperty("outcome").GetString(), op.GetProperty("collected").GetInt64()));
        Assert.Equal(500, (await till.PaymentAsync(id)).Amount);
        Assert.EndsWith("#1#1#0#0#", till.Simulator.Received.Single(f => f.StartsWith("#C#", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_headless_sale_shows_progress_gives_change_with_P_and_is_credited_once()
    {
        await using var till = await Till.OpenAsync(fixture, mode: "complete");

        var id = await till.ChargeAsync(990, "T-5001");
        await till.WaitForScreenAsync(SimulatorState.Accepting);
        till.Simulator.Insert(500);
        await Eventually.True(async () => (await till.GetJsonAsync(till.Operation(id))).GetProperty("progress") is { ValueKind: JsonValueKind.Object } p &&
            p.GetProperty("inserted").ValueKind == JsonValueKind.Number && p.GetProperty("inserted").GetInt64() == 500, what: "progress 500");
        till.Simulator.Insert(1000);
        var op = await till.SettledAsync(id);

        Assert.Equal(("completed", 1500L, 510L, 990L), (op.GetProperty("outcome").GetString(), op.GetProperty("inserted").GetInt64(),
            op.GetProperty("returned").GetInt64(), op.GetProperty("collected").GetInt64()));
        Assert.Contains("#P#510#0#0#0#", till.Simulator.Received);
        Assert.Equal(990, (await till.PaymentAsync(id)).Amount);
    }

    [Fact]
    public async Task A_headless_sale_cancelled_by_the_till_gives_everything_back()
    {
        await using var till = await Till.OpenAsync(fixture, mode: "complete");

        var id = await till.ChargeAsync(990, "T-5101");
        await till.WaitForScreenAsync(SimulatorState.Accepting);
        till.Simulator.Insert(200);
        await Eventually.True(async () => (await till.GetJsonAsync(till.Operation(id))).GetProperty("progress").GetProperty("inserted").ValueKind == JsonValueKind.Number,
            what: "progress");
        var cancel = await till.PostAsync($"{till.Operation(id)}/cancel", new { });
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        var op = await till.SettledAsync(id);

        Assert.Equal(("cancelled", 200L, 200L, 0L), (op.GetProperty("outcome").GetString(), op.GetProperty("inserted").GetInt64(),
            op.GetProperty("returned").GetInt64(), op.GetProperty("collected").GetInt64()));
        Assert.Contains("#J#", till.Simulator.Received);
        Assert.Contains("#P#200#0#0#0#", till.Simulator.Received);
    }

    [Fact]
    public async Task A_cancelled_sale_whose_cash_the_machine_could_not_give_back_reports_what_is_owed_and_collects_nothing()
    {
        // Empty recyclers: a 50 € note goes to the stacker and cannot be paid back on cancel.
        await using var till = await Till.OpenAsync(fixture, prepare: sim =>
        {
            foreach (var value in CashMachine.Coins.Concat(CashMachine.RecyclableNotes))
            {
                sim.Machine.SetCount(value, 0);
            }
        });

        var id = await till.ChargeAsync(8000, "T-2201");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(5000);
        till.Simulator.PressCancel();
        var op = await till.SettledAsync(id);

        Assert.Equal(("cancelled", 5000L, 0L), (op.GetProperty("outcome").GetString(), op.GetProperty("inserted").GetInt64(), op.GetProperty("returned").GetInt64()));
        Assert.Equal((0L, 5000L), (op.GetProperty("collected").GetInt64(), op.GetProperty("shortfall").GetInt64()));
        Assert.Contains("non rendus", op.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains(till.Simulator.Transcript, l => l.EndsWith(",#WR:CANCEL#5000#0#0#0#\"", StringComparison.Ordinal));
        Assert.Equal(JsonValueKind.Null, op.GetProperty("paymentId").ValueKind);
    }
}
