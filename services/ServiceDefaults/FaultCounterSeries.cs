using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;

namespace Fidpass.ServiceDefaults;

/// <summary>
/// MassTransit's fault counters get their first series at the first fault, already at 1: until then
/// the metric is absent from the scrape, its dashboard panel says "No data" and an alert built on
/// <c>increase()</c> cannot see that first fault (docs/operations.md, FidpassConsumerFaults). Once the
/// host has started (the bus has created its instruments and OpenTelemetry listens to them), this adds
/// 0 to each through MassTransit's own instrument, so every pod exports them at 0 from its start.
/// </summary>
internal sealed class FaultCounterSeries(IHostApplicationLifetime lifetime) : IHostedService
{
    public const string MeterName = "MassTransit";

    public static readonly string[] Counters =
        ["messaging.masstransit.consume.errors", "messaging.masstransit.consume.retries", "messaging.masstransit.send.errors"];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(AddZero);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static void AddZero()
    {
        // Starting a listener publishes every instrument that exists to it; it only looks, never listens.
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument is Counter<long> counter && instrument.Meter.Name == MeterName && Counters.Contains(instrument.Name))
            {
                counter.Add(0);
            }
        };
        listener.Start();
    }
}
