using System.Text.Json.Nodes;

namespace Fidpass.FakeStripe;

/// <summary>A Stripe API answer: status, Stripe-shaped JSON body and the retry hint Stripe.net honours.</summary>
public sealed record FakeResponse(int Status, JsonNode Body, bool? ShouldRetry = null)
{
    /// <summary>
    /// Codes of requests Stripe refuses before the endpoint starts executing: their answer is not
    /// stored under the idempotency key (https://docs.stripe.com/api/idempotent_requests: "Results
    /// are only saved if an API endpoint started executing. If incoming parameters failed validation,
    /// or the request conflicted with another that was executing concurrently, no idempotent result is saved").
    /// </summary>
    private static readonly HashSet<string> NotExecuted =
    [
        "parameter_missing", "parameter_invalid_integer", "parameter_invalid_string", "parameter_invalid_empty", "parameter_unknown",
        "resource_missing", "amount_too_small", "amount_too_large", "payment_method_types_no_longer_supported", "idempotency_error",
        "lock_timeout", "api_key_invalid",
    ];

    /// <summary>Whether Stripe keeps this answer for the request's idempotency key (errors and 500s included).</summary>
    public bool Replayable => Status is not (401 or 429) && !(Body["error"]?["code"]?.GetValue<string>() is { } code && NotExecuted.Contains(code));

    public static FakeResponse Ok(JsonNode body) => new(200, body);

    /// <summary><c>{error: {type, code, message, param, decline_code, payment_intent, request_log_url}}</c>.</summary>
    public static FakeResponse Error(
        int status, string type, string? code, string message, string? param = null,
        string? declineCode = null, JsonNode? paymentIntent = null, bool? shouldRetry = null)
    {
        var error = new JsonObject { ["type"] = type, ["message"] = message };
        if (code is not null)
        {
            error["code"] = code;
            error["doc_url"] = $"https://stripe.com/docs/error-codes/{code.Replace('_', '-')}";
        }

        if (param is not null)
        {
            error["param"] = param;
        }

        if (declineCode is not null)
        {
            error["decline_code"] = declineCode;
        }

        if (paymentIntent is not null)
        {
            error["payment_intent"] = paymentIntent;
        }

        error["request_log_url"] = "https://dashboard.stripe.com/test/logs";
        return new FakeResponse(status, new JsonObject { ["error"] = error }, shouldRetry);
    }

    public static FakeResponse Missing(string kind, string id, string param = "id") =>
        Error(404, "invalid_request_error", "resource_missing", $"No such {kind}: '{id}'", param);

    public static FakeResponse Invalid(string code, string message, string? param = null) =>
        Error(400, "invalid_request_error", code, message, param);
}

/// <summary>One API call as the fake saw it, so tests can assert idempotency keys, accounts and "nothing was sent".</summary>
public sealed record RecordedRequest(
    DateTimeOffset At, string Method, string Path, IReadOnlyDictionary<string, string> Parameters,
    string? IdempotencyKey, string? StripeAccount, string? StripeVersion, int Status, bool Replayed);

public sealed class Location
{
    public required string Id { get; init; }
    public string? Account { get; init; }
    public string DisplayName { get; set; } = "";
    public Dictionary<string, string> Address { get; init; } = [];
    public Dictionary<string, string> Metadata { get; init; } = [];
    public long Created { get; init; }

    public JsonObject ToJson() => new()
    {
        ["id"] = Id,
        ["object"] = "terminal.location",
        ["address"] = new JsonObject
        {
            ["city"] = Address.GetValueOrDefault("city"),
            ["country"] = Address.GetValueOrDefault("country"),
            ["line1"] = Address.GetValueOrDefault("line1"),
            ["line2"] = Address.GetValueOrDefault("line2"),
            ["postal_code"] = Address.GetValueOrDefault("postal_code"),
            ["state"] = Address.GetValueOrDefault("state"),
        },
        ["display_name"] = DisplayName,
        ["livemode"] = false,
        ["metadata"] = Json.Map(Metadata),
    };
}

public enum TimeoutMode
{
    None,

    /// <summary>The reader never got the command.</summary>
    Lost,

    /// <summary>The reader got and started the command, but the API still answers timeout (the false negative).</summary>
    Applied,
}

public sealed class ReaderAction
{
    public required string Type { get; init; }
    public string Status { get; set; } = "in_progress";
    public string? FailureCode { get; set; }
    public string? FailureMessage { get; set; }

