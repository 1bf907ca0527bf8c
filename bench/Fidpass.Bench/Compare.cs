using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Fidpass.Chaos;

namespace Fidpass.Bench;

/// <summary>
/// <c>./fidpass bench --compare [--rounds 2] [--seconds 10]</c>: loyalty's group commit on and off in
/// the same run, in turns (on, off, then off, on: a drift of the machine lands on both). Each turn
/// restarts loyalty with the setting (<c>$STATE/env/loyalty.env</c>, read by its supervisor), warms
/// it up (10 s of the closed loop), then measures through the gateway: durable scans in a closed loop (<c>wrk</c>, 32
/// connections, 4 merchants × 250 members, an Idempotency-Key on each), the same scans open loop at
/// 500 and 1,000/s (bench/Fidpass.GatewayBench, gateway and direct in turns), and PaymentCollected →
/// PointsCredited at 500/s (bench/Fidpass.PaymentBench); with the CPU of every process and the
/// commits PostgreSQL counted per scan.
/// </summary>
internal static partial class Compare
{
    private const string Setting = "Loyalty__GroupCommit__Enabled";
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync(BenchOptions options, string[] args, Uri gateway, string adminKey, Uri rabbitMq, string postgres)
    {
        string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        var rounds = int.Parse(Arg("--rounds") ?? "2", Inv);
        var seconds = int.Parse(Arg("--seconds") ?? "10", Inv);
        // Only wrk's closed loop in each turn: nothing left queued (payments, open-loop backlog) spills into the next turn.
        var closedOnly = args.Contains("--closed-only");
        var log = new RunLog();
        var started = DateTimeOffset.UtcNow;
        var machine = Machine.Describe();
        using var http = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(60) };

        // 4 merchants × 250 members: one till key is capped at 2,000 requests/s by the gateway.
        var tills = new List<(Merchant Merchant, string Key, Guid[] Members)>();
        for (var i = 0; i < 4; i++)
        {
            var merchant = await Setup.CreateMerchantAsync(http, adminKey, "Bench compare");
            tills.Add((merchant, await Setup.IssueKeyAsync(http, merchant, ["scan", "lookup"]), await Setup.ImportMembersAsync(http, merchant, 250, "wrk")));
        }

        var script = Path.Combine(options.State, "bench-scan.lua");
        await File.WriteAllTextAsync(script, WrkScript(tills));
        log.Say($"4 merchants × 250 members; {rounds} rounds of group commit on and off, {seconds} s per phase");

