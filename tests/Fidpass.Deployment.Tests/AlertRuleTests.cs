namespace Fidpass.Deployment.Tests;

/// <summary>
/// The alert rules evaluated by Prometheus's own engine on made-up series
/// (deploy/k8s/components/observability/alerts.test.yaml): a failed scrape, a service without pods,
/// the first MassTransit fault, the relay without a leader.
/// </summary>
public sealed class AlertRuleTests
{
    private const string RuleTests = "deploy/k8s/components/observability/alerts.test.yaml";

    [Fact]
    public async Task Promtool_unit_tests_of_the_alert_rules_pass()
    {
        Assert.True(File.Exists("/usr/bin/promtool"), "promtool is missing: apt-get install prometheus");

        var run = await Repository.RunAsync("promtool", $"test rules {RuleTests}");

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("SUCCESS", run.Output, StringComparison.Ordinal);
    }
}