    /// <summary>The API error behind a failure (a decline); null when the reader itself failed (customer cancel, timeout).</summary>
    public JsonObject? ApiError { get; set; }
    public string? PaymentIntentId { get; init; }
    public Dictionary<string, string> Config { get; init; } = [];
    public JsonObject? Cart { get; init; }

    /// <summary>The card was presented: the payment is authorising and cannot be replaced or cancelled.</summary>
    public bool Authorizing { get; set; }

    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["api_error"] = ApiError?.DeepClone(),
            ["failure_code"] = FailureCode,
            ["failure_message"] = FailureMessage,
            ["status"] = Status,
            ["type"] = Type,
        };
        switch (Type)
        {
            case "process_payment_intent":
                json["process_payment_intent"] = new JsonObject
                {
                    ["payment_intent"] = PaymentIntentId,
                    ["process_config"] = new JsonObject
                    {
                        ["enable_customer_cancellation"] = Config.GetValueOrDefault("process_config[enable_customer_cancellation]") == "true",
                        ["skip_tipping"] = Config.GetValueOrDefault("process_config[skip_tipping]") == "true",
                    },
                };
                break;
            case "set_reader_display":
                json["set_reader_display"] = new JsonObject { ["cart"] = Cart?.DeepClone(), ["type"] = "cart" };
                break;
            default:
                break;
        }

        return json;
    }
}

public sealed class Reader
{
    public required string Id { get; init; }
    public string? Account { get; init; }
    public string Label { get; set; } = "";
    public required string LocationId { get; init; }
    public required string DeviceType { get; init; }
    public required string SerialNumber { get; init; }
    public Dictionary<string, string> Metadata { get; init; } = [];
    public bool Offline { get; set; }
    public long LastSeenAtMs { get; set; }
    public ReaderAction? Action { get; set; }

    // Faults armed through the control API.
    public DateTimeOffset BusyUntil { get; set; }
    public TimeoutMode NextTimeout { get; set; }
    public int TimeoutCount { get; set; }
    public bool Stuck { get; set; }
    public int AcknowledgeDelayMs { get; set; }

    /// <summary>Per-reader override of <see cref="FakeStripeOptions.AuthorizingMilliseconds"/>.</summary>
    public int? AuthorizingMs { get; set; }

    public bool IsSimulated => DeviceType.StartsWith("simulated_", StringComparison.Ordinal);

    public JsonObject ToJson() => new()
    {
        ["id"] = Id,
        ["object"] = "terminal.reader",
        ["action"] = Action?.ToJson(),
        ["device_sw_version"] = "2.43.0.0",
        ["device_type"] = DeviceType,
        ["ip_address"] = "192.168.2.2",
        ["label"] = Label,
        ["last_seen_at"] = LastSeenAtMs,
        ["livemode"] = false,
        ["location"] = LocationId,
        ["metadata"] = Json.Map(Metadata),
        ["serial_number"] = SerialNumber,
        ["status"] = Offline ? "offline" : "online",
    };
}

public sealed class Intent
{
    public required string Id { get; init; }
    public string? Account { get; init; }
    public long Amount { get; init; }
    public required string Currency { get; init; }
    public string Status { get; set; } = "requires_payment_method";
    public string CaptureMethod { get; init; } = "automatic";
    public List<string> AllowedPaymentMethodTypes { get; init; } = [];
    public Dictionary<string, string> Metadata { get; init; } = [];
    public string? Description { get; set; }
    public long AmountCapturable { get; set; }
    public long AmountReceived { get; set; }
    public string? LatestCharge { get; set; }
    public string? PaymentMethod { get; set; }
    public JsonObject? LastPaymentError { get; set; }
    public long? CanceledAt { get; set; }
    public string? CancellationReason { get; set; }
    public long Created { get; init; }
    public long AmountRefunded { get; set; }

