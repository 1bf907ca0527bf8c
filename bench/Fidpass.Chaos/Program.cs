using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fidpass.Chaos;

// ./fidpass chaos [--short] [--duration 600] [--scan-rate 20] [--fault-gap S] [--report docs/benchmarks/…md] [--sabotage]
// Against the system ./fidpass up started (its state folder: endpoints.json, run/*.pid): creates its
// own merchant, members, a cash machine on its own CashlogyConnector simulator, then sends an
// open-loop stream of integrator scans and a steady flow of card and cash sales while it injects
// faults one after the other; then checks every credit against the journal of what it sent.
// See docs/chaos.md for how to read the output.
var options = ChaosOptions.Parse(args);
var inv = CultureInfo.InvariantCulture;
var endpoints = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(options.State, "endpoints.json"))).RootElement;
var gateway = new Uri(endpoints.GetProperty("gateway").GetString()!);
var adminKey = endpoints.GetProperty("adminKey").GetString()!;
var log = new RunLog();
var journal = new Journal();

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromSeconds(30) })
{
    BaseAddress = gateway,
    Timeout = TimeSpan.FromSeconds(10),
};

// ---- Setup: merchant, till key, members, reader, cash machine on our own simulator ----------------
var merchant = await Setup.CreateMerchantAsync(http, adminKey);
log.Say($"merchant {merchant.Slug} ({merchant.Id})");
var tillKey = await Setup.IssueKeyAsync(http, merchant, ["scan", "lookup", "terminal", "cash"]);
var scanMembers = await Setup.ImportMembersAsync(http, merchant, options.Members, "scan");
var cardMembers = await Setup.ImportMembersAsync(http, merchant, 20, "card");
var cashMembers = await Setup.ImportMembersAsync(http, merchant, 20, "cash");
using var till = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromSeconds(30) })
{
    BaseAddress = gateway,
    Timeout = TimeSpan.FromSeconds(10),
};
till.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tillKey);
using var fake = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:12111"), Timeout = TimeSpan.FromSeconds(10) };
var readerId = await Setup.ReaderAsync(till, merchant);
await using var simulator = await CashSimulator.StartAsync(options.Root, options.State);
var machinePath = await Setup.CashMachineAsync(till, merchant, simulator.Port);
log.Say($"reader {readerId}, cash machine {machinePath} on simulator 127.0.0.1:{simulator.Port}");

// What the bus carries for this merchant, from before the first sale to the check.
await using var witness = await BusWitness.StartAsync(new Uri(endpoints.GetProperty("rabbitmq").GetString()!), merchant.Id);

// ---- Load --------------------------------------------------------------------------------------
var clock = Stopwatch.StartNew();
var start = DateTimeOffset.UtcNow;
using var stop = new CancellationTokenSource();
var flows = new Flows(till, fake, simulator, merchant, readerId, machinePath, journal, clock, log);
var scanLoad = flows.ScanStreamAsync(scanMembers, options.ScanRate, stop.Token);
var cardLoad = flows.CardLoopAsync(cardMembers, stop.Token);
var cashLoad = flows.CashLoopAsync(cashMembers, stop.Token);

// ---- Faults ------------------------------------------------------------------------------------
var faults = new List<FaultRecord>();
var plan = FaultPlan.Build(options.Only);
await Task.Delay(TimeSpan.FromSeconds(options.Warmup));
var injector = new Injector(options, fake, simulator, flows, log, clock);
foreach (var step in plan)
{
    faults.Add(await injector.InjectAsync(step));
    await Task.Delay(TimeSpan.FromSeconds(options.FaultGap));
}

await fake.PostAsync(new Uri("/__fake/webhooks?mode=normal", UriKind.Relative), null);
await Task.Delay(TimeSpan.FromSeconds(options.Cooldown));
await stop.CancelAsync();
await Task.WhenAll(scanLoad, cardLoad, cashLoad);
var loadSeconds = clock.Elapsed.TotalSeconds;
log.Say($"load stopped after {loadSeconds:F0} s: {journal.Count} operations sent");

// Late, duplicate webhooks: Stripe may deliver an old event again long after the fact.
var late = await injector.RedeliverLateAsync(10);
log.Say($"re-delivered {late} old Stripe events late");

// ---- Check -------------------------------------------------------------------------------------
var postgres = endpoints.GetProperty("postgres").GetString()!;
if (options.Sabotage)
{
    // The checker's own check: a read model that drifted from its events must fail the run.
    await StoreAudit.CorruptAsync(postgres, cardMembers[0], 7);
    log.Say($"SABOTAGE: member {cardMembers[0]}'s document given 7 points its events do not have; this run must FAIL");
}

var checker = new Checker(http, till, merchant, journal, witness, postgres, log);
var verdict = await checker.CheckAsync([.. scanMembers, .. cardMembers, .. cashMembers]);

// The journal itself, for evidence: one line per operation (what was sent, what the till was told).
var journalPath = Path.Combine(options.State, "logs", $"chaos-journal-{start.ToString("yyyyMMdd-HHmmss", inv)}.jsonl");
await File.WriteAllLinesAsync(journalPath, journal.All.Select(o => JsonSerializer.Serialize(o)));
log.Say($"journal: {journalPath}");

// ---- Report ------------------------------------------------------------------------------------
var report = Report.Build(options, start, loadSeconds, journal, faults, verdict, flows);
Console.WriteLine();
Console.WriteLine(report.Console);
var path = options.ReportPath ?? Path.Combine(options.Root, "docs", "benchmarks",
    $"chaos-{start.ToString("yyyy-MM-dd-HHmm", inv)}{(options.Short ? "-short" : "")}.md");
Directory.CreateDirectory(Path.GetDirectoryName(path)!);
await File.WriteAllTextAsync(path, report.Markdown);
Console.WriteLine($"Report written to {path}");
return verdict.Violations.Count == 0 ? 0 : 1;

