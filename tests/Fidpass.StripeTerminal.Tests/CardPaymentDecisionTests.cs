using Fidpass.ServiceDefaults;
using Fidpass.StripeTerminal.Payments;

namespace Fidpass.StripeTerminal.Tests;

public sealed class CardPaymentDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid Merchant = Guid.Parse("6f1c3a52-0000-4000-8000-000000000001");
    private static readonly Guid Member = Guid.Parse("0b7e6c1d-0000-4000-8000-000000000002");

    private static CardPayment Processing(string capture = "automatic")
    {
        var id = CardPayment.StreamId(Merchant, "sale-1");
        return CardPayment.Create(new CardPaymentStarted(id, Merchant, "sale-1", "tmr_1", "till-1", 2500, "eur", capture, Member, Member.ToString(), "basket-9", null, "k", Now))
            .Apply(new PaymentIntentCreated(id, "pi_1", Now))
            .Apply(new ReaderProcessRequested(id, "tmr_1", 1, "process:pi_1:1", Now))
            .Apply(new ReaderProcessAcknowledged(id, 1, Now));
    }

    private static PaymentIntentSnapshot Intent(string status, long received = 0, long capturable = 0, string? error = null) =>
        new("pi_1", status, 2500, received, capturable, "eur", error, error is null ? null : "insufficient_funds", error is null ? null : "Refusée", null);

    private static CardPayment Fold(CardPayment state, IReadOnlyList<object> events) => events.Aggregate(state, (s, e) => s.Fold(e));

    [Fact]
    public void A_succeeded_PaymentIntent_collects_the_money_once_with_member_and_basket()
    {
        var state = Processing();

        var events = CardPaymentDecisions.FromPaymentIntent(state, Intent("succeeded", received: 2500), Now);

        var collected = Assert.IsType<CardPaymentSucceeded>(Assert.Single(events));
        Assert.Equal(("pi_1", 2500L, Member, "basket-9", "tmr_1"), (collected.PaymentIntentId, collected.Amount, collected.MemberId, collected.BasketReference, collected.ReaderId));
        Assert.Empty(CardPaymentDecisions.FromPaymentIntent(Fold(state, events), Intent("succeeded", received: 2500), Now));
    }

    [Fact]
    public void An_older_event_arriving_after_success_changes_nothing()
    {
        var paid = Fold(Processing("manual"), [new CardAuthorized(Processing().Id, 2500, Now)]);
        paid = Fold(paid, CardPaymentDecisions.FromPaymentIntent(paid, Intent("succeeded", received: 2500), Now));

        Assert.Empty(CardPaymentDecisions.FromPaymentIntent(paid, Intent("requires_capture", capturable: 2500), Now));
        Assert.Empty(CardPaymentDecisions.FromPaymentIntent(paid, Intent("canceled"), Now));
    }

    [Fact]
    public void Manual_capture_stops_at_authorized_and_collects_nothing_yet()
    {
        var events = CardPaymentDecisions.FromPaymentIntent(Processing("manual"), Intent("requires_capture", capturable: 2500), Now);

        Assert.IsType<CardAuthorized>(Assert.Single(events));
        Assert.Equal(CardPaymentStatus.Authorized, Fold(Processing("manual"), events).Status);
    }

    [Fact]
    public void A_decline_ends_the_attempt_and_the_next_attempt_reuses_the_PaymentIntent_with_a_new_key()
    {
        var state = Processing();

        var declined = Fold(state, CardPaymentDecisions.FromPaymentIntent(state, Intent("requires_payment_method", error: "card_declined"), Now));

        Assert.Equal(CardPaymentStatus.Declined, declined.Status);
        Assert.Equal("insufficient_funds", declined.LastErrorCode);
        Assert.True(CardPaymentDecisions.CanProcess(declined));
        Assert.Equal(2, CardPaymentDecisions.NextAttempt(declined));
        Assert.Equal("pi_1", declined.PaymentIntentId);
        // The same decline seen again (duplicate webhook) changes nothing.
        Assert.Empty(CardPaymentDecisions.FromPaymentIntent(declined, Intent("requires_payment_method", error: "card_declined"), Now));
    }

    [Fact]
    public void After_a_reader_timeout_the_retry_keeps_the_same_attempt_and_key()
    {
        var state = Processing();
        var timedOut = state.Apply(new ReaderProcessFailed(state.Id, 1, "terminal_reader_timeout", "timeout", Now));

        Assert.Equal(1, CardPaymentDecisions.NextAttempt(timedOut));
        Assert.True(CardPaymentDecisions.CanProcess(timedOut));
    }

    [Fact]
    public void A_sale_being_processed_cannot_be_sent_to_the_reader_again()
    {
        Assert.False(CardPaymentDecisions.CanProcess(Processing()));
    }

    [Fact]
    public void A_late_acknowledgement_does_not_reopen_a_finished_attempt()
    {
        var state = Processing();
        var declined = Fold(state, CardPaymentDecisions.FromPaymentIntent(state, Intent("requires_payment_method", error: "card_declined"), Now));

        Assert.Empty(CardPaymentDecisions.Acknowledge(declined, 1, Now));
    }

    [Fact]
    public void A_reader_failure_without_decline_ends_the_attempt()
    {
        var events = CardPaymentDecisions.FromReaderActionFailure(Processing(), Intent("requires_payment_method"), "customer_canceled", "Annulé", Now);

        var failed = Assert.IsType<ReaderProcessFailed>(Assert.Single(events));
        Assert.Equal("customer_canceled", failed.Code);
    }

    [Fact]
    public void Each_refund_is_recorded_once_and_limits_what_remains_refundable()
    {
        var paid = Fold(Processing(), CardPaymentDecisions.FromPaymentIntent(Processing(), Intent("succeeded", received: 2500), Now));
        var refund = new RefundSnapshot("re_1", "pi_1", 1000, "eur", "succeeded", "r-1");

        var requested = paid.Apply(new CardRefundRequested(paid.Id, "r-1", 1000, "refund:pi_1:r-1", Now));
        Assert.Equal(1500, requested.Refundable());
        var refunded = Fold(requested, CardPaymentDecisions.FromRefund(requested, refund, Now));

        Assert.Equal(1000, refunded.AmountRefunded);
        Assert.Equal(1500, refunded.Refundable());
        Assert.Empty(CardPaymentDecisions.FromRefund(refunded, refund, Now));
        Assert.Equal("refund_amount_invalid", CardPaymentDecisions.RefuseRefund(refunded, 1501));
        Assert.Null(CardPaymentDecisions.RefuseRefund(refunded, 1500));
        Assert.Equal("payment_not_collected", CardPaymentDecisions.RefuseRefund(Processing(), 100));
    }

    [Fact]
    public void The_same_sale_of_the_same_merchant_is_always_the_same_stream()
    {
        Assert.Equal(CardPayment.StreamId(Merchant, "sale-1"), CardPayment.StreamId(Merchant, "sale-1"));
        Assert.NotEqual(CardPayment.StreamId(Merchant, "sale-1"), CardPayment.StreamId(Guid.NewGuid(), "sale-1"));
        Assert.Equal($"pi-create:{Merchant:N}:sale-1", CardPayment.CreateKey(Merchant, "sale-1"));
    }

    [Theory]
    [InlineData("0b7e6c1d-0000-4000-8000-000000000002")]
    [InlineData("FIDPASS:0b7e6c1d-0000-4000-8000-000000000002")]
    [InlineData("https://fidpass.fr/c/0b7e6c1d-0000-4000-8000-000000000002")]
    public void A_member_barcode_gives_the_member_id(string barcode)
    {
        Assert.Equal(Member, MemberBarcode.Normalise(barcode));
    }

    [Fact]
    public void A_barcode_without_a_member_id_is_not_accepted()
    {
        Assert.Null(MemberBarcode.Normalise("1234567890123"));
    }

    private static CardPayment Collected() =>
        Fold(Processing(), CardPaymentDecisions.FromPaymentIntent(Processing(), Intent("succeeded", received: 2500), Now))
            .Apply(new CardRefundRequested(Processing().Id, "avoir-1", 1000, "refund:pi_1:avoir-1", Now));

    [Fact]
    public void A_pending_refund_waits_counts_as_spent_and_only_its_success_is_a_refund()
    {
        var state = Collected();

        Assert.Empty(CardPaymentDecisions.FromRefund(state, new RefundSnapshot("re_1", "pi_1", 1000, "eur", "pending", "avoir-1"), Now));
        Assert.Equal((1000L, 1500L), (state.RefundPendingAmount, state.Refundable()));
        var refunded = Assert.IsType<CardRefunded>(Assert.Single(CardPaymentDecisions.FromRefund(state, new RefundSnapshot("re_1", "pi_1", 1000, "eur", "succeeded", "avoir-1"), Now)));
        Assert.Equal((1000L, "avoir-1"), (refunded.Amount, refunded.RequestId));
    }

    [Fact]
    public void A_failed_refund_frees_its_request_once_and_gives_nothing_back()
    {
        var state = Collected();
        var failed = new RefundSnapshot("re_1", "pi_1", 1000, "eur", "failed", "avoir-1", "expired_or_canceled_card");

        var events = CardPaymentDecisions.FromRefund(state, failed, Now);
        var after = Fold(state, events);

        Assert.IsType<CardRefundFailed>(Assert.Single(events));
        Assert.Equal((0L, 0L, 2500L, "refund_failed"), (after.AmountRefunded, after.RefundPendingAmount, after.Refundable(), after.LastErrorCode));
        Assert.Empty(CardPaymentDecisions.FromRefund(after, failed, Now));

        // Sent again under the same request id: the old failed refund does not cancel the new request.
        var again = after.Apply(new CardRefundRequested(after.Id, "avoir-1", 1000, "refund:pi_1:avoir-1~2", Now));
        Assert.Empty(CardPaymentDecisions.FromRefund(again, failed, Now));
        Assert.Equal(1000L, again.RefundPendingAmount);
    }

    [Theory]
    [InlineData("refund:pi_1:avoir-1", "refund:pi_1:avoir-1")]
    [InlineData("reader-label:tmr_1:Café", null)]
    [InlineData("reader-label:tmr_1:two\nlines", null)]
    [InlineData("reader-label:tmr_1:with space", null)]
    public void Idempotency_keys_are_header_safe(string key, string? same)
    {
        var safe = Fidpass.StripeTerminal.Stripe.IdempotencyKeys.HeaderSafe(key.Replace("\\n", "\n", StringComparison.Ordinal));

        Assert.All(safe, c => Assert.InRange(c, '!', '~'));
        Assert.Equal(same ?? safe, safe);
        Assert.True(same is not null || safe.StartsWith("reader-label:sha256:", StringComparison.Ordinal), safe);
    }
}
