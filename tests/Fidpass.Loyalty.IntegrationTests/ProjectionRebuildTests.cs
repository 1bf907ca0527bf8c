using System.Diagnostics;
using Fidpass.Testing;
using Npgsql;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>
/// docs/operations.md, "Rebuild projections", run as an operator runs it in a pod: the service's own
/// program with the pod's configuration, the daemon switched off, and JasperFx's command line
/// arguments. A member's snapshot lost to a projection bug comes back from the member's events.
/// </summary>
public sealed class ProjectionRebuildTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_runbooks_rebuild_command_rebuilds_a_lost_member_snapshot_from_its_events()
    {
        var postgres = await TestServers.CreateDatabaseAsync("loyalty_rebuild");
        var rabbitMq = await TestServers.CreateVirtualHostAsync("loyalty-rebuild");
        Guid member;
        await using (var host = await new ServiceHost<LoyaltyApi>().WithInfrastructure(postgres, rabbitMq).StartedAsync())
        {
            member = await new TestMerchant(host, Guid.NewGuid(), "shop-" + Guid.NewGuid().ToString("N")[..10]).EnrolAsync("Jeanne Reconstruite");
        }

        Assert.Equal(1, await ExecuteAsync(postgres, "DELETE FROM loyalty.mt_doc_member WHERE id = @id", member));
        Assert.Equal(0L, await CountAsync(postgres, member));

        var list = await RunServiceAsync(postgres, rabbitMq, "projections list");
        Assert.True(list.ExitCode == 0, list.Output);
        Assert.Contains("Member", list.Output, StringComparison.Ordinal);

        var rebuild = await RunServiceAsync(postgres, rabbitMq, "projections rebuild --projection Member");

        Assert.True(rebuild.ExitCode == 0, rebuild.Output);
        Assert.Equal(1L, await CountAsync(postgres, member));
    }

    private static async Task<long> CountAsync(string postgres, Guid member)
    {
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM loyalty.mt_doc_member WHERE id = @id AND data->>'Name' = 'Jeanne Reconstruite'", connection);
        command.Parameters.AddWithValue("id", member);
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    private static async Task<int> ExecuteAsync(string postgres, string sql, Guid member)
    {
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", member);
        return await command.ExecuteNonQueryAsync(Ct);
    }

    private sealed record Run(int ExitCode, string Output);

    /// <summary>The loyalty program built next to these tests, as <c>kubectl exec deploy/loyalty -- /app/fidpass-service …</c> runs it.</summary>
    private static async Task<Run> RunServiceAsync(string postgres, string rabbitMq, string arguments)
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var root = testBin;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Fidpass.sln")))
        {
            root = root.Parent;
        }

        var program = Path.Combine(root!.FullName, "services", "loyalty", "bin", testBin.Parent!.Name, testBin.Name, "Fidpass.Loyalty.dll");
        Assert.True(File.Exists(program), program + " is missing");
        var start = new ProcessStartInfo("dotnet", $"\"{program}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(program)!,
        };
        start.Environment["ConnectionStrings__postgres"] = postgres;
        start.Environment["ConnectionStrings__rabbitmq"] = rabbitMq;
        start.Environment["Marten__Daemon"] = "Disabled";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        limit.CancelAfter(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{arguments} did not finish within 3 minutes:\n{await stdout}{await stderr}");
        }

        return new Run(process.ExitCode, await stdout + await stderr);
    }
}
