using System.Text.Json;
using Fidpass.Contracts.Loyalty;
using Fidpass.ServiceDefaults;
using Fidpass.StripeTerminal.Readers;
using Fidpass.StripeTerminal.Stripe;
using Marten;
using MassTransit;
using Stripe;

namespace Fidpass.StripeTerminal.Payments;

/// <summary>The till's view of a card sale.</summary>
public sealed record CardPaymentView(
    string SaleId, string? PaymentIntentId, string ReaderId, long Amount, string Currency, string Status, int Attempt,
    string CaptureMethod, Guid? MemberId, string? BasketReference, long AmountReceived, long AmountRefunded, long AmountRefundPending,
    string? ErrorCode, string? ErrorMessage, string? NextStep, LoyaltyNotice? Loyalty)
{
    public static CardPaymentView From(CardPayment p) => new(
        p.SaleId, p.PaymentIntentId, p.ReaderId, p.Amount, p.Currency, StatusName(p), p.Attempt, p.CaptureMethod, p.MemberId,
        p.BasketReference, p.AmountReceived, p.AmountRefunded, p.RefundPendingAmount, p.LastErrorCode, p.LastErrorMessage, NextStepFor(p),
        p.Loyalty);

    private static string StatusName(CardPayment p) => p.Status switch
    {
        CardPaymentStatus.Started => p.AttemptOpen ? "processing" : "started",
        CardPaymentStatus.Processing => "processing",
        CardPaymentStatus.ReaderFailed => "reader_failed",
        CardPaymentStatus.Declined => "declined",
        CardPaymentStatus.Authorized => "authorized",
        CardPaymentStatus.Succeeded => "succeeded",
        _ => "canceled",
    };

    private static string? NextStepFor(CardPayment p) => p.Status switch
    {
        CardPaymentStatus.Declined => "Carte refusée : proposez une autre carte et relancez le même paiement (même saleId).",
        CardPaymentStatus.ReaderFailed when p.LastErrorCode == StripeProblems.ReaderOffline =>
            "Le lecteur est hors ligne : vérifiez qu'il est allumé et connecté, puis relancez le même paiement.",
        CardPaymentStatus.ReaderFailed => "Relancez le même paiement (même saleId) : il ne sera pas débité deux fois.",
        CardPaymentStatus.Authorized => "Paiement autorisé : confirmez-le (capture) ou annulez-le.",
        _ => null,
    };
}

public sealed record StartCardPayment(
    string? SaleId, long Amount, string? Currency, string? ReaderId, string? TillId, string? MemberBarcode,
    string? BasketReference, string? CaptureMethod);

public sealed record RefundCardPayment(string? RefundId, long? Amount);

public static class PaymentsApi
{
    public static RouteGroupBuilder MapPaymentsApi(this RouteGroupBuilder group)
    {
        group.MapPost("/payments", StartAsync)
            .WithSummary("Encaisser une vente par carte sur un lecteur (idempotent par saleId)")
            .WithDescription("Avec une carte de fidélité (memberBarcode), la réponse dit d'emblée si la vente créditera des points "
                + "(loyalty.creditsPoints) et sinon pourquoi (loyalty.code : member_unknown, member_erased, member_of_another_merchant, "
                + "loyalty_unavailable ; loyalty.message pour le caissier). La vente est encaissée dans tous les cas.")
            .Produces<CardPaymentView>(202).ProducesProblem(400).ProducesProblem(404).ProducesProblem(409);
        group.MapGet("/payments/{saleId}", GetAsync).WithSummary("État d'une vente par carte").Produces<CardPaymentView>().ProducesProblem(404);
        group.MapPost("/payments/{saleId}/check", CheckAsync)
            .WithSummary("Vérifier l'état auprès de Stripe (si le résultat tarde)").Produces<CardPaymentView>().ProducesProblem(404);
        group.MapPost("/payments/{saleId}/capture", CaptureAsync)
            .WithSummary("Confirmer un paiement autorisé (capture manuelle)").Produces<CardPaymentView>().ProducesProblem(409);
        group.MapPost("/payments/{saleId}/cancel", CancelAsync)
            .WithSummary("Annuler une vente non encaissée").Produces<CardPaymentView>().ProducesProblem(409);
        group.MapPost("/payments/{saleId}/refunds", RefundAsync)
            .WithSummary("Rembourser tout ou partie d'une vente encaissée (idempotent par refundId)")
            .Produces<CardPaymentView>().ProducesProblem(400).ProducesProblem(409);
        return group;
    }

