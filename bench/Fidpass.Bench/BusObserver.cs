using System.Collections.Concurrent;
using System.Diagnostics;
using Fidpass.Contracts.Loyalty;
using Fidpass.Contracts.Payments;
using MassTransit;

namespace Fidpass.Bench;

/// <summary>
/// Watches the system's bus for one merchant: when each <c>PaymentCollected</c> and each
/// <c>PointsCredited</c> for a payment arrived, on a temporary queue of this bench. The difference is
/// the end-to-end time from a payment published by stripe-terminal or cashlogy-edge to its credit
/// published by loyalty (consume, decide, commit, the outbox relay, the bus).
/// </summary>
internal sealed class BusObserver : IAsyncDisposable
{
    private readonly IBusControl _bus;
    private readonly ConcurrentDictionary<string, double> _collected = new();
    private readonly ConcurrentDictionary<string, int> _credits = new();
    private readonly ConcurrentDictionary<string, double> _credited = new();

    private BusObserver(Uri rabbitMq, Guid merchantId, Stopwatch clock)
    {
        _bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(rabbitMq);
            rabbit.ReceiveEndpoint($"bench-observer-{Guid.NewGuid():N}", endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Durable = false;
                endpoint.PrefetchCount = 256;
                endpoint.Handler<PaymentCollected>(context =>
                {
                    if (context.Message.MerchantId == merchantId)
                    {
                        _collected.TryAdd(context.Message.PaymentId, clock.Elapsed.TotalMilliseconds);
                    }

                    return Task.CompletedTask;
                });
                endpoint.Handler<PointsCredited>(context =>
                {
                    if (context.Message.MerchantId == merchantId && context.Message.PaymentId is { } payment)
                    {
                        _credited.TryAdd(payment, clock.Elapsed.TotalMilliseconds);
                        _credits.AddOrUpdate(payment, 1, (_, n) => n + 1);
                    }

                    return Task.CompletedTask;
                });
            });
        });
    }

    public static async Task<BusObserver> StartAsync(Uri rabbitMq, Guid merchantId, Stopwatch clock)
    {
        var observer = new BusObserver(rabbitMq, merchantId, clock);
        await observer._bus.StartAsync();
        return observer;
    }

    public int Collected => _collected.Count;

    /// <summary>Payments credited more than once on the bus (must stay 0; loyalty credits a PaymentId once).</summary>
    public int CreditedTwice => _credits.Count(c => c.Value > 1);

    /// <summary>Collected payments not (yet) credited.</summary>
    public int Uncredited => _collected.Keys.Count(id => !_credited.ContainsKey(id));

    /// <summary>PaymentCollected → PointsCredited, ms, for payments collected from <paramref name="fromMs"/> on.</summary>
    public double[] Latencies(double fromMs) =>
        [.. _collected.Where(c => c.Value >= fromMs && _credited.ContainsKey(c.Key)).Select(c => _credited[c.Key] - c.Value)];

    public async ValueTask DisposeAsync() => await _bus.StopAsync();
}
