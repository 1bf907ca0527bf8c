using PointsSource = Fidpass.Contracts.Loyalty.PointsSource;
using Fidpass.Contracts.Payments;
using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Members;
using Fidpass.Loyalty.Programs;
using Fidpass.Loyalty.Reversals;
using Fidpass.ServiceDefaults;
using Marten;
using JasperFx.Events;
using MassTransit;

namespace Fidpass.Loyalty.Payments;

/// <summary>
/// Money collected with a card attached credits that member, exactly once per PaymentId: the
/// operation id is derived from the PaymentId and the PaymentRecord is inserted in the same
/// transaction as the credit, so a redelivered or duplicated message finds it and does nothing.
/// A payment without a member, with a member of another merchant, in another currency than the
/// euro (the rules are per euro) or beyond any plausible sale credits nothing (it is still recorded).
/// </summary>
public sealed class PaymentCollectedConsumer(IDocumentStore store) : IConsumer<PaymentCollected>
{
    public async Task Consume(ConsumeContext<PaymentCollected> context)
    {
        var message = context.Message;
        var ct = context.CancellationToken;
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var recordId = PaymentRecord.DocumentId(message.MerchantId, message.PaymentId);
            var basketId = string.IsNullOrWhiteSpace(message.BasketReference) ? null : Basket.DocumentId(message.MerchantId, message.BasketReference);

            // One round trip: the dedupe record, the rules, the basket and the attached member.
            var batch = session.CreateBatchQuery();
            var recordLoad = batch.Load<PaymentRecord>(recordId);
            var programLoad = batch.Load<LoyaltyProgram>(message.MerchantId);
            var basketLoad = basketId is null ? null : batch.Load<Basket>(basketId);
            var attachedFetch = message.MemberId is { } attached ? batch.Events.FetchForWriting<Member>(attached) : null;
            await batch.Execute(ct);

            // A record awaiting collection holds refunds seen before this payment: they apply below.
            var earlierRecord = await recordLoad;
            if (earlierRecord is { RefundsBeforeCollection: null })
            {
                RecordOutcome(message, PaymentMetrics.Duplicate);
                return;
            }

            var program = await programLoad ?? LoyaltyProgram.Default(message.MerchantId);
            var part = new BasketPart(message.PaymentId, Math.Max(0, message.Amount), message.MemberId);
            var existingBasket = basketLoad is null ? null : await basketLoad;
            var basket = existingBasket is null
                ? new Basket(basketId ?? recordId, message.MerchantId, [part], 0, null)
                : existingBasket with { Parts = [.. existingBasket.Parts, part] };

            var record = new PaymentRecord(recordId, message.PaymentId, message.MerchantId, part.AmountCents, message.MemberId, basketId, null, null, message.OccurredAt,
                PaymentRecord.MethodName(message.Method), message.Currency.ToLowerInvariant(), Overview.DayTotals.Key(message.MerchantId, message.OccurredAt));

            // A split basket's card may be on an earlier part (the cash part often has none).
            var memberId = basket.MemberId;
            var stream = memberId is null ? null
                : memberId == message.MemberId ? await attachedFetch!
                : await session.Events.FetchForWriting<Member>(memberId.Value, ct);
            var member = stream?.Aggregate is { Erased: false } found && found.MerchantId == message.MerchantId ? found : null;
            var eligible = PaymentRules.Earns(message);
            var earned = eligible ? PaymentRules.Earn(program, basket) : null;
            OperationRecord? creditRecord = null;
            var outcome = member is null ? PaymentMetrics.UnknownMember
                : !eligible ? PaymentMetrics.NotEligible
                : earned is null ? PaymentMetrics.BelowMinimum
                : PaymentMetrics.NothingEarned;
            if (member is not null && earned is { } earn)
            {
                var operationId = Uuid.ForPayment(message.PaymentId);
                var command = new CreditPoints(operationId, earn.Input, PointsSource.Payment, message.PaymentId, ClampToCaps: true, earn.AmountBasisCents);
                var (credited, _) = CreditDecider.Decide(member, program, command, DateTimeOffset.UtcNow);
                if (credited is not null)
                {
                    outcome = PaymentMetrics.Credited;
                    stream!.AppendOne(credited);
                    creditRecord = OperationRecord.For(credited);
                    member = member.Apply(credited);
                    record = record with { OperationId = operationId, CreditedMemberId = member.Id };
                    if (basket.CreditedCents == 0 && basketId is not null)
                    {
                        // The earlier parts are covered by this first credit: their refunds reverse it.
                        var earlier = basket.Parts.Take(basket.Parts.Count - 1)
                            .Select(p => PaymentRecord.DocumentId(message.MerchantId, p.PaymentId)).ToArray();
                        foreach (var covered in await session.LoadManyAsync<PaymentRecord>(ct, earlier))
                        {
                            session.Store(covered with { OperationId = operationId, CreditedMemberId = member.Id });
                        }
                    }

                    basket = basket with { CreditedCents = basket.TotalCents, CreditOperationId = basket.CreditOperationId ?? operationId };
                }
            }

            if (earlierRecord is null)
            {
                session.Insert(record);
            }
            else
            {
                // Replaces the record awaiting collection, guarded by its version: a refund arriving now retries and finds it collected.
                session.Store(record);
                var refunds = await session.LoadManyAsync<RefundRecord>(ct, earlierRecord.RefundsBeforeCollection!);
                foreach (var refund in refunds.OrderBy(r => r.At).ThenBy(r => r.RefundId, StringComparer.Ordinal))
                {
                    session.Store(refund with { Method = record.Method });
                    if (member is not null && creditRecord is not null)
                    {
                        (member, creditRecord) = Refunds.Apply(stream!, member, creditRecord, refund.RefundId, refund.AmountCents);
                    }
                }
            }

            if (creditRecord is not null)
            {
                session.Insert(creditRecord);
            }

            if (basketId is not null)
            {
                if (existingBasket is null)
                {
                    session.Insert(basket);
                }
                else
                {
                    session.Store(basket);
                }
            }

            session.CarryTrace();
            try
            {
                await session.SaveChangesAsync(ct);
                RecordOutcome(message, outcome);
                return;
            }
            catch (Exception e) when (Conflicts.IsConflict(e) && attempt < Conflicts.MaxAttempts)
            {
                // Another part of the basket, another credit of the member, or this very payment
                // delivered twice at once: start over; the next pass sees what won.
                await Conflicts.BackOffAsync(attempt, ct);
            }
        }
    }

    private static void RecordOutcome(PaymentCollected message, string outcome)
    {
        if (message.MemberId is not null)
        {
            PaymentMetrics.Record(outcome);
        }
    }
}

