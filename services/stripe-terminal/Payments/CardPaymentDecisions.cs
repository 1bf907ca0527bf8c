using Stripe;

namespace Fidpass.StripeTerminal.Payments;

/// <summary>What Stripe says a PaymentIntent is now: the only input the outcome is decided from.</summary>
public sealed record PaymentIntentSnapshot(
    string Id, string Status, long Amount, long AmountReceived, long AmountCapturable, string Currency,
    string? ErrorCode, string? DeclineCode, string? ErrorMessage, string? CancellationReason)
{
    public static PaymentIntentSnapshot From(PaymentIntent pi) => new(
        pi.Id, pi.Status, pi.Amount, pi.AmountReceived, pi.AmountCapturable, pi.Currency,
        pi.LastPaymentError?.Code, pi.LastPaymentError?.DeclineCode, pi.LastPaymentError?.Message, pi.CancellationReason);
}

public sealed record RefundSnapshot(string Id, string PaymentIntentId, long Amount, string Currency, string Status, string? RequestId, string? FailureReason = null)
{
    public const string RequestMetadataKey = "fidpass_refund_request";

    public static RefundSnapshot From(Refund refund) => new(
        refund.Id, refund.PaymentIntentId, refund.Amount, refund.Currency, refund.Status,
        refund.Metadata is { } m && m.TryGetValue(RequestMetadataKey, out var request) ? request : null, refund.FailureReason);
}

/// <summary>
/// Pure decisions. Webhooks arrive duplicated and in any order, the poller and the "check status"
/// route race them: each of them only fetches the PaymentIntent and asks here what changed, so the
/// same Stripe state always gives the same single outcome.
/// </summary>
public static class CardPaymentDecisions
{
    public static IReadOnlyList<object> FromPaymentIntent(CardPayment state, PaymentIntentSnapshot pi, DateTimeOffset now)
    {
        if (state.PaymentIntentId != pi.Id)
        {
            return [];
        }

        return pi.Status switch
        {
            "succeeded" when state.Status != CardPaymentStatus.Succeeded =>
            [
                new CardPaymentSucceeded(state.Id, pi.Id, state.MerchantId, pi.AmountReceived, pi.Currency, state.ReaderId,
                    state.MemberId, state.BasketReference, now),
            ],
            "requires_capture" when state.Status is not (CardPaymentStatus.Authorized or CardPaymentStatus.Succeeded or CardPaymentStatus.Canceled) =>
                [new CardAuthorized(state.Id, pi.AmountCapturable, now)],
            "canceled" when state.Status is not (CardPaymentStatus.Canceled or CardPaymentStatus.Succeeded) =>
                [new CardPaymentCanceled(state.Id, pi.CancellationReason, now)],
            // A decline sends the PaymentIntent back to requires_payment_method; it stays re-usable for another attempt.
            "requires_payment_method" when state.AttemptOpen && pi.ErrorCode is not null =>
                [new CardDeclined(state.Id, state.Attempt, pi.ErrorCode, pi.DeclineCode, pi.ErrorMessage ?? "Carte refusée.", now)],
            _ => [],
        };
    }

    /// <summary>
    /// The reader reports its action failed without a card decline (customer cancelled on the reader,
    /// reader timeout): the attempt is over, the PaymentIntent is unchanged and re-usable.
    /// </summary>
    public static IReadOnlyList<object> FromReaderActionFailure(
        CardPayment state, PaymentIntentSnapshot pi, string? failureCode, string? failureMessage, DateTimeOffset now)
    {
        var fromIntent = FromPaymentIntent(state, pi, now);
        if (fromIntent.Count > 0 || !state.AttemptOpen || pi.Status != "requires_payment_method")
        {
            return fromIntent;
        }

        return [new ReaderProcessFailed(state.Id, state.Attempt, failureCode ?? "reader_action_failed", failureMessage ?? "Le lecteur a interrompu le paiement.", now)];
    }

    /// <summary>A refund counts once it <c>succeeded</c>; a <c>pending</c> one waits; a <c>failed</c> one frees its request.</summary>
    public static IReadOnlyList<object> FromRefund(CardPayment state, RefundSnapshot refund, DateTimeOffset now) => refund switch
    {
        _ when refund.PaymentIntentId != state.PaymentIntentId || state.RefundIds.Contains(refund.Id) || (state.FailedRefundIds ?? []).Contains(refund.Id) => [],
        { Status: "succeeded" } =>
            [new CardRefunded(state.Id, refund.Id, refund.PaymentIntentId, state.MerchantId, refund.Amount, refund.Currency, refund.RequestId, now)],
        { Status: "failed" or "canceled", RequestId: { } request } when state.RefundRequests.ContainsKey(request) =>
            [new CardRefundFailed(state.Id, refund.Id, request, refund.FailureReason, now)],
        _ => [],
    };

    /// <summary>The reader took our command: only the open attempt it belongs to moves to processing.</summary>
    public static IReadOnlyList<object> Acknowledge(CardPayment state, int attempt, DateTimeOffset now) =>
        state.AttemptOpen && state.Attempt == attempt && state.Status is not (CardPaymentStatus.Succeeded or CardPaymentStatus.Authorized or CardPaymentStatus.Canceled)
            ? [new ReaderProcessAcknowledged(state.Id, attempt, now)]
            : [];

    /// <summary>
    /// The attempt number of the next <c>process_payment_intent</c>: a timeout is retried with the
    /// same number (same idempotency key, spec 5); any other outcome starts a new attempt.
    /// </summary>
    public static int NextAttempt(CardPayment state) =>
        state.Status == CardPaymentStatus.ReaderFailed && state.LastErrorCode == "terminal_reader_timeout" ? state.Attempt : state.Attempt + 1;

    /// <summary>Whether the till may hand this sale to the reader (again).</summary>
    public static bool CanProcess(CardPayment state) =>
        state.PaymentIntentId is not null && !state.AttemptOpen
        && state.Status is CardPaymentStatus.Started or CardPaymentStatus.ReaderFailed or CardPaymentStatus.Declined;

    /// <summary>Null when the refund may be sent, else the problem code.</summary>
    public static string? RefuseRefund(CardPayment state, long amount) => state switch
    {
        { Status: not CardPaymentStatus.Succeeded } => "payment_not_collected",
        _ when amount <= 0 || amount > state.Refundable() => "refund_amount_invalid",
        _ => null,
    };
}