    /// <summary>Stripe's smallest card payment in euros (0,50 €).</summary>
    public const long StripeMinimumAmount = 50;

    /// <summary>10 000 € a sale unless <c>Stripe:MaxAmountCents</c> says otherwise: a typo of a few zeros is refused, not charged.</summary>
    public const long DefaultMaxAmount = 1_000_000;

    private static async Task<IResult> StartAsync(
        HttpContext http, IDocumentSession session, CardPayments payments, IRequestClient<CheckMember> members, TimeProvider clock,
        IConfiguration configuration, CancellationToken ct)
    {
        var merchant = http.Merchant();
        var (command, invalid) = await ReadStartAsync(http.Request, configuration.GetValue("Stripe:MaxAmountCents", DefaultMaxAmount), ct);
        if (invalid is not null)
        {
            return invalid;
        }

        var readerId = command!.ReaderId;
        if (readerId is null && command.TillId is not null)
        {
            readerId = (await session.LoadAsync<TillReader>(TillReader.Key(merchant.MerchantId, command.TillId), ct))?.ReaderId;
            if (readerId is null)
            {
                return ApiProblems.Problem(409, "till_not_connected", "Cette caisse n'est reliée à aucun lecteur : connectez-la d'abord à un lecteur.");
            }
        }

        if (readerId is null)
        {
            return ApiProblems.Problem(400, "reader_required", "Indiquez le lecteur (readerId) ou la caisse (tillId).");
        }

        var reader = await session.LoadAsync<TerminalReader>(readerId, ct);
        if (reader is null || reader.MerchantId != merchant.MerchantId)
        {
            // A reader of another merchant is reported exactly like an unknown one.
            return ApiProblems.Problem(404, "reader_not_found", "Lecteur inconnu pour ce commerce.");
        }

        Guid? memberId = null;
        if (command.MemberBarcode is { Length: > 0 } barcode)
        {
            memberId = MemberBarcode.Normalise(barcode);
            if (memberId is null)
            {
                return ApiProblems.Problem(400, "invalid_member_barcode", "Le code de la carte de fidélité n'est pas reconnu.");
            }
        }

        var id = CardPayment.StreamId(merchant.MerchantId, command.SaleId!);
        var known = await payments.LoadAsync(id, ct);

        // The sale goes ahead whatever the card; the till is told now if it will earn nothing, and why.
        // A replay answers what was said when the sale started.
        var loyalty = known is null && memberId is { } card ? await members.AskAsync(merchant.MerchantId, card, ct) : null;
        var started = new CardPaymentStarted(
            id, merchant.MerchantId, command.SaleId!, readerId, command.TillId, command.Amount, command.Currency!,
            command.CaptureMethod ?? "automatic", memberId, command.MemberBarcode, command.BasketReference,
            await session.StripeAccountAsync(merchant.MerchantId, ct), CardPayment.CreateKey(merchant.MerchantId, command.SaleId!), clock.GetUtcNow(),
            loyalty);
        if (known is not null && Conflicts(known, started))
        {
            return SaleConflict();
        }

        CardPayment? payment = null;
        try
        {
            // One sale at a time on a reader: Stripe would silently replace the first one, which would stay "processing".
            if (await payments.OtherSaleOnReaderAsync(id, readerId, ct) is { } other && await payments.StillOnReaderAsync(other, ct))
            {
                return ReaderBusyWith(other);
            }

            payment = await payments.StartAsync(started, ct);
            if (Conflicts(payment, started))
            {
                return SaleConflict();
            }

            payment = await payments.EnsurePaymentIntentAsync(payment, ct);
            if (!CardPaymentDecisions.CanProcess(payment))
            {
                return TypedResults.Json(CardPaymentView.From(payment), statusCode: 202);
            }

            var (processed, error) = await payments.ProcessAsync(payment, ct);
            return error is null
                ? TypedResults.Json(CardPaymentView.From(processed), statusCode: 202)
                : StripeProblems.From(error, processed.PaymentIntentId);
        }
        catch (StripeException ex)
        {
            return StripeProblems.From(ex, payment?.PaymentIntentId);
        }
    }

    private static bool Conflicts(CardPayment payment, CardPaymentStarted started) =>
        payment.Amount != started.Amount || payment.Currency != started.Currency || payment.ReaderId != started.ReaderId
        || payment.MemberId != started.MemberId;

