using System.Diagnostics;
using System.Diagnostics.Metrics;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten;
using Marten.Subscriptions;
using MassTransit;

namespace Fidpass.ServiceDefaults;

/// <summary>
/// The event store is the outbox (DESIGN.md, "No dual writes"): a Marten subscription run by the
/// async daemon publishes stored events to the bus after they are committed. Delivery is at least
/// once (a crash between publish and the daemon's checkpoint republishes), so the message id is the
/// stored event's id and consumers stay idempotent. The trace that appended the event (kept in the
/// event's <c>traceparent</c> header) is continued, so a gateway request and the consumer of the
/// message it caused are one trace. Relays are singletons (the daemon owns them), so they publish
/// through the root <see cref="IBus"/>, not a scoped <see cref="IPublishEndpoint"/>.
/// </summary>
public abstract class EventRelay(IBus publisher) : SubscriptionBase
{
    public const string TraceParentHeader = "traceparent";
    private static readonly ActivitySource Source = new(Telemetry.FidpassSource);
    private static readonly Meter Meter = new(Telemetry.FidpassSource);
    private static readonly Counter<long> PublishRetries = Meter.CreateCounter<long>("fidpass.relay.publish_retries", "{message}",
        "Stored events whose publish to the bus failed (broker down or unreachable) and is tried again.");

    /// <summary>The contract message for a stored event, or null when the event stays private.</summary>
    protected abstract object? ToMessage(IEvent stored);

    public override async Task<IChangeListener> ProcessEventsAsync(
        EventRange page, ISubscriptionController controller, IDocumentOperations operations, CancellationToken cancellationToken)
    {
        // A page's messages are published together and the page is acknowledged once the broker has
        // confirmed them all: one confirm at a time capped the relay at a few hundred messages a
        // second, and a backlog there delays every credit. Consumers never relied on the order
        // within a page (the bus does not keep it either once a queue has several consumers).
        var messages = page.Events.Select(stored => (Stored: stored, Message: ToMessage(stored))).Where(m => m.Message is not null).ToList();
        await PublishUntilConfirmedAsync(messages, m => PublishAsync(m.Stored, m.Message!, cancellationToken), RetryDelay, cancellationToken);
        return NullChangeListener.Instance;
    }

    /// <summary>Wait before the next attempt: 0.5 s, doubling to 10 s.</summary>
    public static TimeSpan RetryDelay(int attempt) => TimeSpan.FromMilliseconds(Math.Min(10_000, 500 * Math.Pow(2, attempt - 1)));

    /// <summary>
    /// Publishes every item, then again the ones whose publish failed, until the broker has confirmed
    /// them all. A relay never gives up on a page: when its publish threw, Marten's daemon stopped the
    /// subscription for good, and a RabbitMQ restart at the wrong moment left a committed card
    /// payment unpublished (no credit) until the service itself was restarted. Only cancellation (the
    /// service stopping) ends the wait; the daemon then resumes from the last acknowledged page.
    /// Items already confirmed are not sent again.
    /// </summary>
    public static async Task PublishUntilConfirmedAsync<T>(IReadOnlyList<T> items, Func<T, Task> publish, Func<int, TimeSpan> delay, CancellationToken cancellationToken)
    {
        var pending = items;
        for (var attempt = 1; pending.Count > 0; attempt++)
        {
            var outcomes = await Task.WhenAll(pending.Select(async item =>
            {
                try
                {
                    await publish(item);
                    return (Item: item, Failed: false);
                }
                catch (Exception)
                {
                    return (Item: item, Failed: true);
                }
            }));
            pending = [.. outcomes.Where(o => o.Failed).Select(o => o.Item)];
            if (pending.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                PublishRetries.Add(pending.Count);
                await Task.Delay(delay(attempt), cancellationToken);
            }
        }
    }

    private async Task PublishAsync(IEvent stored, object message, CancellationToken cancellationToken)
    {
        using var activity = StartRelayActivity(stored, message);
        await publisher.Publish(message, message.GetType(), context => context.MessageId = stored.Id, cancellationToken);
        BusinessMetrics.Record(message);
    }

    private static Activity? StartRelayActivity(IEvent stored, object message)
    {
        ActivityContext parent = default;
        if (stored.Headers?.TryGetValue(TraceParentHeader, out var value) == true && value?.ToString() is { } traceParent)
        {
            ActivityContext.TryParse(traceParent, null, out parent);
        }

        return Source.StartActivity($"relay {message.GetType().Name}", ActivityKind.Producer, parent);
    }
}

/// <summary>
/// Lightweight sessions (no identity map: the Marten session is the unit of work) that stamp the
/// current trace on every event they append, so <see cref="EventRelay"/> continues it on the bus
/// without each handler remembering to.
/// </summary>
internal sealed class TracingSessionFactory(IDocumentStore store) : ISessionFactory
{
    public IQuerySession QuerySession() => store.QuerySession();

    public IDocumentSession OpenSession()
    {
        var session = store.LightweightSession();
        session.CarryTrace();
        return session;
    }
}

public static class EventRelaySessionExtensions
{
    /// <summary>
    /// Stamps the current trace on the events this session appends, for <see cref="EventRelay"/>.
    /// Sessions from dependency injection already do; call it on sessions opened from the store.
    /// </summary>
    public static void CarryTrace(this IDocumentSession session)
    {
        if (Activity.Current is { } activity)
        {
            session.SetHeader(EventRelay.TraceParentHeader, activity.Id!);
        }
    }
}
