using Fidpass.CashlogyEdge.Operations;
using Fidpass.CashlogyEdge.Protocol;

namespace Fidpass.CashlogyEdge.Tests;

public sealed class DecideTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static CashOperation Op(OperationKind kind, long amount, bool allowPartial = false, long? totalBefore = null) =>
        CashOperation.Create(new CashOperationRequested(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), kind, "R-1", amount, "eur",
            ChargeFlow.Express, allowPartial, false, null, null, null, kind == OperationKind.Payout ? "cash:m:sale" : null, Now))
        .Apply(new CashCommandSent(Guid.Empty, "#X#", totalBefore, Now));

    private static CashlogyReply Reply(string frame, CommandSpec spec) => FrameCodec.TryDecode(frame, spec, quiet: true).Reply!;

    [Fact]
    public void Change_the_machine_could_not_pay_is_owed_to_the_customer_and_only_the_sale_is_credited()
    {
        var settled = Decide.Charge(Op(OperationKind.Charge, 990), Reply("#0#2000#1000#0#0#", CommandCatalog.Charge), Now);

        Assert.Equal(Outcome.ChangeShort, settled.Outcome);
        Assert.Equal((990, 10), (settled.Collected, settled.Shortfall));
    }

    [Fact]
    public void A_partial_payment_allowed_by_the_till_credits_what_was_really_paid()
    {
        var settled = Decide.Charge(Op(OperationKind.Charge, 1000, allowPartial: true), Reply("#0#500#0#0#0#", CommandCatalog.Charge), Now);

        Assert.Equal(Outcome.PartiallyPaid, settled.Outcome);
        Assert.Equal(500, settled.Collected);
    }

    [Fact]
    public void Manual_cash_counts_in_the_net()
    {
        var settled = Decide.Charge(Op(OperationKind.Charge, 990), Reply("#0#500#10#500#0#", CommandCatalog.Charge), Now);

        Assert.Equal(Outcome.Completed, settled.Outcome);
        Assert.Equal(990, settled.Collected);
    }

    [Fact]
    public void A_busy_machine_rejects_the_charge_and_nothing_is_credited()
    {
        var settled = Decide.Charge(Op(OperationKind.Charge, 990), Reply("#ER:BUSY#", CommandCatalog.Charge), Now);

        Assert.Equal(Outcome.Rejected, settled.Outcome);
        Assert.Equal(0, settled.Collected);
    }

    [Fact]
    public void A_payout_the_machine_could_pay_only_in_part_reports_the_shortfall()
    {
        var settled = Decide.Payout(Op(OperationKind.Payout, 1250), Reply("#ER:GENERIC#1200#0#", CommandCatalog.Dispense), Now);

        Assert.Equal(Outcome.PartiallyPaid, settled.Outcome);
        Assert.Equal((1200, 50), (settled.Dispensed, settled.Shortfall));
    }

    [Fact]
    public void A_full_payout_is_completed()
    {
        var settled = Decide.Payout(Op(OperationKind.Payout, 1250), Reply("#0#1250#0#", CommandCatalog.Dispense), Now);

        Assert.Equal(Outcome.Completed, settled.Outcome);
        Assert.Equal(1250, settled.Dispensed);
    }

    [Theory]
    [InlineData(10_990, Outcome.Completed, 990)]
    [InlineData(10_000, Outcome.Cancelled, 0)]
    [InlineData(10_500, Outcome.NeedsAttention, 0)]
    public void A_lost_charge_reply_is_reconciled_from_the_inventory_totals(long totalAfter, Outcome expected, long collected)
    {
        var settled = Decide.Reconcile(Op(OperationKind.Charge, 990, totalBefore: 10_000), totalAfter, Now);

        Assert.Equal(expected, settled.Outcome);
        Assert.Equal(collected, settled.Collected);
        Assert.True(settled.Reconciled);
    }

    [Fact]
    public void A_lost_payout_reply_is_reconciled_from_what_left_the_machine()
    {
        var settled = Decide.Reconcile(Op(OperationKind.Payout, 500, totalBefore: 10_000), 9_800, Now);

        Assert.Equal(Outcome.PartiallyPaid, settled.Outcome);
        Assert.Equal(200, settled.Dispensed);
    }

    [Fact]
    public void An_operation_is_settled_once()
    {
        var op = Op(OperationKind.Charge, 990);
        var first = Decide.Charge(op, Reply("#0#990#0#0#0#", CommandCatalog.Charge), Now);
        var settled = op.Apply(first);

        Assert.Null(Decide.Settle(settled, first));
        Assert.Equal(OperationStatus.Settled, settled.Apply(new CashOperationOutcomeUnknown(op.Id, "late", Now)).Status);
    }

    [Fact]
    public void The_operation_id_is_stable_per_machine_and_request()
    {
        var machine = Guid.NewGuid();

        Assert.Equal(Decide.OperationId(machine, "T-42"), Decide.OperationId(machine, "T-42"));
        Assert.NotEqual(Decide.OperationId(machine, "T-42"), Decide.OperationId(Guid.NewGuid(), "T-42"));
        Assert.NotEqual(Decide.OperationId(machine, "T-42"), Decide.OperationId(machine, "T-43"));
    }

    private static CashOperation Dispensation(long amount, string list, string destination) =>
        CashOperation.Create(new CashOperationRequested(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), OperationKind.Dispensation, "U-1", amount, "eur",
            ChargeFlow.Express, false, false, null, null, null, null, Now, "manager", "U-12", list, destination));

    [Fact]
    public void A_dispensation_short_of_one_value_records_only_what_left_the_machine()
    {
        var settled = Decide.Dispensation(Dispensation(6300, "100:3;2000:3", "outlet"), Reply("#WR:LEVEL#100:3;2000:1#", CommandCatalog.DispenseDenominations), Now);

        Assert.Equal((Outcome.PartiallyPaid, 2300L, 4000L), (settled.Outcome, settled.Dispensed, settled.Shortfall));
        Assert.Equal("100:3;2000:1", settled.DispensedList);
    }

    [Fact]
    public void A_dispensation_refused_for_a_missing_safe_box_moves_nothing()
    {
        var settled = Decide.Dispensation(Dispensation(1000, ";1000:1", "safebox"), Reply("#ER:BAD_DATA#", CommandCatalog.DispenseDenominations2), Now);

        Assert.Equal((Outcome.Rejected, 0L, 0L), (settled.Outcome, settled.Dispensed, settled.Shortfall));
        Assert.Contains("coffre", settled.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void What_a_close_of_day_took_out_is_before_plus_added_minus_after()
    {
        var figures = ClosureFigures.From(Reply("#0#546247#5000#351247#", CommandCatalog.CloseDay));

        Assert.Equal((546247L, 5000L, 351247L, 200000L), (figures.Before, figures.Added, figures.After, figures.Withdrawn));
    }
}
