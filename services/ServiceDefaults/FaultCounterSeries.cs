using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;

namespace Fidpass.ServiceDefaults;

/// <summary>
/// MassTransit's fault counters get their first series at the first fault, already at 1: until then
/// the metric is absent from the scrape, its dashboard panel says "No data" and an alert built on
/// <c>increase()</c> cannot see that first fault (docs/operations.md, FidpassConsumerFaults). This adds
/// 0 to each through MassTransit's own instrument, so every pod exports them at 0 from its start:
/// when the instrument appears (the bus may create it after the host has started, late on a busy
/// machine), a second later so that OpenTelemetry's listener has enabled it, and again once the host
/// has started.
/// </summary>
internal sealed class FaultCounterSeries(IHostApplicationLifetime lifetime) : IHostedService, IDisposable
{
    public const string MeterName = "MassTransit";

    public static readonly string[] Counters =
        ["messaging.masstransit.consume.errors", "messaging.masstransit.consume.retries", "messaging.masstransit.send.errors"];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Counter<long>, byte> _seen = new();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // A listener is told of every instrument, existing or created later; it only looks, never listens.
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument is Counter<long> counter && instrument.Meter.Name == MeterName && Counters.Contains(instrument.Name) && _seen.TryAdd(counter, 0))
            {
                _ = AddZeroLaterAsync(counter);
            }
        };
        _listener.Start();
        lifetime.ApplicationStarted.Register(() =>
        {
            foreach (var counter in _seen.Keys)
            {
                counter.Add(0);
            }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _listener.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _listener.Dispose();

    private static async Task AddZeroLaterAsync(Counter<long> counter)
    {
        await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        counter.Add(0);
    }
}
