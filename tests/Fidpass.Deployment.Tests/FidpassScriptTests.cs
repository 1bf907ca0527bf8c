using System.Net;
using System.Net.Sockets;

namespace Fidpass.Deployment.Tests;

/// <summary>./fidpass must explain and stop, never hang, when it cannot start the servers.</summary>
public sealed class FidpassScriptTests
{
    [Fact]
    public async Task Starting_while_the_PostgreSQL_port_is_taken_explains_and_exits_non_zero()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var state = Directory.CreateTempSubdirectory("fidpass-state-");

        var run = await Repository.RunAsync("./fidpass", "infra up", new Dictionary<string, string>
        {
            ["FIDPASS_STATE_DIR"] = state.FullName,
            ["FIDPASS_INFRA"] = "local",
            ["FIDPASS_PG_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains($"port {port} (for PostgreSQL) is already taken", run.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(state.FullName, "postgres", "PG_VERSION")), "nothing may be created when the port is taken");
    }

    [Fact]
    public async Task Unknown_command_prints_usage_and_exits_2()
    {
        var run = await Repository.RunAsync("./fidpass", "launch");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Usage: ./fidpass", run.Output, StringComparison.Ordinal);
    }
}
