using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Fidpass.Deployment.Tests;

internal static partial class Dashboards
{
    public static string Folder { get; } = Path.Combine(Repository.Root, "deploy", "k8s", "components", "observability", "dashboards");

    public static string[] Files() => Directory.GetFiles(Folder, "*.json").Order(StringComparer.Ordinal).ToArray();

    public static JsonObject Load(string file) => JsonNode.Parse(File.ReadAllText(file))!.AsObject();

    /// <summary>Every PromQL expression of a dashboard: panel targets and template variable queries.</summary>
    public static IEnumerable<string> Queries(JsonObject dashboard)
    {
        foreach (var panel in dashboard["panels"]!.AsArray())
        {
            foreach (var target in panel!["targets"]?.AsArray() ?? [])
            {
                yield return (string)target!["expr"]!;
            }
        }

        foreach (var variable in dashboard["templating"]?["list"]?.AsArray() ?? [])
        {
            if ((string?)variable!["type"] == "query")
            {
                yield return (string?)variable["query"]?["query"] ?? (string)variable["query"]!;
            }
        }
    }

    /// <summary>
    /// The metric names a PromQL expression reads: identifiers left once strings, label matchers,
    /// ranges and label lists are removed, that are not functions (followed by "(") or keywords.
    /// </summary>
    public static IEnumerable<string> MetricNames(string promql)
    {
        var text = LabelValues().Replace(promql, "$1");
        text = Strings().Replace(text, " ");
        text = Braces().Replace(text, " ");
        text = Brackets().Replace(text, " ");
        text = LabelLists().Replace(text, " ");
        foreach (Match identifier in Identifier().Matches(text))
        {
            var name = identifier.Groups[1].Value;
            if (!Keywords.Contains(name) && !identifier.Groups[2].Success)
            {
                yield return name;
            }
        }
    }

    private static readonly HashSet<string> Keywords = ["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "inf", "nan"];

    [GeneratedRegex(@"label_values\(\s*([a-zA-Z_:][\w:]*)[^)]*\)")]
    private static partial Regex LabelValues();

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Braces();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Brackets();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex LabelLists();

    [GeneratedRegex(@"(?<![\w$.])([a-zA-Z_:][\w:]*)\b(\s*\()?")]
    private static partial Regex Identifier();
}

/// <summary>The committed Grafana dashboards and alert rules, and the metric contract in docs/operations.md.</summary>
public sealed partial class DashboardTests
{
    private static readonly string OperationsDoc = Path.Combine(Repository.Root, "docs", "operations.md");

    [Fact]
    public void Every_dashboard_parses_and_has_a_stable_unique_uid()
    {
        var files = Dashboards.Files();
        Assert.True(files.Length >= 3, "expected the service overview, messaging and business dashboards");

        var uids = files.Select(f =>
        {
            var dashboard = Dashboards.Load(f);
            var uid = (string?)dashboard["uid"];
            Assert.NotNull(uid);
            // Grafana's limit is 40 characters; a readable fixed uid keeps links stable across imports.
            Assert.Matches("^fidpass-[a-z0-9-]{1,32}$", uid);
            Assert.Null(dashboard["id"]);
            Assert.False(string.IsNullOrWhiteSpace((string?)dashboard["title"]));
            Assert.NotEmpty(Dashboards.Queries(dashboard));
            var panelIds = dashboard["panels"]!.AsArray().Select(p => (int)p!["id"]!).ToList();
            Assert.Equal(panelIds.Count, panelIds.Distinct().Count());
            return uid;
        }).ToList();

        Assert.Equal(uids.Count, uids.Distinct().Count());
        Assert.Contains("fidpass-service-overview", uids);
        Assert.Contains("fidpass-messaging", uids);
        Assert.Contains("fidpass-business", uids);
    }

    [Fact]
    public void The_metric_extractor_finds_metrics_and_skips_functions_labels_and_keywords()
    {
        var names = Dashboards.MetricNames(
            "histogram_quantile(0.99, sum by (job, le) (rate(http_server_request_duration_seconds_bucket{job=~\"$job\",http_route=~\"a|b\"}[$__rate_interval])))"
            + " / on (job) count(fidpass_reader_status == 0) or vector(0) unless up").ToList();

        Assert.Equal(["http_server_request_duration_seconds_bucket", "fidpass_reader_status", "up"], names);
        Assert.Equal(["messaging_masstransit_consume_ea_total"], Dashboards.MetricNames("label_values(messaging_masstransit_consume_ea_total, job)"));
    }

