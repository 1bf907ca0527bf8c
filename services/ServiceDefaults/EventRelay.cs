using System.Diagnostics;
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

    /// <summary>The contract message for a stored event, or null when the event stays private.</summary>
    protected abstract object? ToMessage(IEvent stored);

    public override async Task<IChangeListener> ProcessEventsAsync(
        EventRange page, ISubscriptionController controller, IDocumentOperations operations, CancellationToken cancellationToken)
    {
        foreach (var stored in page.Events)
        {
            var message = ToMessage(stored);
            if (message is null)
            {
                continue;
            }

            using var activity = StartRelayActivity(stored, message);
            await publisher.Publish(message, message.GetType(), context => context.MessageId = stored.Id, cancellationToken);
            BusinessMetrics.Record(message);
        }

        return NullChangeListener.Instance;
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
