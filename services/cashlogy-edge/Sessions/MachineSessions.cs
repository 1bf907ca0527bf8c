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
    private readonly ConcurrentDictionary<Guid, string> _published = new();

    private readonly Meter _gauges = new(Telemetry.FidpassSource);

    public CashlogyOptions Options { get; } = configuration.GetSection("Cashlogy").Get<CashlogyOptions>() ?? new CashlogyOptions();

    private int CountOnline() => _sessions.Values.Count(s => s.Status == SessionStatus.Ready);

    public ConnectorSession? Get(Guid machineId) => _sessions.GetValueOrDefault(machineId);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _gauges.CreateObservableGauge("fidpass.cash.machines.online", CountOnline, description: "Cash machines whose Connector is connected and ready.");
        await using var session = store.QuerySession();
        var machines = await session.Query<Machine>().ToListAsync(stoppingToken);
        foreach (var machine in machines)
        {
            Open(machine);
        }
    }

    public ConnectorSession Open(Machine machine)
    {
        return _sessions.GetOrAdd(machine.Id, _ =>
        {
            var settings = new SessionSettings(machine.Host, machine.Port, Options.Timeouts, Options.HealthPollInterval, Options.ReconnectDelay, Options.MaxReconnectDelay);
            var created = new ConnectorSession(machine.Id, settings, logger,
                (status, detail) => RecordStatusAsync(machine, status, detail),
                ready => services.GetRequiredService<OperationRunner>().ReconcileAsync(ready, CancellationToken.None));
            created.Start();
            return created;
        });
    }

    public async Task CloseAsync(Guid machineId)
    {
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

        _gauges.Dispose();
    }
}
