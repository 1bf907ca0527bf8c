using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Bench;
using Fidpass.Chaos;

// ./fidpass bench [--duration 60] [--warmup 20] [--scan-rate 50] [--card-rate 2] [--cash-rate 1]
//                 [--readers 8] [--machines 4] [--members 1000] [--skip-gateway] [--skip-payments] [--report file.md]
// Against the system ./fidpass up started. Three phases, each with the CPU time and peak RSS of every
// process: (1) the mixed load of a shop through the gateway, open loop; (2) the authenticated lookup
// through the gateway vs straight to loyalty (bench/Fidpass.GatewayBench); (3) PaymentCollected →
// PointsCredited at 200 payments/s on the bus (bench/Fidpass.PaymentBench). Writes a Markdown report
// under docs/benchmarks/. See docs/benchmarks.md.
var options = BenchOptions.Parse(args);
var inv = CultureInfo.InvariantCulture;
var endpoints = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(options.State, "endpoints.json"))).RootElement;
var gateway = new Uri(endpoints.GetProperty("gateway").GetString()!);
var adminKey = endpoints.GetProperty("adminKey").GetString()!;
var rabbitMq = new Uri(endpoints.GetProperty("rabbitmq").GetString()!);
if (args.Contains("--compare"))
{
    return await Compare.RunAsync(options, args, gateway, adminKey, rabbitMq, endpoints.GetProperty("postgres").GetString()!);
}

var machine = Machine.Describe();
var started = DateTimeOffset.UtcNow;
var log = new RunLog();

