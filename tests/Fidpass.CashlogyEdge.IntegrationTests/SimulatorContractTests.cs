using System.Net.Sockets;
using System.Text;
using Fidpass.CashlogySimulator;
using Fidpass.Testing;
using ConnectorSimulator = Fidpass.CashlogySimulator.CashlogySimulator;

namespace Fidpass.CashlogyEdge.IntegrationTests;

/// <summary>
/// The simulator against the real traffic of spec 2.5.2/2.11 and the uncertain behaviours of section 4,
/// over a raw TCP client: what a Connector would answer, byte for byte.
/// </summary>
public sealed class SimulatorContractTests
{
    private sealed class RawClient(TcpClient tcp) : IAsyncDisposable
    {
        private readonly NetworkStream _stream = tcp.GetStream();

        public static async Task<RawClient> ConnectAsync(ConnectorSimulator sim)
        {
            var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", sim.Port, Till.Ct);
            return new RawClient(tcp);
        }

        public Task WriteAsync(string frame) => _stream.WriteAsync(Encoding.Latin1.GetBytes(frame), Till.Ct).AsTask();

        /// <summary>Reads until <paramref name="hashes"/> '#' have arrived (the reply's arity + 2).</summary>
        public async Task<string> ReadAsync(int hashes)
        {
            var text = new StringBuilder();
            var buffer = new byte[1024];
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Till.Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            while (text.ToString().Count(c => c == '#') < hashes)
            {
                var read = await _stream.ReadAsync(buffer, timeout.Token);
                if (read == 0)
                {
                    break;
                }

                text.Append(Encoding.Latin1.GetString(buffer, 0, read));
            }

            return text.ToString();
        }

        public async Task<string> AskAsync(string frame, int hashes)
        {
            await WriteAsync(frame);
            return await ReadAsync(hashes);
        }

        /// <summary>What a client the Connector does not serve gets: a closed connection, no reply.</summary>
        public async Task<string> AskRefusedAsync(string frame)
        {
            try
            {
                return await AskAsync(frame, 3);
            }
            catch (IOException)
            {
                return "";
            }
        }

