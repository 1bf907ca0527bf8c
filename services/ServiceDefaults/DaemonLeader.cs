using System.Diagnostics.Metrics;
using Marten;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Fidpass.ServiceDefaults;

/// <summary>
/// Leader election for Marten's async daemon (the event relay and async projections): any replica of
/// a service may run it, one at a time. Marten's own <c>HotCold</c> mode cannot run with Npgsql 10
/// ("Multiplexing is currently incompatible with DbDataSource", DESIGN.md "Marten restore"), so the
/// daemon is registered nowhere and this service builds and starts it only while it holds an
/// advisory lock keyed by the service's schema on an <see cref="AdvisoryLockSession"/>. A replica
/// that dies (even <c>kill -9</c>) loses the lock with its session; the waiting replica takes it and
/// resumes from the stored progression, so a few events may be relayed twice (message id = event
/// id; consumers are idempotent). The new leader waits <see cref="AdvisoryLockSession.TakeoverDelay"/>
/// before it starts: two daemons at once made each fail on the other's progression row ("duplicate
/// key value violates unique constraint pk_mt_event_progression"), and the failed subscription
/// stayed stopped, so nothing was relayed any more.
/// </summary>
public sealed partial class DaemonLeader(IDocumentStore store, string connectionString, string schema, ILogger<DaemonLeader> logger)
    : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private static readonly Meter Meter = new(Telemetry.FidpassSource);
    private static int _leaders;
    private volatile bool _isLeader;

    static DaemonLeader() => Meter.CreateObservableGauge("fidpass.daemon.leader", () => Volatile.Read(ref _leaders), "{daemon}",
        "1 while this process holds its service's daemon lock and runs the event relay; summed per service it must be 1.");

    /// <summary>True while this process holds the lock and its daemon runs.</summary>
    public bool IsLeader => _isLeader;

    /// <summary>The advisory lock key: the same for every replica of a service, different per service.</summary>
    public long LockKey { get; } = AdvisoryLockSession.Key("fidpass-daemon:" + schema);

    /// <summary>The <c>application_name</c> of this replica's lock session (in <c>pg_stat_activity</c>): service and host.</summary>
    public string ApplicationName { get; } = $"fidpass-daemon {schema} {Environment.MachineName} {Guid.NewGuid().ToString("N")[..6]}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await LeadWhileHoldingLockAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LockLost(logger, ex, schema);
                await Task.Delay(RetryDelay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task LeadWhileHoldingLockAsync(CancellationToken stoppingToken)
    {
        await using var locks = await AdvisoryLockSession.OpenAsync(connectionString, ApplicationName, stoppingToken);
        await locks.WaitAsync(LockKey, stoppingToken);
        await Task.Delay(AdvisoryLockSession.TakeoverDelay, stoppingToken);
        await locks.CheckAsync(stoppingToken);
        Leads(logger, schema);
        var daemon = await store.BuildProjectionDaemonAsync(logger: logger);
        try
        {
            await daemon.StartAllAsync();
            Lead(true);
            while (true)
            {
                await Task.Delay(AdvisoryLockSession.CheckInterval, stoppingToken);
                await locks.CheckAsync(stoppingToken);
            }
        }
        finally
        {
            Lead(false);
            await daemon.StopAllAsync();
            daemon.Dispose();
            Follows(logger, schema);
        }
    }

    private void Lead(bool leads)
    {
        if (_isLeader != leads)
        {
            _isLeader = leads;
            Interlocked.Add(ref _leaders, leads ? 1 : -1);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Daemon lock of {Schema} lost or out of reach; contending again")]
    private static partial void LockLost(ILogger logger, Exception exception, string schema);

    [LoggerMessage(LogLevel.Information, "This replica leads the daemon of {Schema}")]
    private static partial void Leads(ILogger logger, string schema);

    [LoggerMessage(LogLevel.Information, "This replica no longer leads the daemon of {Schema}")]
    private static partial void Follows(ILogger logger, string schema);
}
