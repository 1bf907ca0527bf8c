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
            EventUtility.ValidateSignature(rawBody, signatureHeader, secret, toleranceSeconds, now.ToUnixTimeSeconds());
        }
        catch (StripeException ex) when (ex.Message.Contains("tolerance", StringComparison.Ordinal))
        {
            return new(null, "signature_expired", "Signature Stripe trop ancienne.");
        }
        catch (StripeException)
        {
            return new(null, "signature_invalid", "Signature Stripe invalide.");
        }

        // Signed is not well-formed: a body we cannot read is answered 400, never 500 (Stripe retries a 5xx for days).
        if (!WellFormed(rawBody))
        {
            return Malformed();
        }

        try
        {
            return new(EventUtility.ParseEvent(rawBody, throwOnApiVersionMismatch: true), null, null);
        }
        catch (StripeException ex) when (ex.Message.Contains("API version", StringComparison.Ordinal))
        {
            // On purpose: an endpoint pinned to another release train must be fixed in the Stripe dashboard; the poller covers meanwhile.
            return new(null, "webhook_api_version_mismatch", "Version d'API de l'événement incompatible : configurez l'endpoint Stripe sur une version « .endive ».");
        }
        catch (Exception ex) when (ex is Newtonsoft.Json.JsonException or System.Text.Json.JsonException or StripeException or FormatException
            or InvalidCastException or InvalidOperationException or ArgumentException or OverflowException or NullReferenceException)
        {
            return Malformed();
        }
    }

    private static Outcome Malformed() =>
        new(null, "invalid_event", "Événement Stripe illisible : un objet JSON avec id, type, api_version et data.object est attendu.");

    /// <summary>The fields the handler relies on, with their JSON kinds.</summary>
    private static bool WellFormed(string rawBody)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(rawBody);
            var root = doc.RootElement;
            static bool Text(System.Text.Json.JsonElement e, string name, int max) =>
                e.TryGetProperty(name, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String && v.GetString() is { Length: > 0 } s && s.Length <= max;
            static bool KindOrAbsent(System.Text.Json.JsonElement e, string name, System.Text.Json.JsonValueKind kind) =>
                !e.TryGetProperty(name, out var v) || v.ValueKind == kind || v.ValueKind == System.Text.Json.JsonValueKind.Null;
            return root.ValueKind == System.Text.Json.JsonValueKind.Object
                && Text(root, "id", 255) && Text(root, "type", 255) && Text(root, "api_version", 100)
                && KindOrAbsent(root, "account", System.Text.Json.JsonValueKind.String)
                && KindOrAbsent(root, "created", System.Text.Json.JsonValueKind.Number)
                && KindOrAbsent(root, "livemode", root.TryGetProperty("livemode", out var l) && l.ValueKind == System.Text.Json.JsonValueKind.False
                    ? System.Text.Json.JsonValueKind.False : System.Text.Json.JsonValueKind.True)
                && root.TryGetProperty("data", out var data) && data.ValueKind == System.Text.Json.JsonValueKind.Object
                && data.TryGetProperty("object", out var obj) && obj.ValueKind == System.Text.Json.JsonValueKind.Object;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
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
    /// <summary>
    /// Two endpoints, as Stripe sends them: the platform's own events, and the connected accounts'
    /// events (Connect endpoint), each signed with the secret of its endpoint in the Stripe dashboard.
    /// </summary>
    public static WebApplication MapStripeWebhooks(this WebApplication app)
    {
        app.MapPost("/webhooks/stripe", (HttpRequest request, IServiceProvider services, CancellationToken ct) =>
                ReceiveAsync(request, services, "Stripe:WebhookSecret", connect: false, ct))
            .WithTags("Webhooks")
            .WithSummary("Événements Stripe du compte plateforme (signés) : paiements, lecteurs, remboursements")
            .ProducesProblem(400);
        app.MapPost("/webhooks/stripe/connect", (HttpRequest request, IServiceProvider services, CancellationToken ct) =>
                ReceiveAsync(request, services, "Stripe:ConnectWebhookSecret", connect: true, ct))
            .WithTags("Webhooks")
            .WithSummary("Événements Stripe des comptes connectés (endpoint Connect, son propre secret)")
            .ProducesProblem(400);
        return app;
    }

    private static async Task<IResult> ReceiveAsync(HttpRequest request, IServiceProvider services, string secretSetting, bool connect, CancellationToken ct)
    {
        var configuration = services.GetRequiredService<IConfiguration>();
        var store = services.GetRequiredService<IDocumentStore>();
        var payments = services.GetRequiredService<CardPayments>();
        var clock = services.GetRequiredService<TimeProvider>();
        var logger = services.GetRequiredService<ILogger<CardPayments>>();

        // The HMAC covers the exact bytes: read the raw body, never a bound or re-serialized model.
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync(ct);
        var secret = configuration[secretSetting];
        if (string.IsNullOrWhiteSpace(secret))
        {
            return ApiProblems.Problem(503, "webhook_not_configured", $"{secretSetting} n'est pas configuré.");
        }

        var verified = WebhookVerifier.Verify(
            body, request.Headers["Stripe-Signature"].ToString(), secret, configuration.GetValue("Stripe:WebhookToleranceSeconds", 300L), clock.GetUtcNow());
        if (verified.Event is not { } stripeEvent)
        {
            logger.LogWarning("Stripe webhook refused: {Code}", verified.ProblemCode);
            return ApiProblems.Problem(400, verified.ProblemCode!, verified.Detail!);
        }

        // A connected account's event belongs on the Connect endpoint and a platform event on the platform one.
        if (connect != stripeEvent.Account is not null)
        {
            logger.LogWarning("Stripe webhook {Id} ignored: sent to the {Endpoint} endpoint", stripeEvent.Id, connect ? "Connect" : "platform");
            return TypedResults.Ok(new { received = true, ignored = true });
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
            || stripeEvent.Account != payment.StripeAccount)
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