        public ValueTask DisposeAsync()
        {
            tcp.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private static async Task<(ConnectorSimulator Sim, RawClient Client)> ReadyAsync(SimulatorOptions? options = null, Action<ConnectorSimulator>? prepare = null)
    {
        var sim = await ConnectorSimulator.StartAsync(options);
        prepare?.Invoke(sim);
        var client = await RawClient.ConnectAsync(sim);
        Assert.Equal("#0#2.5.0.136#", await client.AskAsync("#I#", 3));
        return (sim, client);
    }

    private static void LowOnOneCents(ConnectorSimulator sim) => sim.Machine.SetCount(1, 1);

    [Fact]
    public async Task Paid_9_90_with_a_20_euro_note_answers_exactly_as_the_real_Connector()
    {
        var (sim, client) = await ReadyAsync(prepare: LowOnOneCents);
        await using (sim)
        await using (client)
        {
            await client.WriteAsync("#C#1#TPV#990#0#15360#0#0#0#1#0#0#");
            await Eventually.True(() => Task.FromResult(sim.State == SimulatorState.Charging));
            sim.Insert(2000);

            Assert.Equal("#WR:LEVEL#2000#1010#0#0#", await client.ReadAsync(6));
        }
    }

    [Fact]
    public async Task Paid_3_60_with_5_euros_and_cancellations_answer_as_the_real_Connector()
    {
        var (sim, client) = await ReadyAsync(prepare: LowOnOneCents);
        await using (sim)
        await using (client)
        {
            await client.WriteAsync("#C#00001#1#360#0#15#15#0#0#1#0#0#");
            await Eventually.True(() => Task.FromResult(sim.State == SimulatorState.Charging));
            sim.Insert(500);
            Assert.Equal("#WR:LEVEL#500#140#0#0#", await client.ReadAsync(6));

            await client.WriteAsync("#C#00002#1#990#0#15#15#0#0#1#0#0#");
            await Eventually.True(() => Task.FromResult(sim.State == SimulatorState.Charging));
            sim.PressCancel();
            Assert.Equal("#WR:CANCEL#0#0#0#0#", await client.ReadAsync(6));

            await client.WriteAsync("#C#00003#1#2500#0#15#15#0#0#1#0#0#\r\n");
            await Eventually.True(() => Task.FromResult(sim.State == SimulatorState.Charging));
            sim.Insert(1000, 500, 200, 100);
            sim.PressCancel();
            Assert.Equal("#WR:CANCEL#1800#1800#0#0#", await client.ReadAsync(6));
        }
    }

    [Fact]
    public async Task The_back_office_give_change_replays_the_real_reply()
    {
        var (sim, client) = await ReadyAsync(prepare: s =>
        {
            foreach (var coin in CashMachine.Coins.Concat(CashMachine.RecyclableNotes))
            {
                s.Machine.SetCount(coin, 0);
            }

            // 546 247 c in the machine, as in the real log.
            s.Machine.SetCount(5000, 100);
            s.Machine.SetCount(2000, 23);
            s.Machine.SetCount(200, 1);
            s.Machine.SetCount(20, 2);
            s.Machine.SetCount(5, 1);
            s.Machine.SetCount(2, 1);
        });
        await using (sim)
        await using (client)
        {
            await client.WriteAsync("#G#1#1#1#1#1#1#1#1#1#0#1#1#1#");
            await Eventually.True(() => Task.FromResult(sim.State == SimulatorState.BackOffice));
            sim.CloseBackOffice(inserted: 965, returned: 965);

            Assert.Equal("#0#546247#546247#965#965#0#0#", await client.ReadAsync(8));
        }
    }

    [Fact]
    public async Task Before_init_and_after_end_commands_are_illegal()
    {
        await using var sim = await ConnectorSimulator.StartAsync();
        await using var client = await RawClient.ConnectAsync(sim);

        Assert.Equal("#ER:ILLEGAL#0#0#", await client.AskAsync("#T#", 4));
        Assert.Equal("#0#2.5.0.136#", await client.AskAsync("#I#", 3));
        Assert.Equal("#0#", await client.AskAsync("#E#", 2));
        Assert.Equal("#ER:ILLEGAL#0#", await client.AskAsync("#?#", 3));
    }

    [Theory]
    [InlineData("ER:BAD_DATA")]
    [InlineData("ER:ILLEGAL")]
    public async Task The_reply_to_an_unknown_command_is_an_option(string reply)
    {
        var (sim, client) = await ReadyAsync(new SimulatorOptions { UnknownCommandReply = reply });
        await using (sim)
        await using (client)
        {
            Assert.Equal($"#{reply}#", await client.AskAsync("#INFO#", 2));
        }
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task Whether_cancel_aborts_an_express_charge_and_answers_itself_are_options(bool aborts, bool ownReply)
    {
        var (sim, client) = await ReadyAsync(new SimulatorOptions { CancelAbortsExpressCharge = aborts, CancelEmitsOwnReply = ownReply });
        await using (sim)
        await using (client)
        {
            await client.WriteAsync("#C#1#1#990#0#0#0#0#0#1#0#0#");
            await Eventually.True(() => Task.FromResult(sim.State == SimulatorState.Charging));
            await client.WriteAsync("#!#");
            var expected = (aborts ? "#WR:CANCEL#0#0#0#0#" : "") + (ownReply ? "#0#" : "");
            var received = await client.ReadAsync(expected.Count(c => c == '#'));

            Assert.Equal(expected, received);
            Assert.Equal(aborts ? SimulatorState.Idle : SimulatorState.Charging, sim.State);
        }
    }

    [Fact]
    public async Task A_second_client_is_not_served_unless_allowed()
    {
        await using var sim = await ConnectorSimulator.StartAsync();
        await using var first = await RawClient.ConnectAsync(sim);
        await using var second = await RawClient.ConnectAsync(sim);

        Assert.Equal("", await second.AskRefusedAsync("#I#"));
        Assert.Equal("#0#2.5.0.136#", await first.AskAsync("#I#", 3));
    }

    [Fact]
    public async Task A_slow_init_keeps_other_commands_busy_until_it_answers()
    {
        await using var sim = await ConnectorSimulator.StartAsync(new SimulatorOptions { InitDuration = TimeSpan.FromMilliseconds(400) });
        await using var client = await RawClient.ConnectAsync(sim);

        await client.WriteAsync("#I#");
        await Eventually.True(() => Task.FromResult(sim.State == SimulatorState.Initializing));
        await client.WriteAsync("#T#");
        Assert.Equal("#ER:BUSY#", await client.ReadAsync(2));
        Assert.Equal("#0#2.5.0.136#", await client.ReadAsync(3));
    }

    [Fact]
    public async Task Change_is_made_from_what_is_really_there_not_greedily()
    {
        var (sim, client) = await ReadyAsync(prepare: s =>
        {
            foreach (var coin in CashMachine.Coins.Concat(CashMachine.RecyclableNotes))
            {
                s.Machine.SetCount(coin, 0);
            }

            s.Machine.SetCount(50, 1);
            s.Machine.SetCount(20, 3);
        });
        await using (sim)
        await using (client)
        {
            // Greedy would take 50 and be stuck at 10; 3 × 20 pays 60 exactly.
            Assert.Equal("#WR:LEVEL#60#0#", await client.AskAsync("#P#60#0#0#0#", 4));
            Assert.Equal("#ER:GENERIC#50#0#", await client.AskAsync("#P#60#0#0#0#", 4));
            Assert.Contains(sim.Transcript, l => l.Contains("INCAPAZ DE PAGAR 0,10 €", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Inventory_queries_use_the_coin_and_note_groups()
    {
        var (sim, client) = await ReadyAsync();
        await using (sim)
        await using (client)
        {
            var totals = await client.AskAsync("#T#", 4);
            var inventory = await client.AskAsync("#Y#", 4);
            var errors = await client.AskAsync("#?#", 3);

            Assert.Equal($"#0#{sim.Machine.RecyclersTotal}#0#", totals);
            Assert.StartsWith("#0#1:20,2:20,5:20,10:20,20:20,50:20,100:20,200:20;500:10,1000:10,2000:10#", inventory, StringComparison.Ordinal);
            Assert.Equal("#0##", errors);
        }
    }

    [Fact]
    public async Task Dispense_by_denomination_maintenance_closure_and_incidents_answer_in_the_spec_shapes()
    {
        var (sim, client) = await ReadyAsync(prepare: s => s.Machine.SetCount(2000, 1));
        await using (sim)
        await using (client)
        {
            Assert.Equal("#WR:LEVEL#;2000:1#", await client.AskAsync("#U#;2000:3#0#0#0#", 3));
            Assert.Equal("#ER:GENERIC#;2000:0#", await client.AskAsync("#U#;2000:1#0#0#0#", 3));
            Assert.Equal("#ER:BAD_DATA#", await client.AskAsync("#U2#;1000:1#2#0#0#", 2));
            // The one note paid out counts towards the maintenance interval.
            Assert.Equal("#0#4999#", await client.AskAsync("#W#0#", 3));
            Assert.Equal("#ER:BAD_DATA#0#0#0#", await client.AskAsync("#F#2#", 5));
            var total = sim.Machine.RecyclersTotal + sim.Machine.StackerTotal;
            Assert.Equal($"#0#{total}#{total}#0#0#0#0#", await client.AskAsync("#RI#0#1#2#", 8));

            await client.WriteAsync("#F#1#");
            await Eventually.True(() => Task.FromResult(sim.State == SimulatorState.Closing));
            Assert.Equal("#ER:BUSY#", await client.AskAsync("#T#", 2));
            Assert.True(sim.CloseDay(added: 500, withdrawn: 1000));
            Assert.Equal($"#0#{total}#500#{total - 500}#", await client.ReadAsync(5));

            // Complete emptying pays out every recycler; K then reports the coins at zero.
            var recyclers = sim.Machine.RecyclersTotal;
            Assert.Equal($"#0#{recyclers}#", await client.AskAsync("#V#1#", 3));
            Assert.Equal("#0#0#0#", await client.AskAsync("#K#2#", 4));
        }
    }
}
