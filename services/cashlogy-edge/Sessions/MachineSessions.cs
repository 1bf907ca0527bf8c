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
/// Keeps one <see cref="ConnectorSession"/> per machine for the life of the process (hosted service):
/// sessions start for every stored machine at start-up and when a machine is added. Records status
/// changes (relayed as <c>CashMachineStatusChanged</c>, counted in metrics) and reconciles operations
/// whose outcome is unknown each time a session becomes ready.
/// </summary>
public sealed class MachineSessions(IDocumentStore store, IServiceProvider services, IConfiguration configuration, ILogger<MachineSessions> logger)
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

    public ConnectorSession? Get(Guid machineId) => _sessions.GetValueOrDefault(machineId);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Live.TryAdd(this, 0);
        _ = Gauges.Value;
        await using var session = store.QuerySession();
        var machines = await session.Query<Machine>().ToListAsync(stoppingToken);
        foreach (var machine in machines)
        {
            Open(machine);
        }
    }

    public ConnectorSession Open(Machine machine)
    {
        _machines[machine.Id] = machine;
        return _sessions.GetOrAdd(machine.Id, _ =>
        {
            var settings = new SessionSettings(machine.Host, machine.Port, Options.Timeouts, Options.HealthPollInterval, Options.ReconnectDelay, Options.MaxReconnectDelay,
                Options.MaintenanceCheckInterval);
            var created = new ConnectorSession(machine.Id, settings, logger,
                (status, detail) => RecordStatusAsync(machine, status, detail),
                ready => services.GetRequiredService<OperationRunner>().ReconcileAsync(ready, CancellationToken.None));
            created.Start();
            return created;
        });
    }

    public async Task CloseAsync(Guid machineId)
    {
        _machines.TryRemove(machineId, out _);
        if (_sessions.TryRemove(machineId, out var session))
        {
            await session.DisposeAsync();
        }
    }

    /// <summary>Restarts the session on a changed address.</summary>
    public async Task ReopenAsync(Machine machine)
    {
        await CloseAsync(machine.Id);
        Open(machine);
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
        foreach (var id in _sessions.Keys.ToList())
        {
            await CloseAsync(id);
        }

        Live.TryRemove(this, out _);
    }
}
