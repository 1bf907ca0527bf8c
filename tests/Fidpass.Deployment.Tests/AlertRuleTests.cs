namespace Fidpass.Deployment.Tests;

/// <summary>
/// The alert rules evaluated by Prometheus's own engine on made-up series
/// (deploy/k8s/components/observability/alerts.test.yaml and alerts.devices.test.yaml): a failed
/// scrape, a service without pods, the first MassTransit fault, the relay without a leader, payments
/// without credit around restarts, devices switched off at closing time.
/// </summary>
public sealed class AlertRuleTests
{
    private const string Folder = "deploy/k8s/components/observability";

    [Theory]
    [InlineData("alerts.test.yaml")]
    [InlineData("alerts.devices.test.yaml")]
    public async Task Promtool_unit_tests_of_the_alert_rules_pass(string file)
    {
        var run = await Promtool($"test rules {Folder}/{file}");

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("SUCCESS", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_offline_devices_panel_counts_devices_not_series()
    {
        // One reader seen by two stripe-terminal replicas, one cash machine whose status label changed
        // while offline: two series each, one device each.
        var panel = Dashboards.Load(Path.Combine(Dashboards.Folder, "business.json"))["panels"]!.AsArray()
            .Single(p => (string?)p!["title"] == "Offline devices")!;
        var expressions = panel["targets"]!.AsArray().Select(t => (string)t!["expr"]!).ToList();
        Assert.Equal(2, expressions.Count);
        var tests = string.Join("\n", expressions.Select(e => $$"""
                  - expr: '{{e.Replace("'", "''", StringComparison.Ordinal)}}'
                    eval_time: 4m
                    exp_samples:
                      - labels: '{}'
                        value: 1
            """));
        var file = Path.Combine(Path.GetTempPath(), $"fidpass-panel-{Guid.NewGuid():N}.test.yaml");
        await File.WriteAllTextAsync(file, $$"""
            rule_files: []
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
                  - series: 'fidpass_reader_status{job="stripe-terminal", pod="st-a", merchant="m", reader_id="tmr_1"}'
                    values: '0x5'
                  - series: 'fidpass_reader_status{job="stripe-terminal", pod="st-b", merchant="m", reader_id="tmr_1"}'
                    values: '0x5'
                  - series: 'fidpass_reader_status{job="stripe-terminal", pod="st-a", merchant="m", reader_id="tmr_2"}'
                    values: '1x5'
                  - series: 'fidpass_cash_machine_status{job="cashlogy-edge", pod="edge-a", merchant="m", machine_id="c1", status="offline"}'
                    values: '0x5'
                  - series: 'fidpass_cash_machine_status{job="cashlogy-edge", pod="edge-b", merchant="m", machine_id="c1", status="initializing"}'
                    values: '0x5'
                promql_expr_test:
            {{tests}}
            """, TestContext.Current.CancellationToken);
        try
        {
            var run = await Promtool($"test rules {file}");
            Assert.True(run.ExitCode == 0, run.Output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Prometheus_scrapes_RabbitMQ_through_a_Service_that_every_overlay_defines()
    {
        // (Debian's promtool is built without Kubernetes discovery, so `promtool check config` cannot read it.)
        var config = await Manifests.YamlFileAsJson($"{Folder}/prometheus.yml");
        var job = config["scrape_configs"]!.AsArray().Single(j => (string?)j!["job_name"] == "rabbitmq")!;
        Assert.Null(job["static_configs"]);
        Assert.Equal("service", (string?)job["kubernetes_sd_configs"]![0]!["role"]);
        var keeps = job["relabel_configs"]!.AsArray().Where(r => (string?)r!["action"] == "keep").ToList();
        string Keep(string label) => (string)keeps.Single(k => k!["source_labels"]!.AsArray().Select(s => (string?)s).Contains(label))!["regex"]!;
        var serviceName = Keep("__meta_kubernetes_service_label_app_kubernetes_io_name");
        var portName = Keep("__meta_kubernetes_service_port_name");

        foreach (var overlay in Manifests.Overlays)
        {
            var rendered = await Manifests.Render(overlay);
            var services = rendered.OfKind("Service").Where(s => Manifests.AppName(s) == serviceName).ToList();
            var service = Assert.Single(services);
            var port = Assert.Single(service["spec"]!["ports"]!.AsArray(), p => (string?)p!["name"] == portName);
            Assert.Equal(15692, (int)port!["port"]!);
        }
    }

    private static Task<Repository.Run> Promtool(string arguments)
    {
        Assert.True(File.Exists("/usr/bin/promtool"), "promtool is missing: apt-get install prometheus");
        return Repository.RunAsync("promtool", arguments, timeout: TimeSpan.FromMinutes(3));
    }
}
