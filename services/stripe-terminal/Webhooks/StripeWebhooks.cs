using Fidpass.ServiceDefaults;
using Fidpass.StripeTerminal.Payments;
using JasperFx;
using Marten;
using Stripe;
using Stripe.Terminal;

namespace Fidpass.StripeTerminal.Webhooks;

/// <summary>A Stripe event already handled: the unique document id is the deduplication, in the database.</summary>
public sealed record ProcessedStripeEvent(string Id, string Type, DateTimeOffset ReceivedAt);

/// <summary>Signature and API-version check of a webhook, on the raw body (spec 4).</summary>
public static class WebhookVerifier
{
    public sealed record Outcome(Event? Event, string? ProblemCode, string? Detail);

    public static Outcome Verify(string rawBody, string? signatureHeader, string secret, long toleranceSeconds, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(signatureHeader))
        {
            return new(null, "signature_missing", "En-tête Stripe-Signature absent.");
        }

        try
        {
            return new(EventUtility.ConstructEvent(rawBody, signatureHeader, secret, toleranceSeconds, now.ToUnixTimeSeconds(), throwOnApiVersionMismatch: true), null, null);
        }
        catch (StripeException ex) when (ex.Message.Contains("API version", StringComparison.Ordinal))
        {
            // On purpose: an endpoint pinned to another release train must be fixed in the Stripe dashboard; the poller covers meanwhile.
            return new(null, "webhook_api_version_mismatch", "Version d'API de l'événement incompatible : configurez l'endpoint Stripe sur une version « .endive ».");
        }
        catch (StripeException ex) when (ex.Message.Contains("tolerance", StringComparison.Ordinal))
        {
            return new(null, "signature_expired", "Signature Stripe trop ancienne.");
        }
        catch (StripeException)
        {
            return new(null, "signature_invalid", "Signature Stripe invalide.");
        }
    }

    /// <summary>The PaymentIntent an event is about, whatever object it carries.</summary>
    public static string? PaymentIntentOf(Event stripeEvent) => stripeEvent.Data?.Object switch
    {
        PaymentIntent pi => pi.Id,
        Reader reader => reader.Action?.ProcessPaymentIntent?.PaymentIntentId,
        Refund refund => refund.PaymentIntentId,
        Charge charge => charge.PaymentIntentId,
        _ => null,
    };
}

public static class StripeWebhooks
{
    public static WebApplication MapStripeWebhooks(this WebApplication app)
    {
        app.MapPost("/webhooks/stripe", ReceiveAsync)
            .WithTags("Webhooks")
            .WithSummary("Événements Stripe (signés) : paiements, lecteurs, remboursements")
            .ProducesProblem(400);
        return app;
    }

    private static async Task<IResult> ReceiveAsync(
        HttpRequest request, IConfiguration configuration, IDocumentStore store, CardPayments payments, TimeProvider clock,
        ILogger<CardPayments> logger, CancellationToken ct)
    {
        // The HMAC covers the exact bytes: read the raw body, never a bound or re-serialized model.
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync(ct);
        var secret = configuration["Stripe:WebhookSecret"];
        if (string.IsNullOrWhiteSpace(secret))
        {
            return ApiProblems.Problem(503, "webhook_not_configured", "Stripe:WebhookSecret n'est pas configuré.");
        }

        var verified = WebhookVerifier.Verify(
            body, request.Headers["Stripe-Signature"].ToString(), secret, configuration.GetValue("Stripe:WebhookToleranceSeconds", 300L), clock.GetUtcNow());
        if (verified.Event is not { } stripeEvent)
        {
            logger.LogWarning("Stripe webhook refused: {Code}", verified.ProblemCode);
            return ApiProblems.Problem(400, verified.ProblemCode!, verified.Detail!);
        }

        await using (var session = store.LightweightSession())
        {
            session.Insert(new ProcessedStripeEvent(stripeEvent.Id, stripeEvent.Type, clock.GetUtcNow()));
            try
            {
                await session.SaveChangesAsync(ct);
            }
            catch (DocumentAlreadyExistsException)
            {
                return TypedResults.Ok(new { received = true, duplicate = true });
            }
        }

        try
        {
            await HandleAsync(stripeEvent, payments, ct);
        }
        catch (StripeException)
        {
            // Stripe could not be read back: forget the event so Stripe's retry is handled; the poller also covers it.
            await using var session = store.LightweightSession();
            session.Delete<ProcessedStripeEvent>(stripeEvent.Id);
            await session.SaveChangesAsync(ct);
            return ApiProblems.Problem(503, "stripe_unavailable", "Stripe injoignable, réessayez.");
        }

        return TypedResults.Ok(new { received = true });
    }

    /// <summary>Events are hints: the outcome is decided from the PaymentIntent (and refunds) as Stripe has them now.</summary>
    private static async Task HandleAsync(Event stripeEvent, CardPayments payments, CancellationToken ct)
    {
        if (WebhookVerifier.PaymentIntentOf(stripeEvent) is not { } paymentIntentId
            || await payments.FindByIntentAsync(paymentIntentId, ct) is not { } payment
            || (stripeEvent.Account is { } account && account != payment.StripeAccount))
        {
            return;
        }

        switch (stripeEvent.Data.Object)
        {
            case Reader { Action: { Status: "failed" } action }:
                await payments.ReconcileReaderFailureAsync(payment, action.FailureCode, action.FailureMessage, ct);
                break;
            case Refund or Charge:
                await payments.ReconcileRefundsAsync(payment, ct);
                break;
            default:
                await payments.ReconcileAsync(payment, ct);
                break;
        }
    }
}