    public JsonObject ToJson() => new()
    {
        ["id"] = Id,
        ["object"] = "payment_intent",
        ["allowed_payment_method_types"] = new JsonArray([.. AllowedPaymentMethodTypes.Select(t => JsonValue.Create(t))]),
        ["amount"] = Amount,
        ["amount_capturable"] = AmountCapturable,
        ["amount_received"] = AmountReceived,
        ["canceled_at"] = CanceledAt,
        ["cancellation_reason"] = CancellationReason,
        ["capture_method"] = CaptureMethod,
        ["client_secret"] = $"{Id}_secret_fake",
        ["confirmation_method"] = "automatic",
        ["created"] = Created,
        ["currency"] = Currency,
        ["description"] = Description,
        ["last_payment_error"] = LastPaymentError?.DeepClone(),
        ["latest_charge"] = LatestCharge,
        ["livemode"] = false,
        ["metadata"] = Json.Map(Metadata),
        ["payment_method"] = PaymentMethod,
        ["status"] = Status,
    };
}

public sealed class Refund
{
    public required string Id { get; init; }
    public string? Account { get; init; }
    public required string PaymentIntentId { get; init; }
    public string? ChargeId { get; init; }
    public long Amount { get; init; }
    public required string Currency { get; init; }
    public string? Reason { get; init; }
    public Dictionary<string, string> Metadata { get; init; } = [];
    public long Created { get; init; }

    /// <summary><c>pending</c>, then <c>succeeded</c> or <c>failed</c> (https://docs.stripe.com/refunds#refund-statuses).</summary>
    public string Status { get; set; } = "pending";
    public string? FailureReason { get; set; }

    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["id"] = Id,
            ["object"] = "refund",
            ["amount"] = Amount,
            ["balance_transaction"] = null,
            ["charge"] = ChargeId,
            ["created"] = Created,
            ["currency"] = Currency,
            ["metadata"] = Json.Map(Metadata),
            ["payment_intent"] = PaymentIntentId,
            ["reason"] = Reason,
            ["receipt_number"] = null,
            ["source_transfer_reversal"] = null,
            ["status"] = Status,
            ["transfer_reversal"] = null,
        };
        if (FailureReason is not null)
        {
            json["failure_reason"] = FailureReason;
        }

        return json;
    }
}

/// <summary>The charge a card presentment creates (https://docs.stripe.com/api/charges/object).</summary>
public sealed class Charge
{
    public required string Id { get; init; }
    public string? Account { get; init; }
    public required string PaymentIntentId { get; init; }
    public required string PaymentMethodId { get; init; }
    public long Amount { get; init; }
    public long AmountCaptured { get; set; }
    public long AmountRefunded { get; set; }
    public bool Captured { get; set; }
    public required string Currency { get; init; }
    public Dictionary<string, string> Metadata { get; init; } = [];
    public long Created { get; init; }

    public JsonObject ToJson() => new()
    {
        ["id"] = Id,
        ["object"] = "charge",
        ["amount"] = Amount,
        ["amount_captured"] = AmountCaptured,
        ["amount_refunded"] = AmountRefunded,
        ["balance_transaction"] = null,
        ["billing_details"] = new JsonObject
        {
            ["address"] = null,
            ["email"] = null,
            ["name"] = null,
            ["phone"] = null,
        },
        ["calculated_statement_descriptor"] = "FIDPASS",
        ["captured"] = Captured,
        ["created"] = Created,
        ["currency"] = Currency,
        ["description"] = null,
        ["disputed"] = false,
        ["failure_code"] = null,
        ["failure_message"] = null,
        ["fraud_details"] = new JsonObject(),
        ["livemode"] = false,
        ["metadata"] = Json.Map(Metadata),
        ["outcome"] = null,
        ["paid"] = true,
        ["payment_intent"] = PaymentIntentId,
        ["payment_method"] = PaymentMethodId,
        ["receipt_email"] = null,
        ["receipt_number"] = null,
        ["receipt_url"] = null,
        ["refunded"] = AmountRefunded == AmountCaptured && AmountCaptured > 0,
        ["review"] = null,
        ["shipping"] = null,
        ["source_transfer"] = null,
        ["statement_descriptor"] = null,
        ["statement_descriptor_suffix"] = null,
        ["status"] = "succeeded",
        ["transfer_group"] = null,
    };
}

internal static class Json
{
    public static JsonObject Map(IReadOnlyDictionary<string, string> values)
    {
        var json = new JsonObject();
        foreach (var (key, value) in values)
        {
            json[key] = value;
        }

        return json;
    }

    public static JsonObject List(string url, IEnumerable<JsonObject> items, bool hasMore = false) => new()
    {
        ["object"] = "list",
        ["data"] = new JsonArray([.. items]),
        ["has_more"] = hasMore,
        ["url"] = url,
    };
}
