using Fidpass.CashlogyEdge.Operations;
using Fidpass.CashlogyEdge.Protocol;

namespace Fidpass.CashlogyEdge.Tests;

/// <summary>The real Connector replies of spec 2.5.2 (v2.5.0.136), decoded and judged exactly.</summary>
public sealed class RealTrafficTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static CashOperation Sale(long amount, bool allowPartial = false) => CashOperation.Create(new CashOperationRequested(
        Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), OperationKind.Charge, "T-1", amount, "eur", ChargeFlow.Express, allowPartial, false,
        Guid.NewGuid(), "basket-1", null, null, Now));

    private static CashlogyReply Charge(string frame) => FrameCodec.TryDecode(frame, CommandCatalog.Charge, quiet: true).Reply!;

    [Fact]
    public void Paid_3_60_with_5_euros_collects_3_60_and_raises_a_level_warning()
    {
        var settled = Decide.Charge(Sale(360), Charge("#WR:LEVEL#500#140#0#0#"), Now);

        Assert.Equal(Outcome.Completed, settled.Outcome);
        Assert.Equal((500, 140, 360), (settled.Inserted, settled.Returned, settled.Collected));
        Assert.True(settled.LevelWarning);
    }

    [Fact]
    public void Paid_9_90_with_20_euros_collects_9_90_with_10_10_change()
    {
        var settled = Decide.Charge(Sale(990), Charge("#WR:LEVEL#2000#1010#0#0#"), Now);

        Assert.Equal(Outcome.Completed, settled.Outcome);
        Assert.Equal((2000, 1010, 990, 0), (settled.Inserted, settled.Returned, settled.Collected, settled.Shortfall));
    }

    [Fact]
    public void Cancelled_before_inserting_money_collects_nothing()
    {
        var settled = Decide.Charge(Sale(990), Charge("#WR:CANCEL#0#0#0#0#"), Now);

        Assert.Equal(Outcome.Cancelled, settled.Outcome);
        Assert.Equal((0, 0), (settled.Collected, settled.Shortfall));
    }

    [Fact]
    public void Cancelled_after_inserting_18_euros_all_returned_collects_nothing_and_owes_nothing()
    {
        var settled = Decide.Charge(Sale(2500), Charge("#WR:CANCEL#1800#1800#0#0#"), Now);

        Assert.Equal(Outcome.Cancelled, settled.Outcome);
        Assert.Equal((1800, 1800, 0, 0), (settled.Inserted, settled.Returned, settled.Collected, settled.Shortfall));
    }

    [Fact]
    public void A_generic_failure_collects_nothing()
    {
        var settled = Decide.Charge(Sale(990), Charge("#ER:GENERIC#0#0#0#0#"), Now);

        Assert.Equal(Outcome.Failed, settled.Outcome);
        Assert.Equal(0, settled.Collected);
    }

    [Fact]
    public void The_back_office_give_change_example_leaves_the_total_unchanged()
    {
        var reply = FrameCodec.TryDecode("#0#546247#546247#965#965#0#0#", CommandCatalog.BackOffice, quiet: false).Reply!;

        Assert.Equal(new BackOfficeFigures(546247, 546247, 965, 965, 0, 0), BackOfficeFigures.From(reply));
    }

    [Fact]
    public void The_spec_denomination_list_adds_up_in_cents()
    {
        var list = DenominationList.Parse("1:49,2:33,5:31,10:227,20:26,50:23,100:34,200:19;500:15,1000:17,2000:11,5000:6,10000:0,20000:0,50000:0");

        Assert.Equal(15, list.Items.Count);
        Assert.Equal(8, list.Items.Count(i => !i.IsNote));
        Assert.Equal(49 + 66 + 155 + 2270 + 520 + 1150 + 3400 + 3800 + 7500 + 17000 + 22000 + 30000, list.TotalCents);
    }

    [Fact]
    public void Stacker_and_safe_box_counts_in_the_note_group_are_kept_apart()
    {
        var list = DenominationList.Parse("1:2;500:1,STACKER:4,SAFEBOX:0");

        Assert.Equal(502, list.TotalCents);
        Assert.Equal(4, list.Extras["STACKER"]);
    }

    [Fact]
    public void Levels_pair_each_state_with_its_percentage()
    {
        var levels = DenominationLevel.Parse("1:12,2:0;500:22", "1:5,2:40;500:92");

        Assert.Equal(("1", "near_empty", 5), (levels[0].Denomination, levels[0].StateName, levels[0].Percent));
        Assert.Equal(("500", true, "near_full"), (levels[2].Denomination, levels[2].IsNote, levels[2].StateName));
    }
}
