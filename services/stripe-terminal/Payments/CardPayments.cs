using Fidpass.ServiceDefaults;
using Fidpass.StripeTerminal.Readers;
using Fidpass.StripeTerminal.Stripe;
using JasperFx;
using Marten;
using Stripe;
using Stripe.Terminal;

namespace Fidpass.StripeTerminal.Payments;

/// <summary>
/// The card sale workflow against Stripe. Every mutating call is journaled (its idempotency key
/// stored in the sale's stream) before it is sent, and every outcome is decided from the
/// PaymentIntent Stripe returns, appended with optimistic concurrency so racing callers (webhook,
/// poller, till) produce one outcome.
/// </summary>
public sealed class CardPayments(
    IDocumentStore store, StripeClient stripe, IdempotencyKeys keys, ReaderStatuses readers, TimeProvider clock, IConfiguration configuration,
    ILogger<CardPayments> logger)
{
    public async Task<CardPayment?> LoadAsync(Guid id, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.LoadAsync<CardPayment>(id, ct);
    }

    public async Task<CardPayment?> FindByIntentAsync(string paymentIntentId, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.Query<CardPayment>().FirstOrDefaultAsync(p => p.PaymentIntentId == paymentIntentId, ct);
    }

    /// <summary>
    /// A new sale: the PaymentIntent is created first, then the sale is journaled with it in one
    /// append, so a failed start leaves nothing behind. An existing stream (a retry, or a racing
    /// duplicate) is returned as is.
    /// </summary>
    public async Task<CardPayment> StartAsync(CardPaymentStarted started, CancellationToken ct)
    {
        if (await LoadAsync(started.PaymentId, ct) is { } existing)
        {
            return existing;
        }

        var intent = await CreateIntentAsync(CardPayment.Create(started), ct);
        try
        {
            await using var session = store.LightweightSession();
            session.Events.StartStream<CardPayment>(started.PaymentId, started, new PaymentIntentCreated(started.PaymentId, intent.Id, clock.GetUtcNow()));
            session.CarryTrace();
            await session.SaveChangesAsync(ct);
        }
        catch (Marten.Exceptions.ExistingStreamIdCollisionException)
        {
            // Same sale id again: the deterministic stream id made the database refuse a second sale.
        }

        return (await LoadAsync(started.PaymentId, ct))!;
    }

    /// <summary>
    /// Whether the reader really still serves <paramref name="other"/>: if its action moved on (cleared,
    /// failed, a webhook lost), that sale's attempt is closed from what Stripe says, so it cannot block the reader forever.
    /// </summary>
    public async Task<bool> StillOnReaderAsync(CardPayment other, CancellationToken ct)
    {
        var reader = await stripe.V1.Terminal.Readers.GetAsync(other.ReaderId, null, StripeSetup.Call(other.StripeAccount), ct);
        if (reader.Action is { Status: "in_progress" } action && action.ProcessPaymentIntent?.PaymentIntentId == other.PaymentIntentId)
        {
            return true;
        }

        var settled = await ReconcileReaderFailureAsync(other, "reader_action_ended", "Le lecteur n'est plus sur cette vente : relancez-la si elle n'est pas payée.", ct);
        return settled.AttemptOpen;
    }

    /// <summary>Another sale of ours that the reader is serving now (journal), if any.</summary>
    public async Task<CardPayment?> OtherSaleOnReaderAsync(Guid paymentId, string readerId, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.Query<CardPayment>().FirstOrDefaultAsync(p => p.ReaderId == readerId && p.AttemptOpen && p.Id != paymentId, ct);
    }

    /// <summary>Appends what <paramref name="decide"/> says against the latest state; retried on a concurrent append.</summary>
    public async Task<CardPayment> AppendAsync(Guid id, Func<CardPayment, IReadOnlyList<object>> decide, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var stream = await session.Events.FetchForWriting<CardPayment>(id, ct);
            var state = stream.Aggregate ?? throw new InvalidOperationException($"No card sale {id}.");
            var events = decide(state);
            if (events.Count == 0)
            {
                return state;
            }

            stream.AppendMany(events);
            session.CarryTrace();
            try
            {
                await session.SaveChangesAsync(ct);
                return events.Aggregate(state, (s, e) => s.Fold(e));
            }
            catch (ConcurrencyException) when (attempt < 5)
            {
                // Someone else appended first (webhook vs poller vs till): decide again on their result.
            }
        }
    }

    /// <summary>Sales journaled before their PaymentIntent (before starts became one append) get it here.</summary>
    public async Task<CardPayment> EnsurePaymentIntentAsync(CardPayment payment, CancellationToken ct)
    {
        if (payment.PaymentIntentId is not null)
        {
            return payment;
        }

        var intent = await CreateIntentAsync(payment, ct);
        return await AppendAsync(payment.Id, s => s.PaymentIntentId is null ? [new PaymentIntentCreated(s.Id, intent.Id, clock.GetUtcNow())] : [], ct);
    }

    private Task<PaymentIntent> CreateIntentAsync(CardPayment payment, CancellationToken ct)
    {
        var options = new PaymentIntentCreateOptions
        {
            Amount = payment.Amount,
            Currency = payment.Currency,
            // Stripe.net 53 (API 2026-10-28.endive) has no PaymentMethodTypes: card_present goes here.
            AllowedPaymentMethodTypes = ["card_present"],
            CaptureMethod = payment.CaptureMethod,
            Description = $"Vente {payment.SaleId}",
            Metadata = new Dictionary<string, string>
            {
                ["fidpass_merchant"] = payment.MerchantId.ToString(),
                ["fidpass_sale"] = payment.SaleId,
            },
        };
        if (payment.MemberBarcode is not null)
        {
            options.Metadata["fidpass_member"] = payment.MemberBarcode;
        }

        if (payment.BasketReference is not null)
        {
            options.Metadata["fidpass_basket"] = payment.BasketReference;
        }

        if (payment.TillId is not null)
        {
            options.Metadata["fidpass_till"] = payment.TillId;
        }

        // The till's retries of this sale share the key (Stripe answers with the same PaymentIntent) until Stripe answers an error.
        return keys.SendAsync(CardPayment.CreateKey(payment.MerchantId, payment.SaleId),
            call => stripe.V1.PaymentIntents.CreateAsync(options, call, ct), payment.StripeAccount, ct);
    }

    /// <summary>
    /// Hands the PaymentIntent to the reader. <c>terminal_reader_timeout</c> is retried with the same
    /// key a few times; then, like <c>terminal_reader_busy</c> after a timeout, the reader and the
    /// PaymentIntent are read back, because the command may have arrived anyway (false negative).
    /// </summary>
    public async Task<(CardPayment Payment, StripeException? Error)> ProcessAsync(CardPayment payment, CancellationToken ct)
    {
        var attempt = CardPaymentDecisions.NextAttempt(payment);
        var operation = CardPayment.ProcessKey(payment.PaymentIntentId!, attempt);
        if (payment.Status == CardPaymentStatus.Declined)
        {
            // Stripe keeps the decline on the PaymentIntent until it is updated: clear it, so the
            // next poll cannot read the old decline as this attempt's outcome.
            await keys.SendAsync(CardPayment.AttemptKey(payment.PaymentIntentId!, attempt), call => stripe.V1.PaymentIntents.UpdateAsync(
                payment.PaymentIntentId, new PaymentIntentUpdateOptions
                {
                    Metadata = new Dictionary<string, string> { ["fidpass_attempt"] = attempt.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                }, call, ct), payment.StripeAccount, ct);
        }

        var key = await keys.CurrentAsync(operation, ct);
        payment = await AppendAsync(payment.Id, s => CardPaymentDecisions.CanProcess(s)
            ? [new ReaderProcessRequested(s.Id, s.ReaderId, attempt, key, clock.GetUtcNow())]
            : [], ct);
        if (!payment.AttemptOpen || payment.Attempt != attempt)
        {
            return (payment, null);
        }

        var retries = configuration.GetValue("Stripe:ReaderTimeoutRetries", 3);
        var timedOut = false;
        for (var @try = 0; ; @try++)
        {
            try
            {
                var started = clock.GetTimestamp();
                // A timeout is an answer Stripe keeps for the key: each retry below is sent with a new one.
                await keys.SendAsync(operation, call => stripe.V1.Terminal.Readers.ProcessPaymentIntentAsync(
                    payment.ReaderId,
                    new ReaderProcessPaymentIntentOptions
                    {
                        PaymentIntent = payment.PaymentIntentId,
                        ProcessConfig = new ReaderProcessConfigOptions { SkipTipping = true, EnableCustomerCancellation = true },
                    },
                    call, ct), payment.StripeAccount, ct);
                var elapsed = (long)clock.GetElapsedTime(started).TotalMilliseconds;
                if (logger.IsEnabled(LogLevel.Information))
                {
                    logger.LogInformation("Reader {Reader} acknowledged {PaymentIntent} attempt {Attempt} in {Elapsed} ms",
                        payment.ReaderId, payment.PaymentIntentId, attempt, elapsed);
                }

                await NoteReaderAsync(payment, ReaderStatusDecisions.Online, ct);

                return (await AppendAsync(payment.Id, s => CardPaymentDecisions.Acknowledge(s, attempt, clock.GetUtcNow()), ct), null);
            }
            catch (StripeException ex) when (ex.StripeError?.Code == StripeProblems.ReaderTimeout && @try < retries)
            {
                timedOut = true;
                await Task.Delay(TimeSpan.FromMilliseconds(100 * (@try + 1)), ct);
            }
            catch (StripeException ex) when (timedOut && ex.StripeError?.Code is StripeProblems.ReaderBusy or StripeProblems.IntentInvalidState)
            {
                var settled = await AfterFalseNegativeAsync(payment, attempt, ct);
                return settled.AttemptOpen || settled.Status is CardPaymentStatus.Succeeded or CardPaymentStatus.Authorized
                    ? (settled, null)
                    : (await FailAttemptAsync(settled, attempt, ex, ct), ex);
            }
            catch (StripeException ex) when (ex.StripeError?.Code == StripeProblems.IntentInvalidState)
            {
                return (await ReconcileAsync(payment, ct), null);
            }
            catch (StripeException ex)
            {
                if (ex.StripeError?.Code == StripeProblems.ReaderOffline)
                {
                    await NoteReaderAsync(payment, ReaderStatusDecisions.Offline, ct);
                }

                return (await FailAttemptAsync(payment, attempt, ex, ct), ex);
            }
        }
    }

    /// <summary>An acknowledgement proves the reader online; <c>terminal_reader_offline</c> is Stripe saying it is not.</summary>
    private Task NoteReaderAsync(CardPayment payment, string status, CancellationToken ct) =>
        readers.ObserveAsync(new ReaderObservation(payment.ReaderId, payment.MerchantId, null, status, clock.GetUtcNow()), ct);

    private async Task<CardPayment> AfterFalseNegativeAsync(CardPayment payment, int attempt, CancellationToken ct)
    {
        var reader = await stripe.V1.Terminal.Readers.GetAsync(payment.ReaderId, null, StripeSetup.Call(payment.StripeAccount), ct);
        if (reader.Action?.ProcessPaymentIntent?.PaymentIntentId == payment.PaymentIntentId && reader.Action?.Status == "in_progress")
        {
            return await AppendAsync(payment.Id, s => CardPaymentDecisions.Acknowledge(s, attempt, clock.GetUtcNow()), ct);
        }

        var reconciled = await ReconcileAsync(payment, ct);
        return reconciled.Status is CardPaymentStatus.Succeeded or CardPaymentStatus.Authorized ? reconciled : reconciled with { AttemptOpen = false };
    }

    private Task<CardPayment> FailAttemptAsync(CardPayment payment, int attempt, StripeException ex, CancellationToken ct) =>
        AppendAsync(payment.Id, s => s.AttemptOpen && s.Attempt == attempt
            ? [new ReaderProcessFailed(s.Id, attempt, ex.StripeError?.Code ?? "stripe_unavailable", ex.StripeError?.Message ?? "Stripe injoignable.", clock.GetUtcNow())]
            : [], ct);

    /// <summary>Reads the PaymentIntent from Stripe and records what changed (the webhook, poller and "check status" path).</summary>
    public async Task<CardPayment> ReconcileAsync(CardPayment payment, CancellationToken ct)
    {
        if (payment.PaymentIntentId is null)
        {
            return payment;
        }

        var intent = await stripe.V1.PaymentIntents.GetAsync(payment.PaymentIntentId, null, StripeSetup.Call(payment.StripeAccount), ct);
        var snapshot = PaymentIntentSnapshot.From(intent);
        return await AppendAsync(payment.Id, s => CardPaymentDecisions.FromPaymentIntent(s, snapshot, clock.GetUtcNow()), ct);
    }

    public async Task<CardPayment> ReconcileReaderFailureAsync(CardPayment payment, string? failureCode, string? failureMessage, CancellationToken ct)
    {
        // A late failure of an earlier attempt: the reader is already on the next one.
        var reader = await stripe.V1.Terminal.Readers.GetAsync(payment.ReaderId, null, StripeSetup.Call(payment.StripeAccount), ct);
        if (reader.Action is { Status: "in_progress" } action && action.ProcessPaymentIntent?.PaymentIntentId == payment.PaymentIntentId)
        {
            return await ReconcileAsync(payment, ct);
        }

        var intent = await stripe.V1.PaymentIntents.GetAsync(payment.PaymentIntentId!, null, StripeSetup.Call(payment.StripeAccount), ct);
        var snapshot = PaymentIntentSnapshot.From(intent);
        return await AppendAsync(payment.Id, s => CardPaymentDecisions.FromReaderActionFailure(s, snapshot, failureCode, failureMessage, clock.GetUtcNow()), ct);
    }

    public async Task<CardPayment> ReconcileRefundsAsync(CardPayment payment, CancellationToken ct) => (await ReadRefundsAsync(payment, null, ct)).Payment;

    /// <summary>Records every refund of the sale as Stripe has it now; says whether one of them answers <paramref name="requestId"/> (and has not failed).</summary>
    private async Task<(CardPayment Payment, bool Known)> ReadRefundsAsync(CardPayment payment, string? requestId, CancellationToken ct)
    {
        var refunds = await stripe.V1.Refunds.ListAsync(
            new RefundListOptions { PaymentIntent = payment.PaymentIntentId, Limit = 100 }, StripeSetup.Call(payment.StripeAccount), ct);
        var known = false;
        foreach (var refund in refunds.Data)
        {
            var snapshot = RefundSnapshot.From(refund);
            known |= requestId is not null && snapshot.RequestId == requestId && snapshot.Status is not ("failed" or "canceled");
            payment = await RecordRefundAsync(payment, snapshot, ct);
        }

        return (payment, known);
    }

    private async Task<CardPayment> RecordRefundAsync(CardPayment payment, RefundSnapshot snapshot, CancellationToken ct)
    {
        var before = payment.FailedRefundIds?.Count ?? 0;
        payment = await AppendAsync(payment.Id, s => CardPaymentDecisions.FromRefund(s, snapshot, clock.GetUtcNow()), ct);
        if ((payment.FailedRefundIds?.Count ?? 0) > before && snapshot.RequestId is { } request)
        {
            // Stripe answered that key with a refund that failed: the till's next try of this refund is a new request.
            var operation = CardPayment.RefundKey(payment.PaymentIntentId!, request);
            await keys.SpendAsync(operation, await keys.CurrentAsync(operation, ct), ct);
        }

        return payment;
    }

    /// <summary>Manual capture: once, from requires_capture; "already captured" counts as done.</summary>
    public async Task<CardPayment> CaptureAsync(CardPayment payment, CancellationToken ct)
    {
        if (payment.Status != CardPaymentStatus.Authorized)
        {
            return payment;
        }

        var operation = CardPayment.CaptureKey(payment.PaymentIntentId!);
        var key = await keys.CurrentAsync(operation, ct);
        await AppendAsync(payment.Id, s => s.Status == CardPaymentStatus.Authorized ? [new CaptureRequested(s.Id, key, clock.GetUtcNow())] : [], ct);
        try
        {
            var intent = await keys.SendAsync(operation, call => stripe.V1.PaymentIntents.CaptureAsync(
                payment.PaymentIntentId, new PaymentIntentCaptureOptions(), call, ct), payment.StripeAccount, ct);
            var snapshot = PaymentIntentSnapshot.From(intent);
            return await AppendAsync(payment.Id, s => CardPaymentDecisions.FromPaymentIntent(s, snapshot, clock.GetUtcNow()), ct);
        }
        catch (StripeException ex) when (ex.StripeError?.Code == "payment_intent_unexpected_state")
        {
            return await ReconcileAsync(payment, ct);
        }
    }

    public async Task<CardPayment> CancelAsync(CardPayment payment, string reason, CancellationToken ct)
    {
        var operation = CardPayment.CancelKey(payment.PaymentIntentId!);
        var key = await keys.CurrentAsync(operation, ct);
        await AppendAsync(payment.Id, s => [new CancelRequested(s.Id, key, reason, clock.GetUtcNow())], ct);
        try
        {
            var intent = await keys.SendAsync(operation, call => stripe.V1.PaymentIntents.CancelAsync(
                payment.PaymentIntentId, new PaymentIntentCancelOptions { CancellationReason = reason }, call, ct), payment.StripeAccount, ct);
            var snapshot = PaymentIntentSnapshot.From(intent);
            return await AppendAsync(payment.Id, s =>
            {
                var events = CardPaymentDecisions.FromPaymentIntent(s, snapshot, clock.GetUtcNow());
                return s.AttemptOpen && events.Count == 0 ? [new ReaderProcessFailed(s.Id, s.Attempt, "canceled", "Paiement annulé.", clock.GetUtcNow())] : events;
            }, ct);
        }
        catch (StripeException ex) when (ex.StripeError?.Code == "payment_intent_unexpected_state")
        {
            return await ReconcileAsync(payment, ct);
        }
    }

    public async Task<CardPayment> RefundAsync(CardPayment payment, string requestId, long amount, CancellationToken ct)
    {
        if (payment.RefundRequests.ContainsKey(requestId))
        {
            // The till sends a refund again: if Stripe has it (pending or settled), it is only read back, never sent twice.
            var (read, known) = await ReadRefundsAsync(payment, requestId, ct);
            if (known || read.RefundedRequests.Contains(requestId))
            {
                return read;
            }

            payment = read;
        }

        var operation = CardPayment.RefundKey(payment.PaymentIntentId!, requestId);
        var key = await keys.CurrentAsync(operation, ct);
        payment = await AppendAsync(payment.Id, s => s.RefundRequests.ContainsKey(requestId)
            ? []
            : [new CardRefundRequested(s.Id, requestId, amount, key, clock.GetUtcNow())], ct);
        var refund = await keys.SendAsync(operation, call => stripe.V1.Refunds.CreateAsync(
            new RefundCreateOptions
            {
                PaymentIntent = payment.PaymentIntentId,
                Amount = payment.RefundRequests[requestId],
                Metadata = new Dictionary<string, string> { [RefundSnapshot.RequestMetadataKey] = requestId },
            },
            call, ct), payment.StripeAccount, ct);
        return await RecordRefundAsync(payment, RefundSnapshot.From(refund), ct);
    }
}
