using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Fidpass.Chaos;

internal sealed record Rendered(string Console, string Markdown);

internal static class Report
{
    private static readonly string[] FlowNames = ["scan", "card", "cash"];

    public static Rendered Build(ChaosOptions options, DateTimeOffset start, double loadSeconds, Journal journal, List<FaultRecord> faults, Verdict verdict, Flows flows)
    {
        _ = flows;
        var inv = CultureInfo.InvariantCulture;
        var ops = journal.All;
        var md = new StringBuilder();
        var text = new StringBuilder();
        var firstFault = faults.Count > 0 ? faults[0].At : loadSeconds;

        md.AppendLine(inv, $"# Chaos run {start:yyyy-MM-dd HH:mm} UTC{(options.Short ? " (short)" : "")}");
        md.AppendLine();
        md.AppendLine("Written by `./fidpass chaos` (bench/Fidpass.Chaos); numbers measured in this run, see docs/chaos.md for how to read them.");
        md.AppendLine();
        md.AppendLine(inv, $"**Verdict: {(verdict.Violations.Count == 0 ? "PASS — no lost, duplicated or wrong credit" : $"FAIL — {verdict.Violations.Count} violation(s)")}.**");
        md.AppendLine();
        md.AppendLine("## Machine");
        md.AppendLine();
        md.AppendLine("```");
        md.AppendLine(Machine());
        md.AppendLine("```");
        md.AppendLine();
        md.AppendLine("## Run");
        md.AppendLine();
        md.AppendLine(inv, $"- load: {loadSeconds:F0} s; integrator scans open loop at {options.ScanRate}/s over {options.Members} members (retried with the same Idempotency-Key); card sales one after the other on the merchant's simulated reader; cash sales one after the other on a Cashlogy simulator");
        md.AppendLine(inv, $"- warm-up {options.Warmup:F0} s (baseline latency), then one fault every {options.FaultGap:F0} s, cool-down {options.Cooldown:F0} s, then the check");
        md.AppendLine(inv, $"- {ops.Count} operations sent; {verdict.Credits} credits ({verdict.PointsCredited} points) found on {verdict.Members} members");
        md.AppendLine();

        // Per-flow latency: from when an operation was due until the till had its answer, retries included.
        md.AppendLine("## Flows");
        md.AppendLine();
        md.AppendLine("Latency: from when the operation was due (open loop for scans) until the till had its final answer, retries included. " +
            "Baseline: operations due before the first fault. Credit: for payments, from the till seeing the payment collected until the member's balance shows the points.");
        md.AppendLine();
        md.AppendLine("| flow | sent | ok | failed | unknown | retried | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms | baseline p99 ms | credit p50 ms | credit p99 ms |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        text.AppendLine("flow   sent    ok  failed unknown retried    p50     p95     p99   p99.9      max  (ms, retries included)");
        var thresholds = new Dictionary<string, double>();
        foreach (var flow in FlowNames)
        {
            var mine = ops.Where(o => o.Flow == flow).ToList();
            var done = mine.Where(o => o.LatencyMs is not null && o.Outcome == "ok").Select(o => o.LatencyMs!.Value).Order().ToArray();
            var baseline = mine.Where(o => o.DueAt < firstFault && o.Outcome == "ok" && o.LatencyMs is not null).Select(o => o.LatencyMs!.Value).Order().ToArray();
            var credit = mine.Where(o => o.CreditLatencyMs is not null).Select(o => o.CreditLatencyMs!.Value).Order().ToArray();
            var basep99 = P(baseline, 0.99);
            // "Normal latency" for recovery: twice the baseline p99, and at least 50 ms (scans) / 500 ms (payments).
            thresholds[flow] = Math.Max(2 * (double.IsNaN(basep99) ? 0 : basep99), flow == "scan" ? 50 : 500);
            int ok = mine.Count(o => o.Outcome == "ok"), failed = mine.Count(o => o.Outcome == "failed"), unknown = mine.Count(o => o.Outcome == "unknown");
            var retried = mine.Count(o => !o.FirstAttemptOk);
            md.AppendLine(inv, $"| {flow} | {mine.Count} | {ok} | {failed} | {unknown} | {retried} | {F(P(done, .5))} | {F(P(done, .95))} | {F(P(done, .99))} | {F(P(done, .999))} | {F(P(done, 1))} | {F(basep99)} | {F(P(credit, .5))} | {F(P(credit, .99))} |");
            text.AppendLine(inv, $"{flow,-5} {mine.Count,5} {ok,5} {failed,7} {unknown,7} {retried,7} {F(P(done, .5)),7} {F(P(done, .95)),7} {F(P(done, .99)),7} {F(P(done, .999)),7} {F(P(done, 1)),8}   baseline p99 {F(basep99)}, credit p50/p99 {F(P(credit, .5))}/{F(P(credit, .99))}");
        }

        md.AppendLine();
        md.AppendLine("## Faults and recovery");
        md.AppendLine();
        md.AppendLine("Recovery: from the fault until the last operation (due after the fault, before the next one) that needed a retry, failed, or exceeded normal latency " +
            "(2 × baseline p99, at least 50 ms for scans and 500 ms for payments) had its answer; `—` when no operation was disturbed. " +
            "Healthy: for a kill, until the supervisor's new process answered /health; for an infra restart, how long `./fidpass infra restart-…` took.");
        md.AppendLine();
        md.AppendLine("| at s | fault | webhooks | healthy after s | scan recovery s | card recovery s | cash recovery s |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        text.AppendLine();
        text.AppendLine("fault                                      at s  healthy s  recovery s (scan / card / cash)");
        for (var i = 0; i < faults.Count; i++)
        {
            var f = faults[i];
            var end = i + 1 < faults.Count ? faults[i + 1].At : loadSeconds;
            var rec = FlowNames.Select(flow => Recovery(ops.Where(o => o.Flow == flow), f.At, end, thresholds[flow])).ToArray();
            md.AppendLine(inv, $"| {f.At:F1} | {f.Name} | {f.WebhookMode ?? "(unchanged)"} | {(f.HealthyAfter is { } h ? h.ToString("F1", inv) : "—")} | {rec[0]} | {rec[1]} | {rec[2]} |");
            text.AppendLine(inv, $"{f.Name,-40} {f.At,6:F1} {(f.HealthyAfter is { } h2 ? h2.ToString("F1", inv) : "—"),9}  {rec[0]} / {rec[1]} / {rec[2]}");
        }

        foreach (var f in faults.Where(f => f.Note is not null))
        {
            md.AppendLine();
            md.AppendLine(inv, $"- {f.Name}: {f.Note}");
            text.AppendLine(inv, $"NOTE {f.Name}: {f.Note}");
        }

        md.AppendLine();
        md.AppendLine("## Invariants");
        md.AppendLine();
        md.AppendLine("Every operation in the journal is matched to the member's ledger (card and cash by PaymentId, scans by member and their distinct amount): " +
            "told ok → exactly one credit of floor(collected / 1 €) points; told failed → none; outcome unknown to the till → at most one. " +
            "Every credit must match an operation; the sum of a member's credits must equal its balance, and the till's lookup must agree. " +
            "Rebuild: loyalty's event store, read from PostgreSQL and folded by the checker (no version gap, every NewBalance the running sum, no operation stored twice), " +
            "must equal the member documents, the API and the day totals. Bus: every stored credit was published with its figures, nothing published is not stored, " +
            "every payment the till was told collected was published, every published payment is credited once.");
        md.AppendLine();
        md.AppendLine(inv, $"- outcome unknown to the till: {verdict.UnknownCredited} credited once, {verdict.UnknownNotCredited} not credited");
        md.AppendLine(inv, $"- rebuild: {verdict.StoredEvents} stored events folded; bus: {verdict.PublishedCredits} credits and {verdict.PublishedPayments} payments published, {verdict.PublishedCopies} extra copies (at-least-once, deduplicated by id)");
        if (verdict.Violations.Count == 0)
        {
            md.AppendLine("- violations: none");
        }
        else
        {
            md.AppendLine(inv, $"- violations: {verdict.Violations.Count}");
            md.AppendLine();
            md.AppendLine("| id | member | what |");
            md.AppendLine("|---|---|---|");
            foreach (var v in verdict.Violations.Take(200))
            {
                md.AppendLine(inv, $"| {v.Id} | {v.Member} | {v.What.Replace("|", "/", StringComparison.Ordinal)} |");
            }
        }

        text.AppendLine();
        text.AppendLine(inv, $"unknown outcomes: {verdict.UnknownCredited} credited once, {verdict.UnknownNotCredited} not credited");
        text.AppendLine(inv, $"rebuild: {verdict.StoredEvents} stored events; bus: {verdict.PublishedCredits} credits, {verdict.PublishedPayments} payments, {verdict.PublishedCopies} extra copies");
        foreach (var v in verdict.Violations.Take(50))
        {
            text.AppendLine(inv, $"VIOLATION {v.Id} member {v.Member}: {v.What}");
        }

        text.AppendLine(verdict.Violations.Count == 0 ? "PASS: no lost, duplicated or wrong credit" : $"FAIL: {verdict.Violations.Count} violation(s)");
        return new Rendered(text.ToString(), md.ToString());
    }

    private static string Recovery(IEnumerable<Operation> ops, double at, double end, double threshold)
    {
        var window = ops.Where(o => o.DueAt >= at - 0.5 && o.DueAt < end).ToList();
        if (window.Count == 0)
        {
            return "no traffic";
        }

        var bad = window.Where(o => o.Outcome != "ok" || !o.FirstAttemptOk || (o.LatencyMs ?? double.MaxValue) > threshold).ToList();
        if (bad.Count == 0)
        {
            return "—";
        }

        var last = bad.Max(o => o.DoneAt ?? end);
        var recovered = window.Any(o => o.DueAt > bad.Max(b => b.DueAt));
        return (last - at).ToString("F1", CultureInfo.InvariantCulture) + (recovered ? "" : " (not before the next fault)");
    }

    private static double P(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static string F(double v) => double.IsNaN(v) ? "—" : v.ToString(v >= 100 ? "F0" : "F1", CultureInfo.InvariantCulture);

    private static string Machine()
    {
        var lines = new List<string>
        {
            "nproc: " + Run("nproc"),
            "cpu: " + (File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() : "?"),
            "kernel: " + Run("uname", "-sr"),
            "dotnet: " + Run("dotnet", "--version"),
            "load average at the end: " + (File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?"),
            Run("free", "-m"),
        };
        return string.Join('\n', lines);
    }

    private static string Run(string file, params string[] args)
    {
        try
        {
            var info = new ProcessStartInfo(file) { RedirectStandardOutput = true };
            foreach (var a in args)
            {
                info.ArgumentList.Add(a);
            }

            using var p = Process.Start(info)!;
            var output = p.StandardOutput.ReadToEnd().TrimEnd();
            p.WaitForExit();
            return output;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "?";
        }
    }
}
