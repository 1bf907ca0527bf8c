using System.Security.Cryptography;
using System.Text;

namespace Fidpass.StripeTerminal.Payments;

// Events of one card sale (stream id derived from merchant + the till's sale id). Each mutating
// Stripe call is journaled by a "...Requested" event carrying its idempotency key before it is sent.

public sealed record CardPaymentStarted(
    Guid PaymentId, Guid MerchantId, string SaleId, string ReaderId, string? TillId, long Amount, string Currency,
    string CaptureMethod, Guid? MemberId, string? MemberBarcode, string? BasketReference, string? StripeAccount,
    string IdempotencyKey, DateTimeOffset At, Fidpass.ServiceDefaults.LoyaltyNotice? Loyalty = null);

public sealed record PaymentIntentCreated(Guid PaymentId, string PaymentIntentId, DateTimeOffset At);

public sealed record ReaderProcessRequested(Guid PaymentId, string ReaderId, int Attempt, string IdempotencyKey, DateTimeOffset At);

public sealed record ReaderProcessAcknowledged(Guid PaymentId, int Attempt, DateTimeOffset At);

public sealed record ReaderProcessFailed(Guid PaymentId, int Attempt, string Code, string Message, DateTimeOffset At);

public sealed record CardDeclined(Guid PaymentId, int Attempt, string Code, string? DeclineCode, string Message, DateTimeOffset At);

public sealed record CardAuthorized(Guid PaymentId, long AmountCapturable, DateTimeOffset At);

public sealed record CaptureRequested(Guid PaymentId, string IdempotencyKey, DateTimeOffset At);

public sealed record CancelRequested(Guid PaymentId, string IdempotencyKey, string Reason, DateTimeOffset At);

/// <summary>Money collected: relayed as <c>PaymentCollected</c>. Carries everything the relay needs.</summary>
public sealed record CardPaymentSucceeded(
    Guid PaymentId, string PaymentIntentId, Guid MerchantId, long Amount, string Currency, string ReaderId,
    Guid? MemberId, string? BasketReference, DateTimeOffset At);

public sealed record CardPaymentCanceled(Guid PaymentId, string? Reason, DateTimeOffset At);

public sealed record CardRefundRequested(Guid PaymentId, string RequestId, long Amount, string IdempotencyKey, DateTimeOffset At);

/// <summary>
/// Money given back: relayed as <c>PaymentRefunded</c>. <c>RequestId</c> is the till's refund
/// request, or null for a refund made elsewhere (Stripe dashboard).
/// </summary>
public sealed record CardRefunded(
    Guid PaymentId, string RefundId, string PaymentIntentId, Guid MerchantId, long Amount, string Currency, string? RequestId, DateTimeOffset At);

/// <summary>Stripe settled a refund as <c>failed</c>: nothing was given back, the request may be sent again.</summary>
public sealed record CardRefundFailed(Guid PaymentId, string RefundId, string RequestId, string? Reason, DateTimeOffset At);

public enum CardPaymentStatus
{
    Started,
    Processing,
    ReaderFailed,
    Declined,
    Authorized,
    Succeeded,
    Canceled,
}

