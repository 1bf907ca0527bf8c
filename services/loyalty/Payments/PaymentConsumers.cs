using PointsSource = Fidpass.Contracts.Loyalty.PointsSource;
using Fidpass.Contracts.Payments;
using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Members;
using Fidpass.Loyalty.Programs;
using Fidpass.Loyalty.Reversals;
using Fidpass.ServiceDefaults;
using Marten;
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

            if (await recordLoad is not null)
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
                    session.Insert(OperationRecord.For(credited));
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

            session.Insert(record);
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
/// than the credit in total. A refund of a payment not seen yet is retried (then parked in the
/// error queue, never dropped) rather than guessed.
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

            var payment = await session.LoadAsync<PaymentRecord>(PaymentRecord.DocumentId(message.MerchantId, message.PaymentId), ct)
                ?? throw new InvalidOperationException($"Refund {message.RefundId} names payment {message.PaymentId}, not collected yet.");

            session.Insert(new RefundRecord(refundId, message.RefundId, message.PaymentId, message.Amount, message.OccurredAt,
                message.MerchantId, payment.Method, message.Currency.ToLowerInvariant(), Overview.DayTotals.Key(message.MerchantId, message.OccurredAt)));
            if (payment is { OperationId: { } operationId, CreditedMemberId: { } memberId })
            {
                var stream = await session.Events.FetchForWriting<Member>(memberId, ct);
                var credit = await session.LoadAsync<OperationRecord>(operationId, ct);
                if (stream.Aggregate is { } member && credit is not null)
                {
                    var command = new ReverseCredit(Uuid.ForRefund(message.RefundId), operationId, Math.Max(0, message.Amount), message.RefundId);
                    var (reversed, _) = Reverse.Decide(member, credit, command, DateTimeOffset.UtcNow);
                    if (reversed is not null)
                    {
                        stream.AppendOne(reversed);
                        session.Store(credit.Apply(reversed));
                    }
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
