using Fidpass.CashlogyEdge.Machines;
using Fidpass.CashlogyEdge.Operations;
using Fidpass.Contracts.Devices;
using Fidpass.Contracts.Payments;
using Fidpass.ServiceDefaults;
using JasperFx.Events;
using MassTransit;

namespace Fidpass.CashlogyEdge.Relay;

/// <summary>
/// Publishes what the journal settled: a sale that really collected money → <c>PaymentCollected</c>
/// (cash, PaymentId <c>cash:&lt;machine&gt;:&lt;operation&gt;</c>); a payout linked to a sale that
/// really paid something → <c>PaymentRefunded</c>; machine status changes. Each operation stream holds
/// at most one settled event, so each payment and refund is published once (consumers deduplicate
/// redeliveries on the ids).
/// </summary>
public sealed class CashEventRelay(IBus bus) : EventRelay(bus)
{
    protected override object? ToMessage(IEvent stored) => stored.Data switch
    {
        CashOperationSettled { Kind: OperationKind.Charge, Collected: > 0 } s => new PaymentCollected(
            $"cash:{s.MachineId}:{s.OperationId}", s.MerchantId, s.Collected, s.Currency, PaymentMethod.Cash,
            s.MachineId.ToString(), s.MemberId, s.BasketReference, s.SettledAt),
        CashOperationSettled { Kind: OperationKind.Payout, Dispensed: > 0, SalePaymentId: { } salePaymentId } s => new PaymentRefunded(
            $"cash:{s.MachineId}:{s.OperationId}", salePaymentId, s.MerchantId, s.Dispensed, s.Currency, s.SettledAt),
        MachineStatusChanged m => new CashMachineStatusChanged(m.MachineId, m.MerchantId, m.Status, m.Detail, m.OccurredAt),
        _ => null,
    };
}
