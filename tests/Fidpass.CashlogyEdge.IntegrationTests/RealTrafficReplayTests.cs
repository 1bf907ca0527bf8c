using Fidpass.CashlogySimulator;

namespace Fidpass.CashlogyEdge.IntegrationTests;

/// <summary>
/// The five real <c>#C#</c> exchanges of spec 2.5.2 (Connector v2.5.0.136), end to end: the edge's
/// request frame on the wire, the Connector's reply byte for byte, and what the edge recorded from it.
/// </summary>
public sealed class RealTrafficReplayTests(EdgeFixture fixture)
{
    public enum Customer
    {
        Pays,
        CancelsBeforePaying,
        CancelsAfterPaying,
        MachineFails,
    }

    [Theory]
    [InlineData(360, Customer.Pays, new long[] { 500 }, "#WR:LEVEL#500#140#0#0#", "completed", 360)]
    [InlineData(990, Customer.Pays, new long[] { 2000 }, "#WR:LEVEL#2000#1010#0#0#", "completed", 990)]
    [InlineData(990, Customer.CancelsBeforePaying, new long[0], "#WR:CANCEL#0#0#0#0#", "cancelled", 0)]
    [InlineData(2500, Customer.CancelsAfterPaying, new long[] { 1000, 500, 200, 100 }, "#WR:CANCEL#1800#1800#0#0#", "cancelled", 0)]
    [InlineData(990, Customer.MachineFails, new long[0], "#ER:GENERIC#0#0#0#0#", "failed", 0)]
    public async Task A_real_Connector_exchange_replays_byte_for_byte_and_the_edge_records_the_machine_figures(
        long amount, Customer customer, long[] pieces, string reply, string outcome, long collected)
    {
        // As on the machine of the traffic log: one-cent coins near empty, hence WR:LEVEL on success.
        await using var till = await Till.OpenAsync(fixture, prepare: sim => sim.Machine.SetCount(1, 1));
        if (customer == Customer.MachineFails)
        {
            till.Simulator.Faults.ForceNextCodeFor = "C";
            till.Simulator.Faults.ForceNextCode = "ER:GENERIC";
        }

        var id = await till.ChargeAsync(amount, $"RT-{amount}");
        if (customer != Customer.MachineFails)
        {
            await till.WaitForScreenAsync(SimulatorState.Charging);
            if (pieces.Length > 0)
            {
                Assert.True(till.Simulator.Insert(pieces));
            }

            if (customer != Customer.Pays)
            {
                Assert.True(till.Simulator.PressCancel());
            }
        }

        var op = await till.SettledAsync(id);

        Assert.Equal([$"#C#RT-{amount}#TPV#{amount}#0#0#0#0#0#1#0#0#"], till.Simulator.Received.Where(f => f.StartsWith("#C#", StringComparison.Ordinal)));
        Assert.Contains(till.Simulator.Transcript, line => line.EndsWith("," + reply + "\"", StringComparison.Ordinal));
        var fields = reply.Trim('#').Split('#');
        Assert.Equal((fields[0], outcome, collected), (op.GetProperty("resultCode").GetString(), op.GetProperty("outcome").GetString(), op.GetProperty("collected").GetInt64()));
        Assert.Equal((long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture), long.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture)),
            (op.GetProperty("inserted").GetInt64(), op.GetProperty("returned").GetInt64()));
        Assert.Equal(fields[0] == "WR:LEVEL", op.GetProperty("levelWarning").GetBoolean());
    }
}
