using Fidpass.Contracts.Devices;
using Fidpass.Contracts.Payments;
using Fidpass.ServiceDefaults;
using Fidpass.StripeTerminal.Readers;
using JasperFx.Events;
using MassTransit;

namespace Fidpass.StripeTerminal.Payments;

/// <summary>
/// Publishes collected and refunded card money, and reader status changes, from the event store
/// (the outbox). The class keeps its name: it names the subscription's stored progress.
/// </summary>
public sealed class PaymentRelay(IBus bus) : EventRelay(bus)
{
    protected override object? ToMessage(IEvent stored) => stored.Data switch
    {
        CardPaymentSucceeded e => new PaymentCollected(
            e.PaymentIntentId, e.MerchantId, e.Amount, e.Currency, PaymentMethod.Card, e.ReaderId, e.MemberId, e.BasketReference, e.At),
        CardRefunded e => new PaymentRefunded(e.RefundId, e.PaymentIntentId, e.MerchantId, e.Amount, e.Currency, e.At),
        ReaderStatusRecorded e => new ReaderStatusChanged(e.ReaderId, e.MerchantId, e.Status, e.At),
        _ => null,
    };
}