/// <summary>One card sale, folded from its events (Marten inline snapshot, queried by PaymentIntent id).</summary>
public sealed record CardPayment(
    Guid Id, Guid MerchantId, string SaleId, string ReaderId, string? TillId, long Amount, string Currency,
    string CaptureMethod, Guid? MemberId, string? MemberBarcode, string? BasketReference, string? StripeAccount,
    string? PaymentIntentId, CardPaymentStatus Status, int Attempt, bool AttemptOpen, string? LastErrorCode,
    string? LastErrorMessage, long AmountReceived, long AmountRefunded, IReadOnlyList<string> RefundIds,
    IReadOnlyDictionary<string, long> RefundRequests, IReadOnlyList<string> RefundedRequests, DateTimeOffset StartedAt, DateTimeOffset UpdatedAt,
    DateTimeOffset? AuthorizedAt, IReadOnlyList<string>? FailedRefundIds = null, Fidpass.ServiceDefaults.LoyaltyNotice? Loyalty = null)
{
    /// <summary>Refunds asked of Stripe and not settled yet (pending): followed by the poller until they are.</summary>
    public long RefundPendingAmount => RefundRequests.Where(r => !RefundedRequests.Contains(r.Key)).Sum(r => r.Value);

    public bool RefundPending => RefundPendingAmount > 0;

    /// <summary>The stream version, kept by Marten on the snapshot so FetchForWriting checks concurrency against it.</summary>
    public long Version { get; set; }

    /// <summary>Deterministic: the same sale of the same merchant is always the same stream, so it cannot be charged twice.</summary>
    public static Guid StreamId(Guid merchantId, string saleId)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"card-sale:{merchantId:N}:{saleId}"));
        return new Guid(hash.AsSpan(0, 16));
    }

    public static string CreateKey(Guid merchantId, string saleId) => $"pi-create:{merchantId:N}:{saleId}";

    public static string ProcessKey(string paymentIntentId, int attempt) => $"process:{paymentIntentId}:{attempt}";

    public static string AttemptKey(string paymentIntentId, int attempt) => $"pi-attempt:{paymentIntentId}:{attempt}";

    public static string CaptureKey(string paymentIntentId) => $"pi-capture:{paymentIntentId}";

    public static string CancelKey(string paymentIntentId) => $"pi-cancel:{paymentIntentId}";

    public static string RefundKey(string paymentIntentId, string requestId) => $"refund:{paymentIntentId}:{requestId}";

    /// <summary>What may still be refunded: refunds requested but not yet confirmed count as spent.</summary>
    public long Refundable() => AmountReceived - AmountRefunded - RefundPendingAmount;

    public static CardPayment Create(CardPaymentStarted e) => new(
        e.PaymentId, e.MerchantId, e.SaleId, e.ReaderId, e.TillId, e.Amount, e.Currency, e.CaptureMethod, e.MemberId,
        e.MemberBarcode, e.BasketReference, e.StripeAccount, null, CardPaymentStatus.Started, 0, false, null, null, 0, 0,
        [], new Dictionary<string, long>(), [], e.At, e.At, null, Loyalty: e.Loyalty);

    public CardPayment Apply(PaymentIntentCreated e) => this with { PaymentIntentId = e.PaymentIntentId, UpdatedAt = e.At };

    public CardPayment Apply(ReaderProcessRequested e) => this with { Attempt = e.Attempt, AttemptOpen = true, UpdatedAt = e.At };

    public CardPayment Apply(ReaderProcessAcknowledged e) =>
        Status is CardPaymentStatus.Started or CardPaymentStatus.ReaderFailed or CardPaymentStatus.Declined
            ? this with { Status = CardPaymentStatus.Processing, LastErrorCode = null, LastErrorMessage = null, UpdatedAt = e.At }
            : this with { UpdatedAt = e.At };

    public CardPayment Apply(ReaderProcessFailed e) => this with
    {
        Status = CardPaymentStatus.ReaderFailed,
        AttemptOpen = false,
        LastErrorCode = e.Code,
        LastErrorMessage = e.Message,
        UpdatedAt = e.At,
    };

    public CardPayment Apply(CardDeclined e) => this with
    {
        Status = CardPaymentStatus.Declined,
        AttemptOpen = false,
        LastErrorCode = e.DeclineCode ?? e.Code,
        LastErrorMessage = e.Message,
        UpdatedAt = e.At,
    };

    public CardPayment Apply(CardAuthorized e) => this with { Status = CardPaymentStatus.Authorized, AttemptOpen = false, AuthorizedAt = e.At, UpdatedAt = e.At };

    public CardPayment Apply(CaptureRequested e) => this with { UpdatedAt = e.At };

    public CardPayment Apply(CancelRequested e) => this with { UpdatedAt = e.At };

    public CardPayment Apply(CardPaymentSucceeded e) => this with
    {
        Status = CardPaymentStatus.Succeeded,
        AttemptOpen = false,
        AmountReceived = e.Amount,
        LastErrorCode = null,
        LastErrorMessage = null,
        UpdatedAt = e.At,
    };

    public CardPayment Apply(CardPaymentCanceled e) => this with { Status = CardPaymentStatus.Canceled, AttemptOpen = false, UpdatedAt = e.At };

    public CardPayment Apply(CardRefundRequested e) => this with
    {
        RefundRequests = new Dictionary<string, long>(RefundRequests) { [e.RequestId] = e.Amount },
        UpdatedAt = e.At,
    };

    public CardPayment Apply(CardRefunded e) => this with
    {
        RefundIds = [.. RefundIds, e.RefundId],
        RefundedRequests = e.RequestId is null ? RefundedRequests : [.. RefundedRequests, e.RequestId],
        AmountRefunded = AmountRefunded + e.Amount,
        UpdatedAt = e.At,
    };

    public CardPayment Apply(CardRefundFailed e) => this with
    {
        RefundRequests = RefundRequests.Where(r => r.Key != e.RequestId).ToDictionary(),
        FailedRefundIds = [.. FailedRefundIds ?? [], e.RefundId],
        LastErrorCode = "refund_failed",
        LastErrorMessage = $"Le remboursement « {e.RequestId} » a échoué ({e.Reason ?? "refusé"}) : rien n'a été rendu au client. Relancez-le ou remboursez autrement.",
        UpdatedAt = e.At,
    };

    public CardPayment Fold(object e) => e switch
    {
        PaymentIntentCreated x => Apply(x),
        ReaderProcessRequested x => Apply(x),
        ReaderProcessAcknowledged x => Apply(x),
        ReaderProcessFailed x => Apply(x),
        CardDeclined x => Apply(x),
        CardAuthorized x => Apply(x),
        CaptureRequested x => Apply(x),
        CancelRequested x => Apply(x),
        CardPaymentSucceeded x => Apply(x),
        CardPaymentCanceled x => Apply(x),
        CardRefundRequested x => Apply(x),
        CardRefunded x => Apply(x),
        CardRefundFailed x => Apply(x),
        _ => this,
    };
}