namespace Fidpass.Chaos
{
    internal sealed record ChaosOptions(string State, string Root, bool Short, int Duration, int ScanRate, int Members, double Warmup, double FaultGap, double Cooldown, string? ReportPath, bool Sabotage, string? Only)
    {
        public static ChaosOptions Parse(string[] args)
        {
            string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
            var shortRun = args.Contains("--short");
            var duration = int.Parse(Arg("--duration") ?? (shortRun ? "100" : "600"), CultureInfo.InvariantCulture);
            var faults = FaultPlan.Build(Arg("--only")).Count;
            // Warm-up (the baseline latency), one gap per fault, and a cool-down before the check.
            var warmup = Math.Max(8, duration * 0.08);
            var cooldown = Math.Max(10, duration * 0.08);
            var gap = Arg("--fault-gap") is { } g ? double.Parse(g, CultureInfo.InvariantCulture) : Math.Max(5, (duration - warmup - cooldown) / faults);
            return new ChaosOptions(
                Arg("--state") ?? ".fidpass",
                Arg("--root") ?? Directory.GetCurrentDirectory(),
                shortRun,
                duration,
                int.Parse(Arg("--scan-rate") ?? "20", CultureInfo.InvariantCulture),
                int.Parse(Arg("--members") ?? "60", CultureInfo.InvariantCulture),
                warmup,
                gap,
                cooldown,
                Arg("--report"),
                args.Contains("--sabotage"),
                Arg("--only"));
        }
    }

    /// <summary>One operation the till sent, and what it was told.</summary>
    internal sealed class Operation
    {
        public required string Id { get; init; }

        public required string Flow { get; init; }

        public required Guid Member { get; init; }

        public required long AmountCents { get; init; }

        /// <summary>Seconds since the load started, when it was due (open loop) or begun.</summary>
        public required double DueAt { get; init; }

        public double? DoneAt { get; set; }

        /// <summary>ok: the till was told it succeeded; failed: told it did not; unknown: no answer it could trust.</summary>
        public string Outcome { get; set; } = "unknown";

        /// <summary>Requests that started the operation (1 when nothing had to be retried).</summary>
        public int Attempts { get; set; }

        /// <summary>Transport errors, timeouts and 5xx seen along the way.</summary>
        public int Errors { get; set; }

        /// <summary>Where the till polls a cash operation.</summary>
        public string? Location { get; set; }

        public bool FirstAttemptOk { get; set; }

        public string? PaymentId { get; set; }

        /// <summary>Refunded from the Stripe Dashboard during the run (in full): the credit must be reversed once.</summary>
        public long RefundedCents { get; set; }

        public long? Collected { get; set; }

        /// <summary>Collected → balance visible to the till, for payments.</summary>
        public double? CreditLatencyMs { get; set; }

        public string? Note { get; set; }

        public double? LatencyMs => DoneAt is { } done ? (done - DueAt) * 1000 : null;
    }

    internal sealed class Journal
    {
        private readonly ConcurrentQueue<Operation> _ops = new();
        private readonly ConcurrentDictionary<Guid, int> _sequence = new();

        public int Count => _ops.Count;

        public IReadOnlyList<Operation> All => [.. _ops];

        public void Add(Operation op) => _ops.Enqueue(op);

        /// <summary>Every operation of a member gets a distinct amount, so that each credit in the ledger names its operation.</summary>
        public long NextAmount(Guid member, long baseCents, long step = 1) => baseCents + (step * _sequence.AddOrUpdate(member, 1, (_, n) => n + 1));
    }

    internal sealed class Flows(HttpClient till, HttpClient fake, CashSimulator simulator, Merchant merchant, string readerId, string machinePath,
        Journal journal, Stopwatch clock, RunLog log)
    {
        private int _cutNextCharge;

        public double Now => clock.Elapsed.TotalSeconds;

        public TaskCompletionSource<double>? CutDone { get; private set; }

        /// <summary>The next cash charge gets its Connector connection cut after it is sent, before the customer pays.</summary>
        public Task<double> CutNextChargeAsync()
        {
            CutDone = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
            Interlocked.Exchange(ref _cutNextCharge, 1);
            return CutDone.Task;
        }

        private int _refundNextCard;

        public TaskCompletionSource<double>? RefundDone { get; private set; }

        /// <summary>The next card sale is presented and refunded in full while Stripe's reads of its PaymentIntent fail.</summary>
        public Task<double> RefundNextCardAsync()
        {
            RefundDone = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
            Interlocked.Exchange(ref _refundNextCard, 1);
            return RefundDone.Task;
        }

        // ---- Integrator scans: open loop, retried with the SAME Idempotency-Key like a real till ----
        public Task ScanStreamAsync(Guid[] members, int rate, CancellationToken stop) =>
            OpenLoop.RunAsync(rate, i =>
            {
                var member = members[i % members.Length];
                var op = new Operation
                {
                    Id = "scan-" + Guid.NewGuid().ToString("N"),
                    Flow = "scan",
                    Member = member,
                    AmountCents = journal.NextAmount(member, 1000),
                    DueAt = Now,
                };
                journal.Add(op);
                return ScanAsync(op);
            }, stop);

        private async Task ScanAsync(Operation op)
        {
            var body = JsonSerializer.Serialize(new { barcode = op.Member.ToString(), amount_eur = (op.AmountCents / 100m).ToString("0.00", CultureInfo.InvariantCulture) });
            var giveUp = Now + 90;
            while (true)
            {
                op.Attempts++;
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/businesses/{merchant.Slug}/integration/scan")
                    {
                        Content = new StringContent(body, Encoding.UTF8, "application/json"),
                    };
                    request.Headers.Add("Idempotency-Key", op.Id);
                    using var response = await till.SendAsync(request);
                    var text = await response.Content.ReadAsStringAsync();
                    var status = (int)response.StatusCode;
                    if (response.IsSuccessStatusCode)
                    {
                        op.Outcome = "ok";
                        op.FirstAttemptOk = op.Attempts == 1;
                        op.DoneAt = Now;
                        return;
                    }

                    if (status is >= 400 and < 500 and not 408 and not 409 and not 429)
                    {
                        // A definite refusal: the till shows it; nothing may be credited.
                        op.Outcome = "failed";
                        op.Note = $"{status} {Truncate(text)}";
                        op.DoneAt = Now;
                        return;
                    }

                    op.Note = $"{status} {Truncate(text)}";
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    op.Note = ex.GetType().Name;
                }

                if (Now > giveUp)
                {
                    op.Outcome = "unknown";
                    op.DoneAt = Now;
                    return;
                }

                await Task.Delay(Math.Min(2000, 100 * op.Attempts));
            }
        }

        // ---- Card sales on the simulated reader, one at a time (a reader serves one sale) ----
        public Task CardLoopAsync(Guid[] members, CancellationToken stop) =>
            // Cents always ending in 2: the fake Stripe, like Stripe's test mode, declines amounts ending in 01, 05, 55, 65, 75.
            SerialSalesAsync("card", members, member => journal.NextAmount(member, 502, 10), CardAsync, 200, stop);

