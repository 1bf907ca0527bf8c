using Fidpass.Contracts.Payments;
using Fidpass.ServiceDefaults;
using JasperFx.Events;
using MassTransit;

namespace Fidpass.StripeTerminal.Payments;

/// <summary>Publishes collected and refunded card money from the event store (the outbox).</summary>
public sealed class PaymentRelay(IBus bus) : EventRelay(bus)
{
    protected override object? ToMessage(IEvent stored) => stored.Data switch
    {
        CardPaymentSucceeded e => new PaymentCollected(
            e.PaymentIntentId, e.MerchantId, e.Amount, e.Currency, PaymentMethod.Card, e.ReaderId, e.MemberId, e.BasketReference, e.At),
        CardRefunded e => new PaymentRefunded(e.RefundId, e.PaymentIntentId, e.MerchantId, e.Amount, e.Currency, e.At),
        _ => null,
    };
}
