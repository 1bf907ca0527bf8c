using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Fidpass.CashlogyEdge.Machines;
using Fidpass.CashlogyEdge.Operations;
using Fidpass.CashlogyEdge.Protocol;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.CashlogyEdge.Sessions;

/// <summary><c>Cashlogy:*</c> settings.</summary>
public sealed record CashlogyOptions
{
    public TimeSpan HealthPollInterval { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan HeadlessPollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often the notes left before preventive maintenance are read (<c>#W#0#</c>, spec 2.7: hourly).</summary>
    public TimeSpan MaintenanceCheckInterval { get; init; } = TimeSpan.FromHours(1);
    public CashlogyTimeouts Timeouts { get; init; } = new();
}

/// <summary>
/// Keeps one <see cref="ConnectorSession"/> per machine this replica owns (hosted service). A machine
/// moves money and its Connector serves one client, so across all replicas exactly one talks to it:
/// the one holding the machine's advisory lock on this replica's <see cref="AdvisoryLockSession"/>.
/// Every <see cref="AdvisoryLockSession.CheckInterval"/> the replica checks its lock session and tries
/// to take the stored machines nobody owns (at start-up, those added through another replica, those
/// of a replica that died), opening their sessions <see cref="AdvisoryLockSession.TakeoverDelay"/>
/// later; when its lock session is lost it closes every machine session at once. Records status
/// changes (relayed as <c>CashMachineStatusChanged</c>, counted in metrics) and reconciles operations
/// whose outcome is unknown each time a session becomes ready (also those a dead owner left behind).
/// </summary>
public sealed partial class MachineSessions(IDocumentStore store, IServiceProvider services, IConfiguration configuration, ILogger<MachineSessions> logger)
    : BackgroundService
{
    private static readonly Meter Meter = new(Telemetry.FidpassSource);
    private static readonly Counter<long> StatusChanges = Meter.CreateCounter<long>("fidpass.cash.machine.status_changes", description: "Cash machine status changes, by new status.");
    private readonly ConcurrentDictionary<Guid, ConnectorSession> _sessions = new();
    private readonly ConcurrentDictionary<Guid, Machine> _machines = new();
    private readonly ConcurrentDictionary<Guid, string> _published = new();

    // The gauges are created once per process and read every live MachineSessions: one host per
    // process in production, several in the integration tests, where a gauge owned by one host and
    // disposed with it would silence the same metric of the others.
    private static readonly ConcurrentDictionary<MachineSessions, byte> Live = new();
    private static readonly Lazy<Meter> Gauges = new(() =>
    {
        var meter = new Meter(Telemetry.FidpassSource);
        meter.CreateObservableGauge("fidpass.cash.machines.online", () => Live.Keys.Sum(s => s.CountOnline()), description: "Cash machines whose Connector is connected and ready.");
        meter.CreateObservableGauge("fidpass.cash_machine.status", () => Live.Keys.SelectMany(s => s.MachineStatuses()), description: "1 when the machine's Connector is connected and ready, 0 otherwise.");
        return meter;
    });

    public CashlogyOptions Options { get; } = configuration.GetSection("Cashlogy").Get<CashlogyOptions>() ?? new CashlogyOptions();

    private int CountOnline() => _sessions.Values.Count(s => s.Status == SessionStatus.Ready);

    /// <summary>
    /// One point per machine: 1 connected and ready, 0 otherwise (offline, initialising, busy, in error),
    /// labelled with the merchant's slug, the machine id and the current status (five values), as the
    /// dashboards and alerts of docs/operations.md read it.
    /// </summary>
    private IEnumerable<Measurement<int>> MachineStatuses() =>
        _sessions.Select(entry =>
        {
            var status = entry.Value.Status;
            var merchant = _machines.TryGetValue(entry.Key, out var machine) ? machine.MerchantSlug ?? machine.MerchantId.ToString() : "";
            return new Measurement<int>(status == SessionStatus.Ready ? 1 : 0,
                new KeyValuePair<string, object?>("merchant", merchant),
                new KeyValuePair<string, object?>("machine_id", entry.Key.ToString()),
                new KeyValuePair<string, object?>("status", status.ToString().ToLowerInvariant()));
        });

    private readonly SemaphoreSlim _owning = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly ConcurrentDictionary<Guid, byte> _added = new();
    private AdvisoryLockSession? _locks;

    /// <summary>The <c>application_name</c> of this replica's lock session (in <c>pg_stat_activity</c>).</summary>
    public string ApplicationName { get; } = $"fidpass-cash-machines {Environment.MachineName} {Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>The machine's session when this replica owns the machine.</summary>
    public ConnectorSession? Get(Guid machineId) => _sessions.GetValueOrDefault(machineId);

    /// <summary>The machines this replica owns (holds the lock of).</summary>
    public IReadOnlyCollection<Guid> Owned => [.. _sessions.Keys];

    private static long LockKey(Guid machineId) => AdvisoryLockSession.Key("fidpass-cash-machine:" + machineId);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Live.TryAdd(this, 0);
        _ = Gauges.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                _locks = await AdvisoryLockSession.OpenAsync(
                    configuration.GetConnectionString(Infrastructure.PostgresConnectionName)!, ApplicationName, stoppingToken);
                while (true)
                {
                    await TakeUnownedMachinesAsync(stoppingToken);
                    // Woken early by a machine added while the lock session was out of reach.
                    await _wake.WaitAsync(AdvisoryLockSession.CheckInterval, stoppingToken);
                    await _locks.CheckAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LocksLost(logger, ex);
                await ReleaseAllAsync();
                await Task.Delay(AdvisoryLockSession.CheckInterval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task TakeUnownedMachinesAsync(CancellationToken stoppingToken)
    {
        List<Machine> machines;
        try
        {
            await using var session = store.QuerySession();
            machines = [.. await session.Query<Machine>().ToListAsync(stoppingToken)];
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // The store, not the lock session, failed (pool exhausted, a slow schema check): the machines
            // this replica owns stay open, and the next round tries again.
            MachinesUnread(logger, ex);
            return;
        }

        var taken = new List<Machine>();
        foreach (var machine in machines)
        {
            if (_sessions.ContainsKey(machine.Id) || !await _locks!.TryAcquireAsync(LockKey(machine.Id), stoppingToken))
            {
                _added.TryRemove(machine.Id, out _);
                continue;
            }

            if (_added.TryRemove(machine.Id, out _))
            {
                // Added through this replica and never owned by anyone: no previous owner to wait for.
                Start(machine);
            }
            else
            {
                taken.Add(machine);
            }
        }

        if (taken.Count > 0)
        {
            // Another replica may have owned them until its lock session died: it closes its machine
            // sessions within this delay, and the Connector serves one client.
            await Task.Delay(AdvisoryLockSession.TakeoverDelay, stoppingToken);
            await _locks!.CheckAsync(stoppingToken);
            foreach (var machine in taken)
            {
                Start(machine);
            }
        }
    }

    /// <summary>
    /// Opens the session of a machine just added (nobody can have owned it), or returns null when
    /// another replica owns it. When this replica's lock session is not open yet or out of reach, the
    /// machine is left to the ownership loop, woken at once, which starts it as soon as it holds the
    /// lock, without the takeover delay (nobody can have owned a machine just added).
    /// </summary>
    public async Task<ConnectorSession?> OpenAsync(Machine machine)
    {
        if (_sessions.TryGetValue(machine.Id, out var open))
        {
            return open;
        }

        await _owning.WaitAsync();
        try
        {
            if (_locks is { } locks)
            {
                return await locks.TryAcquireAsync(LockKey(machine.Id), CancellationToken.None) ? Start(machine) : null;
            }
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException or ObjectDisposedException)
        {
            OpenDeferred(logger, machine.Id, ex);
        }
        finally
        {
            _owning.Release();
        }

        _added[machine.Id] = 0;
        _wake.Release();
        return null;
    }

    private async Task ReleaseAllAsync()
    {
        await _owning.WaitAsync();
        try
        {
            foreach (var id in _sessions.Keys.ToList())
            {
                await CloseSessionAsync(id);
            }

            if (_locks is { } locks)
            {
                _locks = null;
                await locks.DisposeAsync();
            }
        }
        finally
        {
            _owning.Release();
        }
    }

    private ConnectorSession Start(Machine machine)
    {
        _machines[machine.Id] = machine;
        if (_sessions.TryGetValue(machine.Id, out var open))
        {
            return open;
        }

        // Never started inside GetOrAdd: its factory may run twice when the loop and the API start the
        // same machine at once, and the loser's session would keep a connection the winner never gets
        // (the Connector serves one client).
        var settings = new SessionSettings(machine.Host, machine.Port, Options.Timeouts, Options.HealthPollInterval, Options.ReconnectDelay, Options.MaxReconnectDelay,
            Options.MaintenanceCheckInterval, services.GetRequiredService<MachineNetworks>());
        var created = new ConnectorSession(machine.Id, settings, logger,
            (status, detail) => RecordStatusAsync(machine, status, detail),
            ready => services.GetRequiredService<OperationRunner>().ReconcileAsync(ready, CancellationToken.None));
        var session = _sessions.GetOrAdd(machine.Id, created);
        if (session == created)
        {
            created.Start();
        }

        return session;
    }

    /// <summary>Closes the machine's session and gives up its lock (the machine was deleted).</summary>
    public async Task CloseAsync(Guid machineId)
    {
        _added.TryRemove(machineId, out _);
        if (await CloseSessionAsync(machineId) && _locks is { } locks)
        {
            try
            {
                await locks.ReleaseAsync(LockKey(machineId), CancellationToken.None);
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
            {
                // The lock session is gone, and every lock with it.
            }
        }
    }

    private async Task<bool> CloseSessionAsync(Guid machineId)
    {
        _machines.TryRemove(machineId, out _);
        if (_sessions.TryRemove(machineId, out var session))
        {
            await session.DisposeAsync();
            return true;
        }

        return false;
    }

    /// <summary>Restarts the session on a changed address (this replica keeps the machine's lock).</summary>
    public async Task ReopenAsync(Machine machine)
    {
        if (await CloseSessionAsync(machine.Id))
        {
            Start(machine);
        }
    }

    private async Task RecordStatusAsync(Machine machine, SessionStatus status, string? detail)
    {
        var published = status switch
        {
            SessionStatus.Ready => "online",
            SessionStatus.Offline => "offline",
            SessionStatus.Busy => "busy",
            SessionStatus.Error => "error",
            _ => null,
        };
        var key = published + "|" + detail;
        if (published is null || _published.GetValueOrDefault(machine.Id) == key)
        {
            return;
        }

        _published[machine.Id] = key;
        StatusChanges.Add(1, new KeyValuePair<string, object?>("status", published));
        await using var session = store.LightweightSession();
        session.Events.Append(machine.Id, new MachineStatusChanged(machine.Id, machine.MerchantId, published, detail, DateTimeOffset.UtcNow));
        await session.SaveChangesAsync();
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await ReleaseAllAsync();
        Live.TryRemove(this, out _);
    }

    [LoggerMessage(LogLevel.Warning, "Cash machines could not be read: the machines nobody owns are taken on the next round")]
    private static partial void MachinesUnread(ILogger logger, Exception exception);

    [LoggerMessage(LogLevel.Warning, "Cash machine {MachineId} added while the lock session is out of reach: the ownership loop starts it")]
    private static partial void OpenDeferred(ILogger logger, Guid machineId, Exception exception);

    [LoggerMessage(LogLevel.Warning, "Cash machine lock session lost or out of reach: every machine session closed, taking them again")]
    private static partial void LocksLost(ILogger logger, Exception exception);
}
