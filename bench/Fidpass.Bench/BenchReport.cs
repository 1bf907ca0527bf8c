using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Fidpass.Chaos;

namespace Fidpass.Bench;

/// <summary>The Markdown result file: machine, what was sent, latencies per flow, CPU/RSS per process, targets.</summary>
internal static partial class BenchReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Prints the report and writes it to <c>--report</c>, or to docs/benchmarks/&lt;kind&gt;-&lt;date&gt;.md.</summary>
    public static async Task WriteAsync(BenchOptions options, string kind, DateTimeOffset started, string report)
    {
        Console.WriteLine();
        Console.WriteLine(report);
        var path = options.ReportPath ?? Path.Combine(options.Root, "docs", "benchmarks", $"{kind}-{started.ToString("yyyy-MM-dd-HHmm", Inv)}.md");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, report);
        Console.WriteLine($"Report written to {path}");
    }

    public static string Build(BenchOptions options, DateTimeOffset started, IReadOnlyList<string> machine, Merchant merchant, int readers, int machines,
        IReadOnlyList<Sample> measured, double[] endToEnd, BusObserver bus, IReadOnlyList<ProcessUsage> processes, ChildRun? gateway, ChildRun? payments)
    {
        var md = new StringBuilder();
        void Line(FormattableString text) => md.AppendLine(text.ToString(Inv));

        Line($"# Benchmark {started:yyyy-MM-dd HH:mm} UTC");
        Line($"");
        Line($"Written by `./fidpass bench` (bench/Fidpass.Bench); every number below was measured in this run. See docs/benchmarks.md for how to read it.");
        Line($"");
        Line($"## Machine");
        Line($"");
        foreach (var line in machine)
        {
            Line($"- {line}");
        }

        Line($"");
        Line($"## 1. A shop's mixed load through the gateway (open loop)");
        Line($"");
        Line($"Merchant `{merchant.Slug}`: {options.Members} members scanned by the integrator, 100 paying by card on {readers} simulated Stripe readers (fake Stripe, signed webhooks), 100 paying cash on {machines} Cashlogy simulators. Arrivals at fixed rates: scans {options.ScanRate}/s, card sales {options.CardRate}/s, cash sales {options.CashRate}/s; {options.Warmup} s of warm-up not counted, then {options.Duration} s measured.");
        Line($"");
        Line($"Latency runs from when the operation was due until the till had its final answer: one `POST …/integration/scan` for a scan (a durable credit); for a card sale, start, card presented, webhooks, till polling every 100 ms until `succeeded`; for a cash sale, charge, customer's coins, polling until `settled`. A sale waiting for a free reader or machine waits inside its latency.");
        Line($"");
        Line($"| flow | sent | ok | errors | ok/s | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms |");
        Line($"|---|---|---|---|---|---|---|---|---|---|");
        foreach (var flow in new[] { "scan", "card", "cash" })
        {
            var samples = measured.Where(s => s.Flow == flow).ToList();
            var ok = samples.Where(s => s.Ok).Select(s => s.LatencyMs).Order().ToArray();
            Line($"| {flow} | {samples.Count} | {ok.Length} | {samples.Count - ok.Length} | {ok.Length / (double)options.Duration:F1} | {P(ok, 0.50)} | {P(ok, 0.95)} | {P(ok, 0.99)} | {P(ok, 0.999)} | {P(ok, 1)} |");
        }

        var errors = measured.Where(s => !s.Ok).GroupBy(s => $"{s.Flow}: {s.Error}").OrderByDescending(g => g.Count()).Take(8).ToList();
        if (errors.Count > 0)
        {
            Line($"");
            Line($"Errors: {string.Join("; ", errors.Select(g => $"{g.Key} ×{g.Count()}"))}.");
        }

        Array.Sort(endToEnd);
        Line($"");
        Line($"**PaymentCollected → PointsCredited** for the card and cash sales above, as seen on the bus by this bench (both events on one queue, so the bench's own delay cancels out): {endToEnd.Length} payments, p50 {P(endToEnd, 0.50)} ms, p95 {P(endToEnd, 0.95)} ms, p99 {P(endToEnd, 0.99)} ms, p99.9 {P(endToEnd, 0.999)} ms, max {P(endToEnd, 1)} ms. Over the whole run, warm-up included: {bus.Collected} payments collected, {bus.Uncredited} not credited, {bus.CreditedTwice} credited more than once.");
        Line($"");
        Processes(md, processes, measured.Count, "operation");

        if (gateway is not null)
        {
            Line($"");
            Line($"## 2. Gateway vs direct: the authenticated lookup at 1,000 requests/s");
            Line($"");
            Line($"`bench/Fidpass.GatewayBench {gateway.Arguments}`: the same `GET /api/businesses/{{slug}}/integration/lookup` sent through the gateway (dashboard token, introspected once and cached) and straight to loyalty (with the headers the gateway would set), open loop at 1,000/s, 15,000 requests each way after a warm-up, the two ways taking turns every 100 ms so that a pause of the machine hits both alike.");
            Child(md, gateway);
            Processes(md, gateway.Processes, gateway.Operations, "request");
        }

        if (payments is not null)
        {
            Line($"");
            Line($"## 3. PaymentCollected → PointsCredited at 200 payments/s");
            Line($"");
            Line($"`bench/Fidpass.PaymentBench {payments.Arguments}`: `PaymentCollected` published on the system's RabbitMQ at a fixed rate, as the payment services do, each latency from when it was due until its `PointsCredited` arrived.");
            Child(md, payments);
            Processes(md, payments.Processes, payments.Operations, "payment");
        }

        Line($"");
        Line($"## Against the targets (issues #3, #4, #9)");
        Line($"");
        Line($"| target | measured here |");
        Line($"|---|---|");
        var scans = measured.Where(s => s.Flow == "scan" && s.Ok).Select(s => s.LatencyMs).Order().ToArray();
        Line($"| scans p99 ≤ 25 ms at 500/s | p99 {P(scans, 0.99)} ms at {options.ScanRate}/s{(options.CardRate + options.CashRate > 0 ? $" with card {options.CardRate}/s and cash {options.CashRate}/s beside" : ", scans alone")} |");
        Line($"| payment → credit p99 ≤ 50 ms | p99 {P(endToEnd, 0.99)} ms for real card and cash sales (section 1); {Find(payments, "p99")} ms at 200/s on the bus (section 3) |");
        Line($"| gateway adds ≤ 1 ms p50, ≤ 2 ms p99 at 1,000/s; keeps ≥ 60% of direct throughput | {(gateway is null ? "not run" : GatewayLine(gateway.Output))} |");
        Line($"| exactly once | {bus.Uncredited} payments not credited, {bus.CreditedTwice} credited twice |");
        return md.ToString();
    }

    private static void Child(StringBuilder md, ChildRun run)
    {
        md.AppendLine().AppendLine("```").AppendLine(run.Output).AppendLine("```");
        if (run.ExitCode != 0)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"Exit code {run.ExitCode}.");
        }
    }

    private static void Processes(StringBuilder md, IReadOnlyList<ProcessUsage> processes, int operations, string unit)
    {
        md.AppendLine().AppendLine("| process | CPU s | cores (average) | CPU ms per " + unit + " | peak RSS MiB |").AppendLine("|---|---|---|---|---|");
        foreach (var p in processes)
        {
            md.AppendLine(string.Create(Inv, $"| {p.Group} | {p.CpuSeconds:F1} | {p.Cores:F2} | {(operations == 0 ? "—" : (1000 * p.CpuSeconds / operations).ToString("F2", Inv))} | {p.PeakRssMiB:F0} |"));
        }

        md.AppendLine(string.Create(Inv, $"| **all** | {processes.Sum(p => p.CpuSeconds):F1} | {processes.Sum(p => p.Cores):F2} | {(operations == 0 ? "—" : (1000 * processes.Sum(p => p.CpuSeconds) / operations).ToString("F2", Inv))} | {processes.Sum(p => p.PeakRssMiB):F0} |"));
        md.AppendLine().AppendLine("PostgreSQL's RSS sums its processes, so shared buffers count more than once.");
    }

    private static string GatewayLine(string output) =>
        output.Split('\n').FirstOrDefault(l => l.StartsWith("gateway keeps", StringComparison.Ordinal))?.Trim() ?? "no result";

    /// <summary>A "p99 12.34 ms" figure of a child's output, or "—".</summary>
    private static string Find(ChildRun? run, string percentile) =>
        run is null ? "not run" : Figure().Matches(run.Output).FirstOrDefault(m => m.Groups[1].Value == percentile)?.Groups[2].Value ?? "—";

    [GeneratedRegex(@"\b(p[0-9.]+)\s+([0-9.]+) ms")]
    private static partial Regex Figure();

    private static string P(double[] sorted, double p) =>
        sorted.Length == 0 ? "—" : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))].ToString(sorted[^1] >= 100 ? "F0" : "F1", Inv);
}