    [Fact]
    public async Task Every_metric_queried_by_a_dashboard_or_an_alert_is_in_the_operations_metric_table()
    {
        var contract = MetricTable();
        Assert.True(contract.Count >= 15, $"docs/operations.md lists only {contract.Count} metrics");

        var used = new Dictionary<string, string>();
        foreach (var file in Dashboards.Files())
        {
            foreach (var metric in Dashboards.Load(file).Let(Dashboards.Queries).SelectMany(Dashboards.MetricNames))
            {
                used.TryAdd(metric, Path.GetFileName(file));
            }
        }

        foreach (var (alert, expr) in await AlertRules())
        {
            foreach (var metric in Dashboards.MetricNames(expr))
            {
                used.TryAdd(metric, alert);
            }
        }

        var unknown = used.Where(u => !contract.Contains(u.Key)).Select(u => $"{u.Key} (in {u.Value})").ToList();
        Assert.True(unknown.Count == 0, "queried but not in docs/operations.md's metric table: " + string.Join(", ", unknown));
        var unused = contract.Where(m => !used.ContainsKey(m)).ToList();
        Assert.True(unused.Count == 0, "in the metric table but queried by nothing: " + string.Join(", ", unused));
    }

    [Fact]
    public async Task Every_alert_has_a_severity_and_a_runbook_section()
    {
        var doc = await File.ReadAllTextAsync(OperationsDoc, TestContext.Current.CancellationToken);
        var rules = await Manifests.YamlFileAsJson("deploy/k8s/components/observability/alerts.yaml");

        var alerts = rules["groups"]!.AsArray().SelectMany(g => g!["rules"]!.AsArray()).ToList();
        Assert.True(alerts.Count >= 5, "error rate, consumer faults, error queue, machine offline, payments without credit at least");
        foreach (var alert in alerts)
        {
            var name = (string)alert!["alert"]!;
            Assert.Contains((string?)alert["labels"]?["severity"], new[] { "critical", "warning" });
            Assert.Contains($"\n### {name}\n", doc, StringComparison.Ordinal);
            // runbook_url: the annotation Alertmanager templates and Grafana link; absolute, so it opens from a page or a chat.
            Assert.Equal($"https://runbooks.fidpass.example/operations.md#{name.ToLowerInvariant()}", (string?)alert["annotations"]?["runbook_url"]);
            Assert.Null(alert["annotations"]?["runbook"]);
            Assert.False(string.IsNullOrWhiteSpace((string?)alert["expr"]), name);
        }

        var names = alerts.Select(a => (string)a!["alert"]!).ToList();
        Assert.Contains("FidpassHighErrorRate", names);
        Assert.Contains("FidpassConsumerFaults", names);
        Assert.Contains("FidpassErrorQueueNotEmpty", names);
        Assert.Contains("FidpassCashMachineOffline", names);
        Assert.Contains("FidpassPaymentsWithoutCredit", names);
    }

    /// <summary>The first column of the table under "## Metrics" in docs/operations.md: the names the services promise to export.</summary>
    internal static HashSet<string> MetricTable()
    {
        var lines = File.ReadAllLines(OperationsDoc);
        var start = Array.IndexOf(lines, "## Metrics");
        Assert.True(start >= 0, "docs/operations.md has no '## Metrics' section");
        return lines.Skip(start + 1)
            .TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal))
            .Select(l => MetricRow().Match(l))
            .Where(m => m.Success)
            .Select(m => m.Groups[1].Value)
            .ToHashSet(StringComparer.Ordinal);
    }

    private static async Task<List<(string Alert, string Expr)>> AlertRules()
    {
        var rules = await Manifests.YamlFileAsJson("deploy/k8s/components/observability/alerts.yaml");
        return rules["groups"]!.AsArray()
            .SelectMany(g => g!["rules"]!.AsArray())
            .Select(r => ((string)r!["alert"]!, (string)r["expr"]!))
            .ToList();
    }

    [GeneratedRegex(@"^\|\s*`([a-zA-Z_:][\w:]*)`\s*\|")]
    private static partial Regex MetricRow();
}

internal static class FunctionalExtensions
{
    public static TResult Let<T, TResult>(this T value, Func<T, TResult> map) => map(value);
}