HttpClient Client(int timeoutSeconds) => new(new SocketsHttpHandler { MaxConnectionsPerServer = 512, PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
{
    BaseAddress = gateway,
    Timeout = TimeSpan.FromSeconds(timeoutSeconds),
};

// Setup calls are the slow ones (importing members, registering readers).
using var http = Client(60);
using var till = Client(15);
using var fake = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:12111"), Timeout = TimeSpan.FromSeconds(10) };

// ---- Setup through the gateway -----------------------------------------------------------------
var merchant = await Setup.CreateMerchantAsync(http, adminKey, "Bench");
var key = await Setup.IssueKeyAsync(http, merchant, ["scan", "lookup", "terminal", "cash"]);
till.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
var scanMembers = new List<Guid>();
for (var left = options.Members; left > 0; left -= 250)
{
    scanMembers.AddRange(await Setup.ImportMembersAsync(http, merchant, Math.Min(250, left), "scan"));
}

var cardMembers = await Setup.ImportMembersAsync(http, merchant, 100, "card");
var cashMembers = await Setup.ImportMembersAsync(http, merchant, 100, "cash");
var readers = new List<string> { await Setup.ReaderAsync(till, merchant) };
var location = (await till.GetFromJsonAsync<JsonElement>($"/api/v1/merchants/{merchant.Slug}/terminal/readers"))[0].GetProperty("locationId").GetString();
for (var i = readers.Count; i < options.Readers; i++)
{
    using var registered = await till.PostAsJsonAsync($"/api/v1/merchants/{merchant.Slug}/terminal/readers",
        new { registrationCode = "simulated-wpe", label = $"Lecteur bench {i + 1}", locationId = location });
    registered.EnsureSuccessStatusCode();
    readers.Add((await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
}

var simulators = new List<CashSimulator>();
var machines = new List<(string Path, CashSimulator Simulator)>();
for (var i = 0; i < options.Machines; i++)
{
    var simulator = await CashSimulator.StartAsync(options.Root, options.State, $"bench-cashlogy-simulator-{i + 1}.log");
    simulators.Add(simulator);
    machines.Add((await Setup.CashMachineAsync(till, merchant, simulator.Port, $"Cashlogy bench {i + 1}"), simulator));
}

log.Say($"merchant {merchant.Slug}: {scanMembers.Count + cardMembers.Length + cashMembers.Length} members, {readers.Count} readers, {machines.Count} cash machines");

// ---- Phase 1: the mixed load ---------------------------------------------------------------------
var clock = Stopwatch.StartNew();
await using var bus = await BusObserver.StartAsync(rabbitMq, merchant.Id, clock);
var load = new MixedLoad(till, fake, merchant, clock);
using var stop = new CancellationTokenSource();
log.Say($"mixed load: {options.Warmup} s warm-up then {options.Duration} s measured; scans {options.ScanRate}/s, card {options.CardRate}/s, cash {options.CashRate}/s");
var flows = Task.WhenAll(
    load.ScansAsync([.. scanMembers], options.ScanRate, stop.Token),
    load.CardSalesAsync(cardMembers, [.. readers], options.CardRate, stop.Token),
    load.CashSalesAsync(cashMembers, [.. machines], options.CashRate, stop.Token));
await Task.Delay(TimeSpan.FromSeconds(options.Warmup));
var sampler = ProcessSampler.Start(options.State, "bench's Cashlogy simulators", () => [.. simulators.Select(s => s.ProcessId)]);
await Task.Delay(TimeSpan.FromSeconds(options.Duration));
await stop.CancelAsync();
await flows;
var mixedProcesses = await sampler.StopAsync();
// Credits of the last payments are still on their way: give them a moment before counting.
for (var i = 0; i < 100 && bus.Uncredited > 0; i++)
{
    await Task.Delay(100);
}

var measured = load.Samples.Where(s => s.DueAt >= options.Warmup).ToList();
var endToEnd = bus.Latencies(options.Warmup * 1000);
log.Say($"mixed load done: {measured.Count} operations measured, {bus.Collected} payments collected, {bus.Uncredited} not credited, {bus.CreditedTwice} credited twice");
foreach (var simulator in simulators)
{
    await simulator.DisposeAsync();
}

// ---- Phases 2 and 3: the gateway and bus benchmarks, as separate processes ------------------------
var gatewayPid = File.ReadAllText(Path.Combine(options.State, "run", "gateway.pid")).Trim();
// What each child serves, warm-up included (GatewayBench: min(1,000, a tenth) each way first, then
// both ways in alternating 100 ms blocks; PaymentBench: a tenth first), for the CPU-per-operation column.
const int lookups = 15000, payments = 6000;
var gatewayRun = options.SkipGateway ? null : await Child.RunAsync(options, log, "Fidpass.GatewayBench", 2 * (lookups + Math.Min(1000, lookups / 10)),
    "--admin-key", adminKey, "--direct", "http://127.0.0.1:5102", "--path", "/api/businesses/{slug}/integration/lookup?barcode={member}",
    "--requests", lookups.ToString(inv), "--rate", "1000", "--gateway-pid", gatewayPid);
var paymentRun = options.SkipPayments ? null : await Child.RunAsync(options, log, "Fidpass.PaymentBench", payments + (payments / 10),
    "--admin-key", adminKey, "--rabbitmq", rabbitMq.ToString(), "--rate", "200", "--payments", payments.ToString(inv));

// ---- Report --------------------------------------------------------------------------------------
var report = BenchReport.Build(options, started, machine, merchant, readers.Count, machines.Count, measured, endToEnd, bus, mixedProcesses, gatewayRun, paymentRun);
await BenchReport.WriteAsync(options, "bench", started, report);
var failed = measured.Count(s => !s.Ok);
return failed == 0 && bus.Uncredited == 0 && bus.CreditedTwice == 0 && (gatewayRun?.ExitCode ?? 0) == 0 && (paymentRun?.ExitCode ?? 0) == 0 ? 0 : 1;

namespace Fidpass.Bench
{
    internal sealed record BenchOptions(
        string State, string Root, int Duration, int Warmup, int ScanRate, int CardRate, int CashRate, int Readers, int Machines, int Members,
        bool SkipGateway, bool SkipPayments, string? ReportPath)
    {
        public static BenchOptions Parse(string[] args)
        {
            string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
            int Int(string name, int fallback) => Arg(name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;
            return new BenchOptions(
                Arg("--state") ?? ".fidpass",
                Arg("--root") ?? Directory.GetCurrentDirectory(),
                Int("--duration", 60),
                Int("--warmup", 20),
                Int("--scan-rate", 50),
                Int("--card-rate", 2),
                Int("--cash-rate", 1),
                Int("--readers", 8),
                Int("--machines", 4),
                Int("--members", 1000),
                args.Contains("--skip-gateway"),
                args.Contains("--skip-payments"),
                Arg("--report"));
        }
    }

    /// <summary>A benchmark run as its own process, with the CPU and memory of the system while it ran.</summary>
    internal sealed record ChildRun(string Name, string Arguments, int Operations, int ExitCode, string Output, IReadOnlyList<ProcessUsage> Processes);

    internal static class Child
    {
        public static Task<ChildRun> RunAsync(BenchOptions options, RunLog log, string name, int operations, params string[] arguments) =>
            RunToolAsync(options, log, name, "dotnet", operations, [Path.Combine(options.Root, "bench", name, "bin", "Release", "net10.0", name + ".dll"), .. arguments]);

        /// <summary>Any program as the load generator (wrk, a bench project), sampled like the system while it runs.</summary>
        public static async Task<ChildRun> RunToolAsync(BenchOptions options, RunLog log, string name, string file, int operations, params string[] arguments)
        {
            var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            log.Say($"{name}…");
            using var process = Process.Start(info)!;
            await using var sampler = ProcessSampler.Start(options.State, name + " (load generator)", () => [process.Id]);
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            var processes = await sampler.StopAsync();
            var text = (await output).TrimEnd() + ((await errors).Trim() is { Length: > 0 } e ? "\n" + e : "");
            Console.WriteLine(text);
            // The admin key is a secret: the report shows the arguments without it.
            var shown = string.Join(' ', arguments.Select((a, i) => i > 0 && arguments[i - 1] == "--admin-key" ? "$ADMIN" : a.Contains(' ', StringComparison.Ordinal) || a.Contains('{', StringComparison.Ordinal) ? $"\"{a}\"" : a));
            return new ChildRun(name, shown, operations, process.ExitCode, text, processes);
        }
    }
}