        var turns = new List<Turn>();
        var answered = 0L;
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var enabled in round % 2 == 1 ? new[] { true, false } : [false, true])
            {
                await RestartLoyaltyAsync(options.State, enabled, log);
                var warm = await Child.RunToolAsync(options, log, "wrk (warm-up)", "wrk", 0, "-t2", "-c32", "-d10s", "--timeout", "10s", "-s", script, gateway.ToString(), "--", Guid.NewGuid().ToString("N"));
                answered += Wrk.Parse(warm.Output).Answered;

                var before = await WritesAsync(postgres);
                var closedRun = await Child.RunToolAsync(options, log, "wrk", "wrk", 0, "-t2", "-c32", $"-d{seconds}s", "--timeout", "10s", "--latency", "-s", script, gateway.ToString(), "--", Guid.NewGuid().ToString("N"));
                var after = await WritesAsync(postgres);
                var closed = Wrk.Parse(closedRun.Output);
                answered += closed.Answered;

                var gatewayPid = File.ReadAllText(Path.Combine(options.State, "run", "gateway.pid")).Trim();
                Task<ChildRun> Open(int rate) => Child.RunAsync(options, log, "Fidpass.GatewayBench", (rate * seconds) + (2 * Math.Min(1000, rate * seconds / 20)),
                    "--admin-key", adminKey, "--direct", "http://127.0.0.1:5102", "--method", "POST", "--path", "/api/businesses/{slug}/integration/scan",
                    "--body", """{"barcode":"{member}","points":1}""", "--idempotency-keys", "--members", "1000",
                    "--requests", (rate * seconds / 2).ToString(Inv), "--rate", rate.ToString(Inv), "--gateway-pid", gatewayPid);
                var open500 = closedOnly ? null : await Open(500);
                var open1000 = closedOnly ? null : await Open(1000);
                var payments = closedOnly ? null : await Child.RunAsync(options, log, "Fidpass.PaymentBench", 500 * seconds,
                    "--admin-key", adminKey, "--rabbitmq", rabbitMq.ToString(), "--rate", "500", "--payments", (500 * seconds).ToString(Inv));
                var turn = new Turn(round, enabled, closedRun with { Operations = (int)closed.Requests }, closed, after.Xid - before.Xid, after.Wal - before.Wal, open500, open1000, payments);
                turns.Add(turn);
                log.Say(turn.Summary());
            }
        }

        var credited = await CreditedAsync(http, tills);
        var report = Report(started, machine, rounds, seconds, turns, answered, credited);
        await BenchReport.WriteAsync(options, "compare", started, report);

        // Leave loyalty as it runs by default.
        File.Delete(Path.Combine(options.State, "env", "loyalty.env"));
        await RestartLoyaltyAsync(options.State, null, log);
        var failed = credited < answered || turns.Any(t => t.Closed.Errors > 0 || t.Open500?.ExitCode is > 0 || t.Open1000?.ExitCode is > 0 || t.Payments?.ExitCode is > 0);
        return failed ? 1 : 0;
    }

    /// <summary>Sets loyalty's group commit (null: its default) and restarts it; returns once it answers its health check.</summary>
    private static async Task RestartLoyaltyAsync(string state, bool? enabled, RunLog log)
    {
        var env = Path.Combine(state, "env");
        Directory.CreateDirectory(env);
        if (enabled is { } on)
        {
            await File.WriteAllTextAsync(Path.Combine(env, "loyalty.env"), $"{Setting}={(on ? "true" : "false")}\n");
        }

        var pidFile = Path.Combine(state, "run", "loyalty.pid");
        var old = File.ReadAllText(pidFile).Trim();
        using (var kill = Process.Start("kill", ["-TERM", old]))
        {
            await kill.WaitForExitAsync();
        }

        using var health = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromMinutes(3))
        {
            await Task.Delay(500);
            try
            {
                if (File.ReadAllText(pidFile).Trim() != old && (await health.GetAsync("http://127.0.0.1:5102/health")).IsSuccessStatusCode)
                {
                    log.Say($"loyalty restarted with group commit {(enabled is null ? "by default" : enabled.Value ? "on" : "off")}");
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
            }
        }

        throw new TimeoutException("loyalty did not come back within 3 minutes");
    }

    /// <summary>
    /// The next transaction id and the WAL position of this system's PostgreSQL: their deltas count the
    /// transactions that wrote (each one a commit and a WAL flush; read-only ones take no id) and the
    /// WAL bytes written, exactly, unlike pg_stat_database whose counters backends flush when idle.
    /// </summary>
    private static async Task<(long Xid, long Wal)> WritesAsync(string connectionString)
    {
        var parts = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var info = new ProcessStartInfo("psql") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-h", parts["Host"], "-p", parts["Port"], "-U", parts["Username"], "-d", parts["Database"], "-F", " ", "-Atc",
            "SELECT pg_snapshot_xmax(pg_current_snapshot())::text, (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint" })
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["PGPASSWORD"] = parts["Password"];
        using var psql = Process.Start(info)!;
        var output = (await psql.StandardOutput.ReadToEndAsync()).Trim().Split(' ');
        await psql.WaitForExitAsync();
        return output.Length == 2 ? (long.Parse(output[0], Inv), long.Parse(output[1], Inv)) : (0, 0);
    }

    /// <summary>Points credited to the wrk members (one point per scan): at least one per answered scan.</summary>
    private static async Task<long> CreditedAsync(HttpClient http, List<(Merchant Merchant, string Key, Guid[] Members)> tills)
    {
        long total = 0;
        foreach (var (merchant, key, members) in tills)
        {
            foreach (var chunk in members.Chunk(25))
            {
                var points = await Task.WhenAll(chunk.Select(async member =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/businesses/{merchant.Slug}/integration/lookup?barcode={member}");
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                    using var response = await http.SendAsync(request);
                    response.EnsureSuccessStatusCode();
                    return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("member").GetProperty("points").GetInt64();
                }));
                total += points.Sum();
            }
        }

        return total;
    }

    private static string WrkScript(List<(Merchant Merchant, string Key, Guid[] Members)> tills)
    {
        var lua = new StringBuilder();
        lua.AppendLine("-- Written by ./fidpass bench --compare: durable scans over 4 merchants, a new Idempotency-Key each.");
        lua.AppendLine("local targets = {");
        foreach (var (merchant, key, members) in tills)
        {
            lua.Append(Inv, $"  {{ path = \"/api/businesses/{merchant.Slug}/integration/scan\", token = \"Bearer {key}\", members = {{");
            lua.Append(string.Join(",", members.Select(m => $"\"{m}\"")));
            lua.AppendLine("} },");
        }

        lua.AppendLine("""
            }
            local threads = 0
            function setup(thread)
              threads = threads + 1
              thread:set("tid", threads)
            end
            function init(args)
              run = args[1] .. "-" .. tid
              counter = tid * 1000003
            end
            function request()
              counter = counter + 1
              local t = targets[(counter % #targets) + 1]
              local m = t.members[(math.floor(counter / #targets) % #t.members) + 1]
              return wrk.format("POST", t.path, { ["Authorization"] = t.token, ["Content-Type"] = "application/json", ["Idempotency-Key"] = run .. "-" .. counter },
                '{"barcode":"' .. m .. '","points":1}')
            end
            """);
        return lua.ToString();
    }

    private static string Report(DateTimeOffset started, IReadOnlyList<string> machine, int rounds, int seconds, List<Turn> turns, long answered, long credited)
    {
        var md = new StringBuilder();
        void Line(FormattableString text) => md.AppendLine(text.ToString(Inv));
        Line($"# Group commit on and off, {started:yyyy-MM-dd HH:mm} UTC");
        Line($"");
        Line($"Written by `./fidpass bench --compare` (bench/Fidpass.Bench/Compare.cs): {rounds} rounds, loyalty restarted with `Loyalty:GroupCommit:Enabled` on then off (odd rounds) or off then on (even rounds), {seconds} s per phase after a 10 s warm-up. wrk waits up to 10 s for an answer; a scan not answered by then counts as a wrk timeout, not an error. Durable scans through the gateway (`POST /api/businesses/{{slug}}/integration/scan`, `points: 1`, an Idempotency-Key on each).");
        Line($"");
        foreach (var line in machine)
        {
            Line($"- {line}");
        }

        Line($"");
        Line($"## Per turn");
        Line($"");
        Line($"| round | group commit | closed loop scans/s | closed p50 / p99 ms | commits per scan | open 500/s p50 / p99 ms (direct) | open 1,000/s p50 / p99 ms (direct) | payment→credit at 500/s p50 / p99 ms | CPU ms per scan, closed loop: all but load generators |");
        Line($"|---|---|---|---|---|---|---|---|---|");
        foreach (var t in turns)
        {
            var (o5, o10, pay) = (GatewayBenchLine.Parse(t.Open500?.Output), GatewayBenchLine.Parse(t.Open1000?.Output), PaymentLine.Parse(t.Payments?.Output));
            Line($"| {t.Round} | {(t.Enabled ? "on" : "off")} | {t.Closed.PerSecond:F0}{(t.Closed.SocketErrors > 0 ? $" ({t.Closed.SocketErrors} wrk timeouts)" : "")} | {t.Closed.P50:F1} / {t.Closed.P99:F1} | {t.CommitsPerScan:F2} | {o5.GatewayP50:F1} / {o5.GatewayP99:F1} ({o5.DirectP50:F1} / {o5.DirectP99:F1}) | {o10.GatewayP50:F1} / {o10.GatewayP99:F1} ({o10.DirectP50:F1} / {o10.DirectP99:F1}) | {pay.P50:F1} / {pay.P99:F1} ({pay.PerSecond:F0}/s) | {t.SystemCpuPerScan:F2} |");
        }

        Line($"");
        Line($"## Ranges over the rounds (off → on)");
        Line($"");
        Line($"| figure | off | on |");
        Line($"|---|---|---|");
        void Range(string figure, Func<Turn, double> value, string format)
        {
            string Of(bool enabled)
            {
                var values = turns.Where(t => t.Enabled == enabled).Select(value).Where(v => !double.IsNaN(v)).ToList();
                return values.Count == 0 ? "—" : values.Min().ToString(format, Inv) + "–" + values.Max().ToString(format, Inv);
            }

            Line($"| {figure} | {Of(false)} | {Of(true)} |");
        }

        Range("closed loop scans/s (wrk, 32 connections)", t => t.Closed.PerSecond, "F0");
        Range("closed loop p99 ms", t => t.Closed.P99, "F1");
        Range("write transactions (commits) per scan, closed loop", t => t.CommitsPerScan, "F2");
        Range("WAL bytes per scan, closed loop", t => t.WalBytesPerScan, "F0");
        Range("open 500/s gateway p50 ms", t => GatewayBenchLine.Parse(t.Open500?.Output).GatewayP50, "F1");
        Range("open 500/s gateway p99 ms", t => GatewayBenchLine.Parse(t.Open500?.Output).GatewayP99, "F1");
        Range("open 500/s gateway added at p99 ms", t => GatewayBenchLine.Parse(t.Open500?.Output).GatewayP99 - GatewayBenchLine.Parse(t.Open500?.Output).DirectP99, "F1");
        Range("open 1,000/s gateway p50 ms", t => GatewayBenchLine.Parse(t.Open1000?.Output).GatewayP50, "F1");
        Range("open 1,000/s gateway p99 ms", t => GatewayBenchLine.Parse(t.Open1000?.Output).GatewayP99, "F1");
        Range("payment→credit at 500/s p50 ms", t => PaymentLine.Parse(t.Payments?.Output).P50, "F1");
        Range("payment→credit at 500/s p99 ms", t => PaymentLine.Parse(t.Payments?.Output).P99, "F1");
        Range("CPU ms per scan, closed loop, all but load generators", t => t.SystemCpuPerScan, "F2");
        foreach (var group in turns.SelectMany(t => t.ClosedRun.Processes).Select(p => p.Group).Distinct().Where(g => turns.Any(t => t.CpuPerScan(g) >= 0.01)))
        {
            Range($"CPU ms per scan, closed loop: {group}", t => t.CpuPerScan(group), "F3");
        }

        Range("CPU ms per scan, open 1,000/s, all but load generators", t => t.SystemCpuPerOpenScan, "F2");
        Range("load generator: wrk's cores", t => t.ClosedRun.Processes.Where(p => p.Group.StartsWith("wrk", StringComparison.Ordinal)).Sum(p => p.Cores), "F2");
        Range("load generator: GatewayBench µs CPU per request (1,000/s)", t => GatewayBenchLine.Parse(t.Open1000?.Output).OwnMicroseconds, "F0");
        Line($"");
        Line($"Exactly once: {answered} scans answered 200 by wrk (warm-ups included), {credited} points credited to their members (one per scan); up to 32 per wrk run may have been credited while in flight when wrk stopped. {(credited < answered ? "**FEWER CREDITS THAN ANSWERS**" : "No answered scan is missing.")}");
        Line($"");
        Line($"## CPU per process, each turn's closed loop");
        Line($"");
        foreach (var t in turns)
        {
            var processes = string.Join(", ", t.ClosedRun.Processes.Where(p => p.CpuSeconds >= 0.05)
                .Select(p => string.Create(Inv, $"{p.Group} {1000 * p.CpuSeconds / Math.Max(1, t.Closed.Requests):F3} ms ({p.Cores:F2} cores)")));
            Line($"- round {t.Round}, group commit {(t.Enabled ? "on" : "off")}: {processes}");
        }

        return md.ToString();
    }

    private sealed record Turn(int Round, bool Enabled, ChildRun ClosedRun, Wrk Closed, long Commits, long WalBytes, ChildRun? Open500, ChildRun? Open1000, ChildRun? Payments)
    {
        private static bool IsLoad(string group) => group.Contains("load generator", StringComparison.Ordinal) || group.StartsWith("wrk", StringComparison.Ordinal);

        public double CommitsPerScan => Closed.Requests == 0 ? double.NaN : (double)Commits / Closed.Requests;

        public double WalBytesPerScan => Closed.Requests == 0 ? double.NaN : (double)WalBytes / Closed.Requests;

        public double CpuPerScan(string group) => 1000 * ClosedRun.Processes.Where(p => p.Group == group).Sum(p => p.CpuSeconds) / Math.Max(1, Closed.Requests);

        public double SystemCpuPerScan => 1000 * ClosedRun.Processes.Where(p => !IsLoad(p.Group)).Sum(p => p.CpuSeconds) / Math.Max(1, Closed.Requests);

        public double SystemCpuPerOpenScan => Open1000 is null ? double.NaN
            : 1000 * Open1000.Processes.Where(p => !IsLoad(p.Group)).Sum(p => p.CpuSeconds) / Math.Max(1, Open1000.Operations);

        public string Summary() => string.Create(Inv,
            $"group commit {(Enabled ? "on" : "off")}: {Closed.PerSecond:F0} scans/s closed loop (p99 {Closed.P99:F1} ms), {CommitsPerScan:F2} commits per scan, {SystemCpuPerScan:F2} ms CPU per scan");
    }

    internal sealed partial record Wrk(long Requests, long Errors, long SocketErrors, double PerSecond, double P50, double P99)
    {
        public long Answered => Requests - Errors;

        public static Wrk Parse(string output)
        {
            double Latency(string percentile)
            {
                var m = Regex.Match(output, $@"^\s*{percentile}%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
                return !m.Success ? double.NaN : double.Parse(m.Groups[1].Value, Inv) * (m.Groups[2].Value switch { "us" => 0.001, "ms" => 1, _ => 1000 });
            }

            var requests = RequestsLine().Match(output) is { Success: true } r ? long.Parse(r.Groups[1].Value, Inv) : 0;
            var errors = NonSuccessLine().Match(output) is { Success: true } n ? long.Parse(n.Groups[1].Value, Inv) : 0;
            var socketErrors = SocketErrorsLine().Matches(output).Sum(m => long.Parse(m.Groups[1].Value, Inv));
            var perSecond = PerSecondLine().Match(output) is { Success: true } s ? double.Parse(s.Groups[1].Value, Inv) : 0;
            return new Wrk(requests, errors, socketErrors, perSecond, Latency("50"), Latency("99"));
        }

        [GeneratedRegex(@"(\d+) requests in")]
        private static partial Regex RequestsLine();

        [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
        private static partial Regex NonSuccessLine();

        [GeneratedRegex(@"(?:connect|read|write|timeout) (\d+)")]
        private static partial Regex SocketErrorsLine();

        [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
        private static partial Regex PerSecondLine();
    }

    internal sealed partial record GatewayBenchLine(double DirectP50, double DirectP99, double GatewayP50, double GatewayP99, double OwnMicroseconds)
    {
        public static GatewayBenchLine Parse(string? output)
        {
            output ??= "";
            (double P50, double P99) Way(string way) => Regex.Match(output, $@"{way}\s*:\s+\d+ req/s\s+p50\s+([\d.]+) ms\s+p99\s+([\d.]+) ms") is { Success: true } m
                ? (double.Parse(m.Groups[1].Value, Inv), double.Parse(m.Groups[2].Value, Inv))
                : (double.NaN, double.NaN);
            var (direct, gateway) = (Way("direct"), Way("gateway"));
            var own = OwnLine().Match(output) is { Success: true } o ? double.Parse(o.Groups[1].Value, Inv) : double.NaN;
            return new GatewayBenchLine(direct.P50, direct.P99, gateway.P50, gateway.P99, own);
        }

        [GeneratedRegex(@"this bench \(load generator\): (\d+) µs")]
        private static partial Regex OwnLine();
    }

    internal sealed partial record PaymentLine(double PerSecond, double P50, double P99)
    {
        public static PaymentLine Parse(string? output) => Line().Match(output ?? "") is { Success: true } m
            ? new PaymentLine(double.Parse(m.Groups[1].Value, Inv), double.Parse(m.Groups[2].Value, Inv), double.Parse(m.Groups[3].Value, Inv))
            : new PaymentLine(double.NaN, double.NaN, double.NaN);

        [GeneratedRegex(@"PointsCredited:\s+([\d.]+) credits/s\s+p50\s+([\d.]+) ms\s+p95\s+[\d.]+ ms\s+p99\s+([\d.]+) ms")]
        private static partial Regex Line();
    }
}