        /// <summary>Sales of one flow one after the other (a reader or a machine serves one sale at a time), each journaled before it is sent.</summary>
        private async Task SerialSalesAsync(string flow, Guid[] members, Func<Guid, long> amount, Func<Operation, Task> sell, int pauseMs, CancellationToken stop)
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var member = members[n % members.Length];
                var op = new Operation
                {
                    Id = $"chaos-{flow}-{merchant.Id.ToString("N")[..6]}-{n}",
                    Flow = flow,
                    Member = member,
                    AmountCents = amount(member),
                    DueAt = Now,
                };
                journal.Add(op);
                await sell(op);
                await Task.Delay(pauseMs, CancellationToken.None);
            }
        }

        private async Task CardAsync(Operation op)
        {
            var giveUp = Now + 60;
            var before = await PointsAsync(op.Member);
            var path = $"/api/v1/merchants/{merchant.Slug}/terminal/payments";
            var presented = false;
            while (Now < giveUp)
            {
                try
                {
                    var view = await CardViewAsync(op.Id);
                    if (view is null || view.Value.GetProperty("status").GetString() is "started" or "reader_failed")
                    {
                        // Not started yet, or the reader step failed: start the SAME sale again (idempotent by saleId).
                        op.Attempts++;
                        presented = false;
                        using var started = await till.PostAsJsonAsync(path, new { saleId = op.Id, amount = op.AmountCents, currency = "eur", readerId, memberBarcode = op.Member.ToString() });
                        if (!started.IsSuccessStatusCode)
                        {
                            var refusal = await started.Content.ReadAsStringAsync();
                            if (ReaderBusyWith(refusal) is { } blocking && blocking != op.Id)
                            {
                                // A sale given up earlier still holds the reader (its cancel was lost): the till cancels it explicitly.
                                using var freed = await till.PostAsync(new Uri($"{path}/{Uri.EscapeDataString(blocking)}/cancel", UriKind.Relative), null);
                            }

                            op.Note = $"start {(int)started.StatusCode} {Truncate(refusal)}";
                            op.Errors++;
                            await Task.Delay(300);
                            continue;
                        }

                        view = await started.Content.ReadFromJsonAsync<JsonElement>();
                    }

                    var status = view.Value.GetProperty("status").GetString();
                    op.PaymentId = view.Value.TryGetProperty("paymentIntentId", out var pi) && pi.ValueKind == JsonValueKind.String ? pi.GetString() : op.PaymentId;
                    if (status == "succeeded")
                    {
                        op.Outcome = "ok";
                        op.FirstAttemptOk = op.Attempts == 1 && op.Errors == 0;
                        op.DoneAt = Now;
                        op.Collected = view.Value.GetProperty("amountReceived").GetInt64();
                        break;
                    }

                    if (status is "declined" or "canceled")
                    {
                        op.Outcome = "failed";
                        op.Note = status;
                        op.DoneAt = Now;
                        return;
                    }

                    if (status == "processing" && !presented && op.PaymentId is { } intent && Interlocked.CompareExchange(ref _refundNextCard, 0, 1) == 1)
                    {
                        presented = await PresentAndRefundWhileReadsFailAsync(op, intent);
                    }
                    else if (status == "processing" && !presented)
                    {
                        // The customer taps the card on the reader.
                        using var present = await fake.PostAsync(new Uri($"/__fake/readers/{readerId}/present?number=4242424242424242", UriKind.Relative), null);
                        presented = present.IsSuccessStatusCode;
                        if (!presented)
                        {
                            op.Note = $"present {(int)present.StatusCode}";
                            op.Errors++;
                        }
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
                {
                    op.Note = ex.GetType().Name;
                    op.Errors++;
                }

                await Task.Delay(presented ? 50 : 200);
            }

            if (op.Outcome != "ok")
            {
                // The till gives up on this sale and frees the reader; whether money moved is settled by the checker.
                op.DoneAt = Now;
                try
                {
                    using var cancel = await till.PostAsync(new Uri($"{path}/{op.Id}/cancel", UriKind.Relative), null);
                    op.Note += $"; gave up, cancel → {(int)cancel.StatusCode}";
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    op.Note += "; gave up, cancel failed";
                }

                return;
            }

            if (op.RefundedCents == 0)
            {
                await WaitForCreditAsync(op, before);
            }
        }

        /// <summary>
        /// The fault of the refunded sale: every read of this sale's PaymentIntent fails (500) while the
        /// customer taps the card and the merchant refunds it in full from the Stripe Dashboard, so the
        /// refund reaches stripe-terminal and loyalty before the success does. Reads come back a few
        /// seconds later; the sale must then be credited once and that credit reversed once.
        /// </summary>
        private async Task<bool> PresentAndRefundWhileReadsFailAsync(Operation op, string intent)
        {
            using (var failing = await fake.PostAsync(new Uri($"/__fake/faults?method=GET&path=/v1/payment_intents/{intent}&status=500&count=1000000", UriKind.Relative), null))
            {
                failing.EnsureSuccessStatusCode();
            }

            try
            {
                using var present = await fake.PostAsync(new Uri($"/__fake/readers/{readerId}/present?number=4242424242424242", UriKind.Relative), null);
                if (!present.IsSuccessStatusCode)
                {
                    op.Note = $"present {(int)present.StatusCode}";
                    op.Errors++;
                    RefundDone?.TrySetResult(Now);
                    return false;
                }

                using var dashboard = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/refunds", UriKind.Relative))
                {
                    Content = new FormUrlEncodedContent([new("payment_intent", intent)]),
                };
                dashboard.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk_test_chaosDashboardRefunds0000000000000");
                using var refunded = await fake.SendAsync(dashboard);
                if (refunded.IsSuccessStatusCode)
                {
                    op.RefundedCents = (await refunded.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("amount").GetInt64();
                    op.Note = "presented and refunded in full while Stripe reads of its PaymentIntent failed";
                    log.Say($"{op.Id}: presented and refunded ({op.RefundedCents} cents) while Stripe reads of {intent} fail");
                }
                else
                {
                    op.Note = $"dashboard refund {(int)refunded.StatusCode} {Truncate(await refunded.Content.ReadAsStringAsync())}";
                    log.Say($"{op.Id}: the refund was refused ({op.Note})");
                }

                // The refund's webhooks reach stripe-terminal, and its PaymentRefunded loyalty, while the success cannot.
                await Task.Delay(4000);
                return true;
            }
            finally
            {
                using var cleared = await fake.DeleteAsync(new Uri("/__fake/faults", UriKind.Relative));
                RefundDone?.TrySetResult(Now);
            }
        }

        /// <summary>The sale named by a 409 <c>reader_busy</c>, if that is what the answer is.</summary>
        private static string? ReaderBusyWith(string problem)
        {
            try
            {
                using var document = JsonDocument.Parse(problem);
                var json = document.RootElement;
                return json.TryGetProperty("code", out var code) && code.GetString() == "reader_busy" && json.TryGetProperty("saleId", out var sale) ? sale.GetString() : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }

        private async Task<JsonElement?> CardViewAsync(string saleId)
        {
            using var response = await till.GetAsync(new Uri($"/api/v1/merchants/{merchant.Slug}/terminal/payments/{saleId}", UriKind.Relative));
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return null;
            }

            response.EnsureSuccessStatusCode();
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }

        // ---- Cash sales in our Cashlogy simulator, one at a time (one machine) ----
        public Task CashLoopAsync(Guid[] members, CancellationToken stop) =>
            SerialSalesAsync("cash", members, member => journal.NextAmount(member, 300), CashAsync, 300, stop);

        private async Task CashAsync(Operation op)
        {
            var giveUp = Now + 60;
            var before = await PointsAsync(op.Member);
            string? location = null;
            var paid = false;
            while (Now < giveUp)
            {
                try
                {
                    if (location is null)
                    {
                        op.Attempts++;
                        // Idempotent by requestId: a retry after a lost answer replays the same operation.
                        using var charge = await till.PostAsJsonAsync($"{machinePath}/charges", new { requestId = op.Id, amount = op.AmountCents, memberBarcode = op.Member.ToString() });
                        if (!charge.IsSuccessStatusCode)
                        {
                            op.Note = $"charge {(int)charge.StatusCode} {Truncate(await charge.Content.ReadAsStringAsync())}";
                            op.Errors++;
                            await Task.Delay(500);
                            continue;
                        }

                        var created = await charge.Content.ReadFromJsonAsync<JsonElement>();
                        location = $"/api/v1/merchants/{merchant.Slug}/cash/operations/{created.GetProperty("operationId").GetGuid()}";
                        op.Location = location;
                    }

                    var view = await till.GetFromJsonAsync<JsonElement>(location);
                    var status = view.GetProperty("status").GetString();
                    if (!paid)
                    {
                        if (status == "sent" && Volatile.Read(ref _cutNextCharge) == 1)
                        {
                            // Let the charge screen open on the machine, then cut.
                            await Task.Delay(300);
                            Interlocked.Exchange(ref _cutNextCharge, 0);
                            // The fault: the Connector's connection drops while the charge screen is open.
                            using var cut = await simulator.Control.PostAsync(new Uri("/control/disconnect", UriKind.Relative), null);
                            op.Note = "connector cut mid-charge";
                            log.Say($"connector connection cut during {op.Id}");
                            CutDone?.TrySetResult(Now);
                        }

                        if (Volatile.Read(ref _cutNextCharge) == 0 || status != "requested")
                        {
                            // The customer pays the exact amount (refused until the inlet is open).
                            using var insert = await simulator.Control.PostAsJsonAsync("/control/insert", new { amount = op.AmountCents });
                            paid = insert.IsSuccessStatusCode;
                        }
                    }

                    if (status == "settled")
                    {
                        op.Collected = view.TryGetProperty("collected", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt64() : 0;
                        op.PaymentId = view.TryGetProperty("paymentId", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
                        op.Outcome = op.Collected > 0 ? "ok" : "failed";
                        op.FirstAttemptOk = op.Attempts == 1 && op.Errors == 0 && op.Note is null;
                        op.DoneAt = Now;
                        break;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
                {
                    op.Note = ex.GetType().Name;
                    op.Errors++;
                }

                await Task.Delay(paid ? 50 : 100);
            }

            if (op.Outcome != "ok")
            {
                op.DoneAt ??= Now;
                return;
            }

            await WaitForCreditAsync(op, before);
        }

        /// <summary>Collected → the member's balance shows it (these members get no other credit meanwhile).</summary>
        private async Task WaitForCreditAsync(Operation op, long? before)
        {
            if (before is null)
            {
                return;
            }

            var expected = before.Value + (op.Collected ?? op.AmountCents) / 100;
            var deadline = Now + 30;
            while (Now < deadline)
            {
                if (await PointsAsync(op.Member) is { } points && points >= expected)
                {
                    op.CreditLatencyMs = (Now - op.DoneAt!.Value) * 1000;
                    return;
                }

                await Task.Delay(20);
            }
        }

        private async Task<long?> PointsAsync(Guid member)
        {
            for (var i = 0; i < 50; i++)
            {
                try
                {
                    using var response = await till.GetAsync(new Uri($"/api/businesses/{merchant.Slug}/integration/lookup?barcode={member}", UriKind.Relative));
                    if (response.IsSuccessStatusCode)
                    {
                        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("member").GetProperty("points").GetInt64();
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                }

                await Task.Delay(200);
            }

            return null;
        }

        private static string Truncate(string text) => text.Length <= 160 ? text : text[..160];
    }

    internal sealed record FaultStep(string Name, string Kind, string? Target = null, string? WebhookMode = null);

    internal sealed record FaultRecord(string Name, double At, double Took, double? HealthyAfter, string? WebhookMode, string? Note = null);

    internal static class FaultPlan
    {
        /// <summary>Every fault, or only those whose name contains <paramref name="only"/> (<c>--only refund</c>).</summary>
        public static List<FaultStep> Build(string? only = null) =>
        [.. All.Where(f => only is null || f.Name.Contains(only, StringComparison.OrdinalIgnoreCase))];

        private static readonly FaultStep[] All =
        [
            new("kill -9 gateway", "kill", "gateway"),
            new("kill -9 merchant-token", "kill", "merchant-token"),
            new("kill -9 loyalty", "kill", "loyalty", WebhookMode: "duplicate"),
            new("kill -9 stripe-terminal", "kill", "stripe-terminal", WebhookMode: "reorder"),
            new("kill -9 cashlogy-edge", "kill", "cashlogy-edge", WebhookMode: "duplicate"),
            new("restart RabbitMQ", "infra", "restart-mq", WebhookMode: "normal"),
            new("restart PostgreSQL", "infra", "restart-pg"),
            new("cut the Connector connection mid-charge", "cut"),
            new("the machine loses its initialisation behind a connected Connector", "lose-init"),
            new("Stripe reads of one card sale fail while it is presented and refunded", "refund-while-reads-fail"),
        ];
    }

    internal sealed class Injector(ChaosOptions options, HttpClient fake, CashSimulator simulator, Flows flows, RunLog log, Stopwatch clock)
    {
        private static readonly Dictionary<string, int> Ports = new()
        {
            ["gateway"] = 5080,
            ["merchant-token"] = 5101,
            ["loyalty"] = 5102,
            ["stripe-terminal"] = 5103,
            ["cashlogy-edge"] = 5104,
        };

        public async Task<FaultRecord> InjectAsync(FaultStep step)
        {
            if (step.WebhookMode is { } mode)
            {
                using var set = await fake.PostAsync(new Uri($"/__fake/webhooks?mode={mode}", UriKind.Relative), null);
                log.Say($"fake Stripe webhooks: {mode}");
            }

            var at = clock.Elapsed.TotalSeconds;
            double? healthy = null;
            switch (step.Kind)
            {
                case "kill":
                    {
                        var pidFile = Path.Combine(options.State, "run", step.Target + ".pid");
                        var pid = int.Parse((await File.ReadAllTextAsync(pidFile)).Trim(), CultureInfo.InvariantCulture);
                        using (var process = Process.GetProcessById(pid))
                        {
                            process.Kill(); // SIGKILL on Linux
                        }

                        log.Say($"{step.Name} (pid {pid})");
                        healthy = await WaitHealthyAsync(Ports[step.Target!], pidFile, pid, at);
                        break;
                    }

                case "infra":
                    {
                        log.Say(step.Name);
                        var (code, output) = await FidpassAsync("infra", step.Target!);
                        healthy = clock.Elapsed.TotalSeconds - at;
                        if (code != 0)
                        {
                            // Not a credit violation, but the run says so: the server had to be brought back.
                            log.Say($"  ./fidpass infra {step.Target} failed ({output.Trim()}); ./fidpass infra up");
                            var (again, more) = await FidpassAsync("infra", "up");
                            healthy = clock.Elapsed.TotalSeconds - at;
                            return new FaultRecord(step.Name, at, healthy.Value, healthy, step.WebhookMode,
                                $"restart failed: {output.Trim()}; infra up → {(again == 0 ? "ok" : more.Trim())}");
                        }

                        break;
                    }

                case "lose-init":
                    {
                        // The next sale's #C# meets ER:ILLEGAL: the edge must send #I# and that #C# once more, paid once.
                        log.Say(step.Name);
                        using var armed = await simulator.Control.PutAsJsonAsync("/control/faults", new { loseInitializationBefore = "C" });
                        armed.EnsureSuccessStatusCode();
                        break;
                    }

                case "refund-while-reads-fail":
                    {
                        log.Say("waiting for the next card sale: its PaymentIntent's reads will fail while it is presented and refunded");
                        var refunded = flows.RefundNextCardAsync();
                        var done = await Task.WhenAny(refunded, Task.Delay(TimeSpan.FromSeconds(60)));
                        at = done == refunded ? await refunded : clock.Elapsed.TotalSeconds;
                        break;
                    }

                case "cut":
                    {
                        log.Say("waiting for the next cash charge to cut its Connector connection");
                        var cut = flows.CutNextChargeAsync();
                        var done = await Task.WhenAny(cut, Task.Delay(TimeSpan.FromSeconds(60)));
                        at = done == cut ? await cut : clock.Elapsed.TotalSeconds;
                        break;
                    }
            }

            return new FaultRecord(step.Name, at, clock.Elapsed.TotalSeconds - at, healthy, step.WebhookMode);
        }

        private async Task<(int Code, string Output)> FidpassAsync(params string[] args)
        {
            var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
            info.ArgumentList.Add(Path.Combine(options.Root, "fidpass"));
            foreach (var a in args)
            {
                info.ArgumentList.Add(a);
            }

            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await output + await errors);
        }

        /// <summary>Until the supervisor has started a new process and it answers /health.</summary>
        private async Task<double?> WaitHealthyAsync(int port, string pidFile, int oldPid, double at)
        {
            using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            while (clock.Elapsed.TotalSeconds - at < 120)
            {
                try
                {
                    var pid = (await File.ReadAllTextAsync(pidFile)).Trim();
                    if (pid != oldPid.ToString(CultureInfo.InvariantCulture))
                    {
                        using var health = await probe.GetAsync(new Uri($"http://127.0.0.1:{port}/health"));
                        if (health.IsSuccessStatusCode)
                        {
                            var took = clock.Elapsed.TotalSeconds - at;
                            log.Say(string.Create(CultureInfo.InvariantCulture, $"  restarted by the supervisor (pid {pid}), healthy after {took:F1} s"));
                            return took;
                        }
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                {
                }

                await Task.Delay(100);
            }

            return null;
        }

        /// <summary>Old events sent again, as Stripe does when it believes a delivery failed.</summary>
        public async Task<int> RedeliverLateAsync(int count)
        {
            var events = await fake.GetFromJsonAsync<JsonElement>(new Uri("/__fake/events", UriKind.Relative));
            var ids = events.EnumerateArray()
                .Where(e => e.GetProperty("type").GetString() is "payment_intent.succeeded" or "terminal.reader.action_succeeded")
                .Select(e => e.GetProperty("id").GetString()!)
                .Take(count)
                .ToList();
            var sent = 0;
            foreach (var id in ids)
            {
                using var delivered = await fake.PostAsync(new Uri($"/__fake/events/{id}/deliver", UriKind.Relative), null);
                sent += delivered.IsSuccessStatusCode ? 1 : 0;
            }

            _ = simulator;
            return sent;
        }
    }

    internal sealed record Violation(string Id, string Member, string What);

    internal sealed record Verdict(
        List<Violation> Violations, int Credits, long PointsCredited, int UnknownCredited, int UnknownNotCredited, int Members,
        int StoredEvents, int PublishedCredits, int PublishedCopies, int PublishedPayments);

    internal sealed class Checker(HttpClient http, HttpClient till, Merchant merchant, Journal journal, BusWitness witness, string postgres, RunLog log)
    {
        private sealed record Credit(Guid Member, long Points, long AmountCents, string? PaymentId, string OperationId);

        private sealed record Reversal(Guid Member, long Points, string ReversedOperationId, string OperationId);

        public async Task<Verdict> CheckAsync(Guid[] members)
        {
            var violations = new List<Violation>();
            var ops = journal.All;

            // Payments whose outcome the till never learnt: ask again now that everything is back
            // (stripe-terminal follows its PaymentIntents; cashlogy-edge reconciles after reconnecting).
            await SettleUnknownPaymentsAsync(ops);

            // Wait until the ledgers stop moving (the relays catch up after the faults).
            var ledgers = await ReadLedgersAsync(members);
            for (var i = 0; i < 30; i++)
            {
                await Task.Delay(2000);
                var again = await ReadLedgersAsync(members);
                var same = again.Sum(l => l.Value.Balance) == ledgers.Sum(l => l.Value.Balance) && again.Sum(l => l.Value.Credits.Count) == ledgers.Sum(l => l.Value.Credits.Count);
                ledgers = again;
                if (same)
                {
                    break;
                }
            }

            var credits = ledgers.SelectMany(l => l.Value.Credits).ToList();
            var reversals = ledgers.SelectMany(l => l.Value.Reversals).ToList();
            var reversalsOf = reversals.ToLookup(r => r.ReversedOperationId);
            var byPayment = credits.Where(c => c.PaymentId is not null).ToLookup(c => c.PaymentId!);
            var scansByKey = credits.Where(c => c.PaymentId is null).ToLookup(c => (c.Member, c.AmountCents));
            var matched = new HashSet<string>();
            int unknownCredited = 0, unknownNot = 0;
            foreach (var op in ops)
            {
                List<Credit> found = op.Flow == "scan"
                    ? [.. scansByKey[(op.Member, op.AmountCents)]]
                    : op.PaymentId is { } pid ? [.. byPayment[pid]] : [];
                foreach (var c in found)
                {
                    matched.Add(c.OperationId);
                }

                var collected = op.Flow == "scan" ? op.AmountCents : op.Collected ?? 0;
                var expectedPoints = collected / 100;
                if (found.Count == 1)
                {
                    // A sale refunded in full gives all its points back, once; any other credit keeps them.
                    var taken = reversalsOf[found[0].OperationId].Sum(r => r.Points);
                    var owed = op.RefundedCents > 0 && op.RefundedCents >= collected ? found[0].Points : 0;
                    if (taken != owed)
                    {
                        violations.Add(new Violation(op.Id, op.Member.ToString(), op.RefundedCents > 0
                            ? $"REFUND NOT REVERSED RIGHT: refunded {op.RefundedCents} cents of {collected}, {taken} of the {found[0].Points} points taken back ({reversalsOf[found[0].OperationId].Count()} reversal(s))"
                            : $"UNEXPECTED REVERSAL: {taken} points taken back from a sale nobody refunded"));
                    }
                }
                switch (op.Outcome)
                {
                    case "ok" when found.Count == 0:
                        violations.Add(new Violation(op.Id, op.Member.ToString(), $"LOST: the till was told {op.Flow} succeeded ({collected} cents), no credit"));
                        break;
                    case "ok" when found.Count > 1:
                        violations.Add(new Violation(op.Id, op.Member.ToString(), $"DUPLICATED: credited {found.Count} times"));
                        break;
                    case "ok" when found[0].Points != expectedPoints:
                        violations.Add(new Violation(op.Id, op.Member.ToString(), $"WRONG: credited {found[0].Points} points, expected {expectedPoints}"));
                        break;
                    case "failed" when found.Count > 0:
                        violations.Add(new Violation(op.Id, op.Member.ToString(), $"CREDITED A FAILURE: the till was told it failed ({op.Note}), credited {found.Count}×"));
                        break;
                    case "unknown" when found.Count > 1:
                        violations.Add(new Violation(op.Id, op.Member.ToString(), $"DUPLICATED (outcome unknown to the till): credited {found.Count} times"));
                        break;
                    case "unknown" when found.Count == 1 && found[0].Points != expectedPoints && op.Flow == "scan":
                        violations.Add(new Violation(op.Id, op.Member.ToString(), $"WRONG: credited {found[0].Points} points, expected {expectedPoints}"));
                        break;
                    case "unknown":
                        if (found.Count == 1)
                        {
                            unknownCredited++;
                        }
                        else
                        {
                            unknownNot++;
                        }

                        break;
                }
            }

            foreach (var c in credits.Where(c => !matched.Contains(c.OperationId)))
            {
                violations.Add(new Violation(c.OperationId, c.Member.ToString(), $"UNEXPECTED credit of {c.Points} points (amount {c.AmountCents}, payment {c.PaymentId ?? "-"}) matching nothing the till sent"));
            }

            var creditIds = credits.Select(c => c.OperationId).ToHashSet();
            foreach (var r in reversals.Where(r => !creditIds.Contains(r.ReversedOperationId)))
            {
                violations.Add(new Violation(r.OperationId, r.Member.ToString(), $"REVERSAL OF NOTHING: {r.Points} points taken back from operation {r.ReversedOperationId}, not a credit of this member"));
            }

            foreach (var (member, ledger) in ledgers)
            {
                var sum = ledger.Credits.Sum(c => c.Points) - ledger.Reversals.Sum(r => r.Points);
                if (sum != ledger.Balance)
                {
                    violations.Add(new Violation("balance", member.ToString(), $"SUM MISMATCH: credits less reversals sum to {sum}, balance says {ledger.Balance}"));
                }

                if (ledger.LookupPoints != ledger.Balance)
                {
                    violations.Add(new Violation("lookup", member.ToString(), $"READ MODEL MISMATCH: the till's lookup says {ledger.LookupPoints}, the member's detail {ledger.Balance}"));
                }
            }

            // The read models against a full rebuild from loyalty's event store, then what the bus was told.
            var rebuilt = await StoreAudit.RebuildAsync(postgres, members);
            violations.AddRange(rebuilt.Violations);
            foreach (var (member, ledger) in ledgers)
            {
                if (rebuilt.Balances.TryGetValue(member, out var balance) && balance != ledger.Balance)
                {
                    violations.Add(new Violation("read model", member.ToString(), $"API ≠ REBUILD: the member's detail says {ledger.Balance} points, its events {balance}"));
                }
            }

            var copies = await CheckBusAsync(ops, rebuilt, violations);
            await CheckDayTotalsAsync(rebuilt, violations);

            var refunded = ops.Count(o => o.RefundedCents > 0);
            log.Say($"checked {ops.Count} operations against {credits.Count} credits and {reversals.Count} reversals ({refunded} sale(s) refunded) on {members.Length} members, " +
                $"{rebuilt.Events} stored events, {witness.Credited.Count} published credits and {witness.Reversed.Count} published reversals: {violations.Count} violation(s)");
            return new Verdict(violations, credits.Count, credits.Sum(c => c.Points), unknownCredited, unknownNot, members.Length,
                rebuilt.Events, witness.Credited.Count, copies, witness.Collected.Count);
        }

        /// <summary>
        /// Every stored credit was published once at least, with the stored figures, and nothing was
        /// published that is not stored; every payment the till was told collected was published, and
        /// every published payment is credited once. Returns the number of extra copies seen (the
        /// relays publish at least once; loyalty's consumers and the bus's subscribers dedupe by id).
        /// </summary>
        private async Task<int> CheckBusAsync(IReadOnlyList<Operation> ops, StoreAudit.Rebuilt rebuilt, List<Violation> violations)
        {
            var stored = rebuilt.Credits.ToDictionary(c => c.OperationId);
            var paid = ops.Where(o => o.Flow != "scan" && o.Outcome == "ok" && o.PaymentId is not null).Select(o => o.PaymentId!).ToList();
            for (var i = 0; i < 60 && !(stored.Keys.All(witness.Credited.ContainsKey) && paid.All(witness.Collected.ContainsKey)); i++)
            {
                await Task.Delay(1000);
            }

            foreach (var credit in rebuilt.Credits)
            {
                if (!witness.Credited.TryGetValue(credit.OperationId, out var seen))
                {
                    violations.Add(new Violation(credit.OperationId.ToString(), credit.Member.ToString(), $"NOT PUBLISHED: {credit.Points} points stored, no PointsCredited on the bus"));
                }
                else if (seen.Message.Points != credit.Points || seen.Message.MemberId != credit.Member || seen.Message.PaymentId != credit.PaymentId)
                {
                    violations.Add(new Violation(credit.OperationId.ToString(), credit.Member.ToString(),
                        $"PUBLISHED WRONG: stored {credit.Points} points for payment {credit.PaymentId ?? "-"}, published {seen.Message.Points} for {seen.Message.PaymentId ?? "-"} on member {seen.Message.MemberId}"));
                }
            }

            foreach (var (operation, seen) in witness.Credited.Where(c => !stored.ContainsKey(c.Key)))
            {
                violations.Add(new Violation(operation.ToString(), seen.Message.MemberId.ToString(), $"PUBLISHED, NOT STORED: {seen.Message.Points} points on the bus, no such credit in the store"));
            }

            var storedReversals = rebuilt.Reversals.ToDictionary(r => r.OperationId);
            for (var i = 0; i < 30 && !storedReversals.Keys.All(witness.Reversed.ContainsKey); i++)
            {
                await Task.Delay(1000);
            }

            foreach (var reversal in rebuilt.Reversals)
            {
                if (!witness.Reversed.TryGetValue(reversal.OperationId, out var seen))
                {
                    violations.Add(new Violation(reversal.OperationId.ToString(), reversal.Member.ToString(), $"REVERSAL NOT PUBLISHED: {reversal.Points} points taken back in the store, no PointsReversed on the bus"));
                }
                else if (seen.Points != reversal.Points || seen.ReversedOperationId != reversal.ReversedOperationId || seen.MemberId != reversal.Member)
                {
                    violations.Add(new Violation(reversal.OperationId.ToString(), reversal.Member.ToString(),
                        $"REVERSAL PUBLISHED WRONG: stored {reversal.Points} points of {reversal.ReversedOperationId}, published {seen.Points} of {seen.ReversedOperationId}"));
                }
            }

            foreach (var (operation, seen) in witness.Reversed.Where(r => !storedReversals.ContainsKey(r.Key)))
            {
                violations.Add(new Violation(operation.ToString(), seen.MemberId.ToString(), $"REVERSAL PUBLISHED, NOT STORED: {seen.Points} points on the bus, no such reversal in the store"));
            }

            foreach (var payment in paid.Where(p => !witness.Collected.ContainsKey(p)))
            {
                violations.Add(new Violation(payment, "-", "PAYMENT NOT PUBLISHED: the till was told it was collected, no PaymentCollected on the bus"));
            }

            var creditsByPayment = rebuilt.Credits.Where(c => c.PaymentId is not null).ToLookup(c => c.PaymentId!);
            foreach (var collected in witness.Collected.Values.Where(c => c.MemberId is not null && creditsByPayment[c.PaymentId].Count() != 1))
            {
                violations.Add(new Violation(collected.PaymentId, collected.MemberId.ToString()!, $"PUBLISHED PAYMENT CREDITED {creditsByPayment[collected.PaymentId].Count()} TIMES ({collected.Amount} cents)"));
            }

            return witness.Credited.Values.Sum(c => c.Copies - 1);
        }

        /// <summary>The web space's « Aujourd'hui » figures (kept by loyalty as it credits) against the rebuild and the bus, for each day of the run.</summary>
        private async Task CheckDayTotalsAsync(StoreAudit.Rebuilt rebuilt, List<Violation> violations)
        {
            var days = rebuilt.Credits.Where(c => c.CapDay is not null).Select(c => c.CapDay!.Value).Distinct().ToList();
            long cardCount = 0, cardCents = 0, cashCount = 0, cashCents = 0;
            foreach (var day in days)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/merchants/{merchant.Slug}/day-totals?day={day:yyyy-MM-dd}");
                request.Headers.Add("X-Dashboard-Token", merchant.DashboardToken);
                using var response = await http.SendAsync(request);
                response.EnsureSuccessStatusCode();
                var totals = await response.Content.ReadFromJsonAsync<JsonElement>();
                var reversedOf = rebuilt.Reversals.ToLookup(r => r.ReversedOperationId);
                var ofDay = rebuilt.Credits.Where(c => c.CapDay == day)
                    .Select(c => (Credit: c, Left: c.Points - reversedOf[c.OperationId].Sum(r => r.Points)))
                    .Where(c => c.Left > 0)
                    .ToList();
                void Compare(string what, long shown, long expected)
                {
                    if (shown != expected)
                    {
                        violations.Add(new Violation("day totals", day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), $"DAY TOTALS ≠ REBUILD: {what} shows {shown}, the events say {expected}"));
                    }
                }

                var points = totals.GetProperty("points");
                // What still stands: a credit given back in full by a refund no longer counts.
                Compare("points credited", points.GetProperty("credited").GetInt64(), ofDay.Sum(c => c.Left));
                Compare("credits", points.GetProperty("credits").GetInt64(), ofDay.Count);
                Compare("credits from payments", points.GetProperty("creditsFromPayments").GetInt64(), ofDay.Count(c => c.Credit.PaymentId is not null));
                var payments = totals.GetProperty("payments");
                cardCount += payments.GetProperty("card").GetProperty("count").GetInt64();
                cardCents += payments.GetProperty("card").GetProperty("amountCents").GetInt64();
                cashCount += payments.GetProperty("cash").GetProperty("count").GetInt64();
                cashCents += payments.GetProperty("cash").GetProperty("amountCents").GetInt64();
            }

            var card = witness.Collected.Values.Where(p => p.Method == Fidpass.Contracts.Payments.PaymentMethod.Card).ToList();
            var cash = witness.Collected.Values.Where(p => p.Method == Fidpass.Contracts.Payments.PaymentMethod.Cash).ToList();
            if (cardCount != card.Count || cardCents != card.Sum(p => p.Amount) || cashCount != cash.Count || cashCents != cash.Sum(p => p.Amount))
            {
                violations.Add(new Violation("day totals", string.Join(' ', days), $"DAY TOTALS ≠ BUS: card {cardCount} payments / {cardCents} cents and cash {cashCount} / {cashCents} shown; " +
                    $"the bus carried card {card.Count} / {card.Sum(p => p.Amount)} and cash {cash.Count} / {cash.Sum(p => p.Amount)}"));
            }
        }

        private async Task SettleUnknownPaymentsAsync(IReadOnlyList<Operation> ops)
        {
            foreach (var op in ops.Where(o => o.Flow != "scan" && o.Outcome == "unknown"))
            {
                for (var i = 0; i < 30 && op.Outcome == "unknown"; i++)
                {
                    try
                    {
                        if (op.Flow == "card")
                        {
                            using var check = await till.PostAsync(new Uri($"/api/v1/merchants/{merchant.Slug}/terminal/payments/{op.Id}/check", UriKind.Relative), null);
                            if (check.StatusCode == System.Net.HttpStatusCode.NotFound)
                            {
                                op.Outcome = "failed";
                                op.Note += " (never started)";
                                break;
                            }

                            var view = await check.Content.ReadFromJsonAsync<JsonElement>();
                            op.PaymentId = view.TryGetProperty("paymentIntentId", out var pi) && pi.ValueKind == JsonValueKind.String ? pi.GetString() : null;
                            switch (view.GetProperty("status").GetString())
                            {
                                case "succeeded":
                                    op.Outcome = "ok";
                                    op.Collected = view.GetProperty("amountReceived").GetInt64();
                                    op.Note += " (succeeded, learnt after the run)";
                                    break;
                                case "processing":
                                    // The sale never reached a card: the till cancels it, nothing was collected.
                                    using (var cancel = await till.PostAsync(new Uri($"/api/v1/merchants/{merchant.Slug}/terminal/payments/{op.Id}/cancel", UriKind.Relative), null))
                                    {
                                        _ = cancel.StatusCode;
                                    }

                                    break;
                                case var s:
                                    op.Outcome = "failed";
                                    op.Note += $" ({s} after the run)";
                                    break;
                            }
                        }
                        else
                        {
                            if (op.Location is null)
                            {
                                op.Outcome = "failed"; // never accepted: nothing was sent to the machine
                                op.Note += " (never accepted)";
                                break;
                            }

                            var view = await till.GetFromJsonAsync<JsonElement>(new Uri(op.Location, UriKind.Relative));
                            if (view.GetProperty("status").GetString() == "settled")
                            {
                                op.Collected = view.TryGetProperty("collected", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt64() : 0;
                                op.PaymentId = view.TryGetProperty("paymentId", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
                                op.Outcome = op.Collected > 0 ? "ok" : "failed";
                                op.Note += " (settled, learnt after the run)";
                                break;
                            }
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
                    {
                    }

                    await Task.Delay(1000);
                }
            }
        }

        private sealed record Ledger(long Balance, long LookupPoints, List<Credit> Credits, List<Reversal> Reversals);

        private async Task<Dictionary<Guid, Ledger>> ReadLedgersAsync(Guid[] members)
        {
            var result = new Dictionary<Guid, Ledger>();
            foreach (var member in members)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/merchants/{merchant.Slug}/members/{member}");
                request.Headers.Add("X-Dashboard-Token", merchant.DashboardToken);
                using var response = await http.SendAsync(request);
                response.EnsureSuccessStatusCode();
                var detail = await response.Content.ReadFromJsonAsync<JsonElement>();
                var credits = new List<Credit>();
                var reversals = new List<Reversal>();
                foreach (var e in detail.GetProperty("history").EnumerateArray())
                {
                    var type = e.GetProperty("type").GetString();
                    if (type is "credit_reversed" or "CreditReversed")
                    {
                        var r = e.GetProperty("data");
                        reversals.Add(new Reversal(member, r.GetProperty("points").GetInt64(), r.GetProperty("reversedOperationId").GetString()!, r.GetProperty("operationId").GetString()!));
                        continue;
                    }

                    if (type is not ("points_credited" or "PointsCredited"))
                    {
                        if (type is not ("member_enrolled" or "MemberEnrolled"))
                        {
                            throw new InvalidOperationException($"unexpected event {type} in {member}'s stream: the checker only knows credits and reversals");
                        }

                        continue;
                    }

                    var d = e.GetProperty("data");
                    credits.Add(new Credit(member, d.GetProperty("points").GetInt64(), d.GetProperty("amountCents").GetInt64(),
                        d.TryGetProperty("paymentId", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null,
                        d.GetProperty("operationId").GetString()!));
                }

                var lookup = await till.GetFromJsonAsync<JsonElement>(new Uri($"/api/businesses/{merchant.Slug}/integration/lookup?barcode={member}", UriKind.Relative));
                result[member] = new Ledger(detail.GetProperty("member").GetProperty("points").GetInt64(),
                    lookup.GetProperty("member").GetProperty("points").GetInt64(), credits, reversals);
            }

            return result;
        }
    }
}
