namespace Fidpass.Deployment.Tests;

/// <summary>docker-compose.yml is the way to run Fidpass where Docker exists; nothing runs it here, so check it offline.</summary>
public sealed class DockerComposeTests
{
    private static Task<Repository.Run> Compose(string arguments) =>
        Repository.RunAsync("docker-compose", $"-f docker-compose.yml {arguments}");

    [Fact]
    public async Task Compose_file_is_valid()
    {
        var run = await Compose("config --quiet");

        Assert.True(run.ExitCode == 0, run.Output);
    }

    [Fact]
    public async Task Every_service_of_the_solution_and_both_servers_are_in_compose()
    {
        var run = await Compose("config --services");
        var composed = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        var hosts = Repository.HostProjectFolders();
        Assert.Contains("gateway", hosts);
        Assert.True(hosts.Count >= 6, $"expected the gateway and five services, found {string.Join(", ", hosts)}");
        Assert.All(hosts.Append("postgres").Append("rabbitmq").Append("fake-stripe").Append("cashlogy-simulator"), name => Assert.Contains(name, composed));
    }

    [Fact]
    public async Task Every_image_is_pinned_and_no_health_check_needs_a_shell()
    {
        var run = await Compose("config");
        var lines = run.Output.Split('\n');

        var images = lines.Where(l => l.TrimStart().StartsWith("image:", StringComparison.Ordinal)).Select(l => l.Split("image:")[1].Trim()).ToList();
        Assert.NotEmpty(images);
        Assert.All(images, image => Assert.Matches(@"^[\w./-]+:[\w.-]+$", image));
        Assert.DoesNotContain(images, image => image.EndsWith(":latest", StringComparison.Ordinal));

        // The .NET images are chiseled (no shell; Debian's dash has no /dev/tcp either): they are checked
        // from outside on /health. The servers keep a check run as a plain command.
        Assert.DoesNotContain(lines, l => l.Contains("CMD-SHELL", StringComparison.Ordinal) || l.Contains("/dev/tcp", StringComparison.Ordinal));
        Assert.Equal(2, lines.Count(l => l.StartsWith("    healthcheck:", StringComparison.Ordinal)));
    }
}