/// <summary>
/// A refund takes back points in proportion to the refunded amount, once per RefundId, never more
/// than the credit in total. A refund of a payment not collected yet (its success is late, e.g. Stripe
/// reads failing while the card was presented and refunded) is kept on a record awaiting the
/// collection, which applies it in the collection's transaction: any order of the facts of a
/// payment ends in the same balance.
/// </summary>
public sealed class PaymentRefundedConsumer(IDocumentStore store) : IConsumer<PaymentRefunded>
{
    public async Task Consume(ConsumeContext<PaymentRefunded> context)
    {
        var message = context.Message;
        var ct = context.CancellationToken;
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var refundId = RefundRecord.DocumentId(message.MerchantId, message.RefundId);
            if (await session.LoadAsync<RefundRecord>(refundId, ct) is not null)
            {
                return;
            }

            var paymentId = PaymentRecord.DocumentId(message.MerchantId, message.PaymentId);
            var payment = await session.LoadAsync<PaymentRecord>(paymentId, ct);
            session.Insert(new RefundRecord(refundId, message.RefundId, message.PaymentId, message.Amount, message.OccurredAt,
                message.MerchantId, payment?.Method, message.Currency.ToLowerInvariant(), Overview.DayTotals.Key(message.MerchantId, message.OccurredAt)));
            if (payment is null || payment.RefundsBeforeCollection is not null)
            {
                // Inserted or stored with its version checked, so the collection and this refund never miss each other.
                var awaiting = payment ?? PaymentRecord.AwaitingCollection(paymentId, message.PaymentId, message.MerchantId, message.OccurredAt);
                awaiting = awaiting with { RefundsBeforeCollection = [.. awaiting.RefundsBeforeCollection ?? [], refundId] };
                if (payment is null)
                {
                    session.Insert(awaiting);
                }
                else
                {
                    session.Store(awaiting);
                }
            }
            else if (payment is { OperationId: { } operationId, CreditedMemberId: { } memberId })
            {
                var stream = await session.Events.FetchForWriting<Member>(memberId, ct);
                var credit = await session.LoadAsync<OperationRecord>(operationId, ct);
                if (stream.Aggregate is { } member && credit is not null)
                {
                    session.Store(Refunds.Apply(stream, member, credit, message.RefundId, message.Amount).Credit);
                }
            }

            session.CarryTrace();
            try
            {
                await session.SaveChangesAsync(ct);
                return;
            }
            catch (Exception e) when (Conflicts.IsConflict(e) && attempt < Conflicts.MaxAttempts)
            {
                await Conflicts.BackOffAsync(attempt, ct);
            }
        }
    }
}

public static class Refunds
{
    /// <summary>Appends the reversal a refund causes, if any; returns the member and the credit after it.</summary>
    public static (Member Member, OperationRecord Credit) Apply(IEventStream<Member> stream, Member member, OperationRecord credit, string refundId, long amountCents)
    {
        var command = new ReverseCredit(Uuid.ForRefund(refundId), credit.Id, Math.Max(0, amountCents), refundId);
        var (reversed, _) = Reverse.Decide(member, credit, command, DateTimeOffset.UtcNow);
        if (reversed is null)
        {
            return (member, credit);
        }

        stream.AppendOne(reversed);
        return (member.Apply(reversed), credit.Apply(reversed));
    }
}