    private static IResult SaleConflict() =>
        ApiProblems.Problem(409, "sale_conflict", "Cette vente (saleId) existe déjà avec un autre montant, lecteur ou client.");

    private static IResult ReaderBusyWith(CardPayment other) => ApiProblems.Problem(409, "reader_busy",
        $"Le lecteur encaisse déjà la vente « {other.SaleId} ». Attendez qu'elle se termine, ou annulez-la (POST …/payments/{{saleId}}/cancel) avant d'en lancer une autre.",
        new Dictionary<string, object?> { ["saleId"] = other.SaleId });

    private static async Task<(StartCardPayment? Command, IResult? Invalid)> ReadStartAsync(HttpRequest request, long maxAmount, CancellationToken ct)
    {
        var (body, invalid) = await JsonBody.ReadObjectAsync(request, ct);
        if (invalid is not null)
        {
            return (null, invalid);
        }

        string? Text(string name) =>
            body.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        var saleId = Text("saleId");
        if (string.IsNullOrWhiteSpace(saleId) || saleId.Length > 100)
        {
            return (null, ApiProblems.Problem(400, "sale_id_required", "Indiquez l'identifiant de la vente (saleId, 100 caractères au plus)."));
        }

        // Money is an integer number of cents: 12.5, "1250" or 0 are refused before anything reaches Stripe.
        if (!body.TryGetProperty("amount", out var rawAmount) || rawAmount.ValueKind != JsonValueKind.Number
            || !rawAmount.TryGetInt64(out var amount) || amount <= 0)
        {
            return (null, ApiProblems.Problem(400, "invalid_amount", "Le montant doit être un nombre entier de centimes supérieur à zéro."));
        }

        if (amount < StripeMinimumAmount)
        {
            return (null, ApiProblems.Problem(400, "amount_below_minimum",
                "Stripe n'accepte pas de paiement par carte de moins de 0,50 € : encaissez ce montant autrement."));
        }

        if (amount > maxAmount)
        {
            return (null, ApiProblems.Problem(400, "amount_too_large",
                $"Le montant dépasse le maximum d'une vente par carte ({maxAmount / 100} €). Vérifiez le montant (en centimes)."));
        }

        var currency = (Text("currency") ?? "eur").ToLowerInvariant();
        if (currency != "eur")
        {
            return (null, ApiProblems.Problem(400, "unsupported_currency", "Seul l'euro (eur) est accepté."));
        }

        var capture = Text("captureMethod") ?? "automatic";
        if (capture is not ("automatic" or "manual"))
        {
            return (null, ApiProblems.Problem(400, "invalid_capture_method", "captureMethod vaut « automatic » ou « manual »."));
        }

        return (new StartCardPayment(saleId, amount, currency, Text("readerId"), Text("tillId"), Text("memberBarcode"),
            Text("basketReference"), capture), null);
    }

