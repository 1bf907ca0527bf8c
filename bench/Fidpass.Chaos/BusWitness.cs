using System.Collections.Concurrent;
using Fidpass.Contracts.Loyalty;
using Fidpass.Contracts.Payments;
using MassTransit;

namespace Fidpass.Chaos;

/// <summary>
/// What the rest of the system was told, for the checker: every <c>PaymentCollected</c>,
/// <c>PointsCredited</c> and <c>PointsReversed</c> of the chaos merchant, on a queue of its own that is
/// durable (it survives the RabbitMQ restart of the run, like the services' queues) and expires 15
/// minutes after the run. A credit stored but never published is invisible to every consumer of the
/// bus; the checker reports it as lost.
/// </summary>
internal sealed class BusWitness : IAsyncDisposable
{
    private readonly IBusControl _bus;
    private readonly ConcurrentDictionary<string, PaymentCollected> _collected = new();
    private readonly ConcurrentDictionary<Guid, (PointsCredited Message, int Copies)> _credited = new();
    private readonly ConcurrentDictionary<Guid, PointsReversed> _reversed = new();

    private BusWitness(Uri rabbitMq, Guid merchantId)
    {
        _bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(rabbitMq);
            rabbit.ReceiveEndpoint($"chaos-witness-{merchantId:N}", endpoint =>
            {
                endpoint.Durable = true;
                endpoint.AutoDelete = false;
                endpoint.SetQueueArgument("x-expires", (int)TimeSpan.FromMinutes(15).TotalMilliseconds);
                endpoint.PrefetchCount = 256;
                endpoint.Handler<PaymentCollected>(context =>
                {
                    if (context.Message.MerchantId == merchantId)
                    {
                        _collected.TryAdd(context.Message.PaymentId, context.Message);
                    }

                    return Task.CompletedTask;
                });
                endpoint.Handler<PointsCredited>(context =>
                {
                    if (context.Message.MerchantId == merchantId)
                    {
                        _credited.AddOrUpdate(context.Message.OperationId, (context.Message, 1), (_, seen) => (seen.Message, seen.Copies + 1));
                    }

                    return Task.CompletedTask;
                });
                endpoint.Handler<PointsReversed>(context =>
                {
                    if (context.Message.MerchantId == merchantId)
                    {
                        _reversed.TryAdd(context.Message.OperationId, context.Message);
                    }

                    return Task.CompletedTask;
                });
            });
        });
    }

    public static async Task<BusWitness> StartAsync(Uri rabbitMq, Guid merchantId)
    {
        var witness = new BusWitness(rabbitMq, merchantId);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await witness._bus.StartAsync(timeout.Token);
        return witness;
    }

    public IReadOnlyDictionary<string, PaymentCollected> Collected => _collected;

    /// <summary>Credits by operation id, with how many copies arrived (the relays publish at least once).</summary>
    public IReadOnlyDictionary<Guid, (PointsCredited Message, int Copies)> Credited => _credited;

    public IReadOnlyDictionary<Guid, PointsReversed> Reversed => _reversed;

    public async ValueTask DisposeAsync() => await _bus.StopAsync();
}
