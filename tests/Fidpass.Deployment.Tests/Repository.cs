using System.Diagnostics;

namespace Fidpass.Deployment.Tests;

/// <summary>The repository the tests run from, and a way to run its commands with a time limit.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Fidpass.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Fidpass.sln not found above the test binaries.");
    }

    public sealed record Run(int ExitCode, string Output, TimeSpan Elapsed);

    public static async Task<Run> RunAsync(string file, string arguments, IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        // "./x" means the repository's own script, wherever the test process runs from.
        var executable = file.StartsWith("./", StringComparison.Ordinal) ? Path.Combine(Root, file[2..]) : file;
        var start = new ProcessStartInfo(executable, arguments)
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {arguments} did not finish within {timeout ?? TimeSpan.FromSeconds(60)}: it hangs.");
        }

        return new Run(process.ExitCode, await stdout + await stderr, clock.Elapsed);
    }

    /// <summary>The ASP.NET Core host projects of the solution (services and gateway), by folder name.</summary>
    public static IReadOnlyList<string> HostProjectFolders() =>
        File.ReadAllLines(Path.Combine(Root, "Fidpass.sln"))
            .Where(line => line.StartsWith("Project(", StringComparison.Ordinal))
            .Select(line => line.Split(',')[1].Trim().Trim('"').Replace('\\', '/'))
            .Where(path => path.StartsWith("services/", StringComparison.Ordinal) || path.StartsWith("gateway/", StringComparison.Ordinal))
            .Where(path => File.ReadAllText(Path.Combine(Root, path)).Contains("Microsoft.NET.Sdk.Web", StringComparison.Ordinal))
            .Select(path => path.StartsWith("gateway/", StringComparison.Ordinal) ? "gateway" : path.Split('/')[1])
            .ToList();
}