    private static async Task<(RefundCardPayment? Body, IResult? Invalid)> ReadRefundAsync(HttpRequest request, CancellationToken ct)
    {
        var (body, invalid) = await JsonBody.ReadObjectAsync(request, ct);
        if (invalid is not null)
        {
            return (null, invalid);
        }

        long? amount = null;
        if (body.TryGetProperty("amount", out var raw) && raw.ValueKind != JsonValueKind.Null)
        {
            if (raw.ValueKind != JsonValueKind.Number || !raw.TryGetInt64(out var value))
            {
                return (null, ApiProblems.Problem(400, "refund_amount_invalid", "Le montant à rembourser doit être un nombre entier de centimes."));
            }

            amount = value;
        }

        var refundId = body.TryGetProperty("refundId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        return (new RefundCardPayment(refundId, amount), null);
    }

    private static async Task<(CardPayment? Payment, IResult? Missing)> FindAsync(HttpContext http, CardPayments payments, string saleId, CancellationToken ct)
    {
        var payment = await payments.LoadAsync(CardPayment.StreamId(http.Merchant().MerchantId, saleId), ct);
        return payment is null
            ? (null, ApiProblems.Problem(404, "payment_not_found", "Aucune vente par carte avec cet identifiant."))
            : (payment, null);
    }

    private static async Task<IResult> GetAsync(HttpContext http, string saleId, CardPayments payments, CancellationToken ct)
    {
        var (payment, missing) = await FindAsync(http, payments, saleId, ct);
        return missing ?? TypedResults.Ok(CardPaymentView.From(payment!));
    }

    private static async Task<IResult> CheckAsync(HttpContext http, string saleId, CardPayments payments, CancellationToken ct)
    {
        var (payment, missing) = await FindAsync(http, payments, saleId, ct);
        if (missing is not null)
        {
            return missing;
        }

        try
        {
            return TypedResults.Ok(CardPaymentView.From(await payments.ReconcileAsync(payment!, ct)));
        }
        catch (StripeException ex)
        {
            return StripeProblems.From(ex, payment!.PaymentIntentId);
        }
    }

    private static async Task<IResult> CaptureAsync(HttpContext http, string saleId, CardPayments payments, CancellationToken ct)
    {
        var (payment, missing) = await FindAsync(http, payments, saleId, ct);
        if (missing is not null)
        {
            return missing;
        }

        try
        {
            if (payment!.Status is not (CardPaymentStatus.Authorized or CardPaymentStatus.Succeeded))
            {
                payment = await payments.ReconcileAsync(payment, ct);
            }

            return payment.Status switch
            {
                CardPaymentStatus.Succeeded => TypedResults.Ok(CardPaymentView.From(payment)),
                CardPaymentStatus.Authorized => TypedResults.Ok(CardPaymentView.From(await payments.CaptureAsync(payment, ct))),
                _ => ApiProblems.Problem(409, "payment_not_authorized", "Ce paiement n'est pas autorisé : il n'y a rien à confirmer."),
            };
        }
        catch (StripeException ex)
        {
            return StripeProblems.From(ex, payment!.PaymentIntentId);
        }
    }

    private static async Task<IResult> CancelAsync(HttpContext http, string saleId, CardPayments payments, CancellationToken ct)
    {
        var (payment, missing) = await FindAsync(http, payments, saleId, ct);
        if (missing is not null)
        {
            return missing;
        }

        if (payment!.Status == CardPaymentStatus.Canceled)
        {
            return TypedResults.Ok(CardPaymentView.From(payment));
        }

        if (payment.Status == CardPaymentStatus.Succeeded || payment.PaymentIntentId is null)
        {
            return payment.PaymentIntentId is null
                ? ApiProblems.Problem(409, "payment_not_started", "Cette vente n'a pas encore de paiement Stripe.")
                : ApiProblems.Problem(409, "payment_already_collected", "Ce paiement est encaissé : faites un remboursement.");
        }

        try
        {
            return TypedResults.Ok(CardPaymentView.From(await payments.CancelAsync(payment, "requested_by_customer", ct)));
        }
        catch (StripeException ex)
        {
            return StripeProblems.From(ex, payment.PaymentIntentId);
        }
    }

    private static async Task<IResult> RefundAsync(HttpContext http, string saleId, CardPayments payments, CancellationToken ct)
    {
        var (body, invalid) = await ReadRefundAsync(http.Request, ct);
        if (invalid is not null)
        {
            return invalid;
        }

        if (string.IsNullOrWhiteSpace(body!.RefundId) || body.RefundId.Length > 100)
        {
            return ApiProblems.Problem(400, "refund_id_required", "Indiquez l'identifiant du remboursement (refundId) : il évite un double remboursement.");
        }

        var (payment, missing) = await FindAsync(http, payments, saleId, ct);
        if (missing is not null)
        {
            return missing;
        }

        try
        {
            if (!payment!.RefundRequests.ContainsKey(body.RefundId))
            {
                var amount = body.Amount ?? payment.Refundable();
                switch (CardPaymentDecisions.RefuseRefund(payment, amount))
                {
                    case "payment_not_collected":
                        return ApiProblems.Problem(409, "payment_not_collected", "Seul un paiement encaissé peut être remboursé.");
                    case "refund_amount_invalid":
                        return ApiProblems.Problem(400, "refund_amount_invalid",
                            $"Le montant à rembourser doit être un entier entre 1 et {payment.Refundable()} centimes.");
                    default:
                        break;
                }

                return TypedResults.Ok(CardPaymentView.From(await payments.RefundAsync(payment, body.RefundId, amount, ct)));
            }

            return TypedResults.Ok(CardPaymentView.From(payment.RefundedRequests.Contains(body.RefundId)
                ? payment
                : await payments.RefundAsync(payment, body.RefundId, payment.RefundRequests[body.RefundId], ct)));
        }
        catch (StripeException ex)
        {
            return StripeProblems.From(ex, payment!.PaymentIntentId);
        }
    }
}
