using System.Globalization;

namespace Fidpass.Bench;

/// <summary>
/// CPU time and resident memory of the system's processes over a phase, read from /proc once a
/// second: the services by their pid files under the state folder's run/, PostgreSQL and RabbitMQ by
/// process name (all their processes summed), and this bench with its simulators.
/// </summary>
internal sealed class ProcessSampler : IAsyncDisposable
{
    private const double TicksPerSecond = 100; // USER_HZ: utime/stime in /proc/<pid>/stat
    private static readonly long PageBytes = Environment.SystemPageSize;
    private readonly string _run;
    private readonly string? _postmasterPidFile;
    private readonly Func<IReadOnlyCollection<int>> _benchPids;
    private readonly string _childLabel;
    private readonly Dictionary<int, (string Group, double FirstCpu, double LastCpu)> _seen = [];
    private readonly Dictionary<string, long> _peakRss = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly DateTime _startedAt = DateTime.UtcNow;
    private readonly Task _loop;

    private ProcessSampler(string state, string childLabel, Func<IReadOnlyCollection<int>> benchPids)
    {
        _run = Path.Combine(state, "run");
        _postmasterPidFile = new[] { Path.Combine(state, "postgres", "postmaster.pid"), Path.Combine(state, "postgres-home", "data", "postmaster.pid") }
            .FirstOrDefault(File.Exists);
        _benchPids = benchPids;
        _childLabel = childLabel;
        Sample(first: true);
        _loop = LoopAsync();
    }

    /// <summary>Starts sampling; <paramref name="childPids"/> are the bench's own child processes (simulators, a benchmark), under <paramref name="childLabel"/>.</summary>
    public static ProcessSampler Start(string state, string childLabel, Func<IReadOnlyCollection<int>> childPids) => new(state, childLabel, childPids);

    /// <summary>Stops and returns, per process group, CPU seconds used during the phase, average cores, and peak RSS.</summary>
    public async Task<IReadOnlyList<ProcessUsage>> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        Sample(first: false);
        var seconds = (DateTime.UtcNow - _startedAt).TotalSeconds;
        return [.. _seen.Values.GroupBy(p => p.Group)
            .Select(g => new ProcessUsage(g.Key, g.Sum(p => p.LastCpu - p.FirstCpu), g.Sum(p => p.LastCpu - p.FirstCpu) / seconds, _peakRss.GetValueOrDefault(g.Key) / (1024.0 * 1024)))
            .OrderByDescending(u => u.CpuSeconds)];
    }

    private async Task LoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(1000, _stop.Token);
                Sample(first: false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Sample(bool first)
    {
        var rss = new Dictionary<string, long>();
        foreach (var (pid, group) in Targets())
        {
            if (Read(pid) is not { } usage)
            {
                continue;
            }

            // A process seen for the first time after the start (a new PostgreSQL backend, a restarted
            // service) counts from zero; one that existed at the start counts from its first reading.
            _seen[pid] = _seen.TryGetValue(pid, out var known) ? known with { LastCpu = usage.Cpu } : (group, first ? usage.Cpu : 0, usage.Cpu);
            rss[group] = rss.GetValueOrDefault(group) + usage.Rss;
        }

        foreach (var (group, bytes) in rss)
        {
            _peakRss[group] = Math.Max(_peakRss.GetValueOrDefault(group), bytes);
        }
    }

    private IEnumerable<(int Pid, string Group)> Targets()
    {
        if (Directory.Exists(_run))
        {
            foreach (var file in Directory.EnumerateFiles(_run, "*.pid"))
            {
                var name = Path.GetFileNameWithoutExtension(file);
                if (name.EndsWith(".supervisor", StringComparison.Ordinal) || name == "rabbitmq")
                {
                    continue;
                }

                if (int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid))
                {
                    yield return (pid, name);
                }
            }
        }

        // Only this state folder's servers when their pids are known: on a machine shared with test
        // runs, the other PostgreSQL and RabbitMQ would otherwise be counted as this system's.
        var postmaster = ReadPid(_postmasterPidFile);
        var broker = ReadPid(Path.Combine(_run, "rabbitmq.pid"));
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string comm;
            try
            {
                comm = File.ReadAllText(Path.Combine(dir, "comm")).Trim();
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            if (comm == "postgres" && (postmaster is null || Descends(pid, postmaster.Value)))
            {
                yield return (pid, "PostgreSQL (all processes)");
            }
            else if (comm is "beam.smp" or "erl_child_setup" or "epmd" or "inet_gethost" && (broker is null || Descends(pid, broker.Value)))
            {
                yield return (pid, "RabbitMQ (all processes)");
            }
        }

        yield return (Environment.ProcessId, "bench (load generator)");
        foreach (var pid in _benchPids())
        {
            yield return (pid, _childLabel);
        }
    }

    private static int? ReadPid(string? file)
    {
        try
        {
            return file is not null && File.Exists(file)
                && int.TryParse(File.ReadLines(file).FirstOrDefault()?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>True when <paramref name="pid"/> is <paramref name="ancestor"/> or runs under it (a few levels up).</summary>
    private static bool Descends(int pid, int ancestor)
    {
        for (var (current, depth) = (pid, 0); current > 1 && depth < 4; depth++)
        {
            if (current == ancestor)
            {
                return true;
            }

            try
            {
                var stat = File.ReadAllText($"/proc/{current}/stat");
                current = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
                return false;
            }
        }

        return false;
    }

    private static (double Cpu, long Rss)? Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // After "(comm) " comes the state (field 3): utime and stime (fields 14, 15) are at 11 and 12,
            // rss in pages (field 24) at 21.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var cpu = (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
            return (cpu, long.Parse(fields[21], CultureInfo.InvariantCulture) * PageBytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}

internal sealed record ProcessUsage(string Group, double CpuSeconds, double Cores, double PeakRssMiB);

/// <summary>What the report says about the machine it ran on.</summary>
internal static class Machine
{
    public static IReadOnlyList<string> Describe()
    {
        string Read(string path) => File.Exists(path) ? File.ReadAllText(path) : "";
        var cpu = Read("/proc/cpuinfo").Split('\n').FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var memory = Read("/proc/meminfo").Split('\n').FirstOrDefault(l => l.StartsWith("MemTotal", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var os = Read("/etc/os-release").Split('\n').FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? "unknown";
        return
        [
            $"CPU: {Environment.ProcessorCount} × {cpu}",
            $"memory: {memory}",
            $"OS: {os}, kernel {Read("/proc/sys/kernel/osrelease").Trim()}",
            $".NET: {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}",
            $"load average before the run: {Read("/proc/loadavg").Trim()}",
        ];
    }
}
