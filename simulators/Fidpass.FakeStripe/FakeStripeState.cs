using System.Globalization;
using System.Text.Json.Nodes;

namespace Fidpass.FakeStripe;

/// <summary>
/// Everything the fake Stripe account holds, in memory, behind one lock: locations, readers with
/// their single action slot, PaymentIntents with Stripe's status machine, refunds and the events
/// they raise. Every method runs under <see cref="Gate"/>.
/// </summary>
public sealed class FakeStripeState(TimeProvider clock, WebhookDispatcher webhooks, FakeStripeOptions options)
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private readonly Random _random = options.Seed is { } seed ? new Random(seed) : new Random();

    public object Gate { get; } = new();
    public Dictionary<string, Location> Locations { get; } = [];
    public Dictionary<string, Reader> Readers { get; } = [];
    public Dictionary<string, Intent> Intents { get; } = [];
    public Dictionary<string, Refund> Refunds { get; } = [];
    public Dictionary<string, Charge> Charges { get; } = [];

    /// <summary><c>succeeded</c> (default) or <c>failed</c>: how the next refund settles (control API).</summary>
    public string NextRefundOutcome { get; set; } = "succeeded";
    public List<RecordedRequest> Requests { get; } = [];
    public TimeProvider Clock => clock;
    public FakeStripeOptions Options => options;

    public long Now => clock.GetUtcNow().ToUnixTimeSeconds();

    public string NewId(string prefix, int length = 24) =>
        prefix + new string([.. Enumerable.Range(0, length).Select(_ => Alphabet[_random.Next(Alphabet.Length)])]);

    // ---------------------------------------------------------------- locations

    public FakeResponse CreateLocation(FakeCall call)
    {
        if (!call.Form.TryGetValue("display_name", out var name) || string.IsNullOrWhiteSpace(name))
        {
            return FakeResponse.Invalid("parameter_missing", "Missing required param: display_name.", "display_name");
        }

        // https://docs.stripe.com/api/terminal/locations/create: address is required, with country and line1 (city and postal code in France).
        foreach (var part in new[] { "country", "line1", "city", "postal_code" })
        {
            if (string.IsNullOrWhiteSpace(call.Form.GetValueOrDefault($"address[{part}]")))
            {
                return FakeResponse.Invalid("parameter_missing", $"Missing required param: address[{part}].", $"address[{part}]");
            }
        }

        var location = new Location
        {
            Id = NewId("tml_"),
            Account = call.Account,
            DisplayName = name,
            Address = call.Sub("address"),
            Metadata = call.Sub("metadata"),
            Created = Now,
        };
        Locations[location.Id] = location;
        return FakeResponse.Ok(location.ToJson());
    }

    public FakeResponse ListLocations(FakeCall call) => FakeResponse.Ok(Json.List(
        "/v1/terminal/locations",
        Locations.Values.Where(l => l.Account == call.Account).OrderByDescending(l => l.Created).Select(l => l.ToJson())));

    public FakeResponse GetLocation(FakeCall call, string id) =>
        FindLocation(call, id) is { } l ? FakeResponse.Ok(l.ToJson()) : FakeResponse.Missing("terminal.location", id);

    public FakeResponse DeleteLocation(FakeCall call, string id)
    {
        if (FindLocation(call, id) is null)
        {
            return FakeResponse.Missing("terminal.location", id);
        }

        Locations.Remove(id);
        return FakeResponse.Ok(new JsonObject { ["id"] = id, ["object"] = "terminal.location", ["deleted"] = true });
    }

    private Location? FindLocation(FakeCall call, string id) =>
        Locations.TryGetValue(id, out var l) && l.Account == call.Account ? l : null;

    // ---------------------------------------------------------------- readers

    public FakeResponse RegisterReader(FakeCall call)
    {
        var code = call.Form.GetValueOrDefault("registration_code");
        var deviceType = code switch
        {
            "simulated-wpe" => "simulated_wisepos_e",
            "simulated-s700" => "simulated_stripe_s700",
            "simulated-s710" => "simulated_stripe_s710",
            _ => null,
        };
        if (deviceType is null)
        {
            return FakeResponse.Invalid(
                "resource_missing", "The registration code you entered is invalid or has expired. Generate a new code on the reader and try again.",
                "registration_code");
        }

        var locationId = call.Form.GetValueOrDefault("location");
        if (locationId is null || FindLocation(call, locationId) is null)
        {
            return locationId is null
                ? FakeResponse.Invalid("parameter_missing", "Missing required param: location.", "location")
                : FakeResponse.Missing("terminal.location", locationId, "location");
        }

        var reader = new Reader
        {
            Id = NewId("tmr_"),
            Account = call.Account,
            Label = call.Form.GetValueOrDefault("label") ?? "Simulated reader",
            LocationId = locationId,
            DeviceType = deviceType,
            SerialNumber = $"{code}-{NewId("", 10)}",
            Metadata = call.Sub("metadata"),
            LastSeenAtMs = clock.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        Readers[reader.Id] = reader;
        return FakeResponse.Ok(reader.ToJson());
    }

    public FakeResponse ListReaders(FakeCall call)
    {
        var readers = Readers.Values.Where(r => r.Account == call.Account);
        if (call.Form.TryGetValue("location", out var location))
        {
            readers = readers.Where(r => r.LocationId == location);
        }

        if (call.Form.TryGetValue("status", out var status))
        {
            readers = readers.Where(r => (r.Offline ? "offline" : "online") == status);
        }

        return FakeResponse.Ok(Json.List("/v1/terminal/readers", readers.Select(Seen).Select(r => r.ToJson())));
    }

    public FakeResponse GetReader(FakeCall call, string id) =>
        FindReader(call, id) is { } r ? FakeResponse.Ok(Seen(r).ToJson()) : FakeResponse.Missing("terminal.reader", id);

    public FakeResponse UpdateReader(FakeCall call, string id)
    {
        if (FindReader(call, id) is not { } reader)
        {
            return FakeResponse.Missing("terminal.reader", id);
        }

        if (call.Form.TryGetValue("label", out var label))
        {
            reader.Label = label;
        }

        foreach (var (key, value) in call.Sub("metadata"))
        {
            reader.Metadata[key] = value;
        }

        return FakeResponse.Ok(reader.ToJson());
    }

    public FakeResponse DeleteReader(FakeCall call, string id)
    {
        if (FindReader(call, id) is not { } reader)
        {
            return FakeResponse.Missing("terminal.reader", id);
        }

        Readers.Remove(id);
        var json = reader.ToJson();
        json["deleted"] = true;
        return FakeResponse.Ok(json);
    }

    public Reader? FindReader(FakeCall call, string id) =>
        Readers.TryGetValue(id, out var r) && r.Account == call.Account ? r : null;

    private Reader Seen(Reader reader)
    {
        if (!reader.Offline)
        {
            reader.LastSeenAtMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
        }

        return reader;
    }

    /// <summary>The errors every reader action can meet before it reaches the reader (spec 3.2).</summary>
    private FakeResponse? ReaderRefuses(Reader reader)
    {
        if (reader.Offline)
        {
            return FakeResponse.Invalid("terminal_reader_offline", "Reader is currently offline, please ensure the reader is powered on and connected to the internet before retrying your request. Reference the integration guide at https://stripe.com/docs/terminal/payments/connect-reader#troubleshooting for help.");
        }

        if (reader.BusyUntil > clock.GetUtcNow() || reader.Action is { Authorizing: true, Status: "in_progress" })
        {
            return FakeResponse.Invalid("terminal_reader_busy", "Reader is currently busy processing another request. Please reference the integration guide at https://stripe.com/docs/terminal/payments/collect-payment?terminal-sdk-platform=server-driven#handle-errors for details on how to handle this error.");
        }

        return null;
    }

    private static FakeResponse? ArmedTimeout(Reader reader, Action apply)
    {
        if (reader.NextTimeout == TimeoutMode.None || reader.TimeoutCount <= 0)
        {
            return null;
        }

        var mode = reader.NextTimeout;
        if (--reader.TimeoutCount == 0)
        {
            reader.NextTimeout = TimeoutMode.None;
        }

        if (mode == TimeoutMode.Applied)
        {
            apply();
        }

        return FakeResponse.Invalid("terminal_reader_timeout", "There was a timeout when sending this command to the reader. Please retry your request.");
    }

    public FakeResponse ProcessPaymentIntent(FakeCall call, string id)
    {
        if (FindReader(call, id) is not { } reader)
        {
            return FakeResponse.Missing("terminal.reader", id);
        }

        if (ReaderRefuses(reader) is { } refused)
        {
            return refused;
        }

        var piId = call.Form.GetValueOrDefault("payment_intent");
        if (piId is null)
        {
            return FakeResponse.Invalid("parameter_missing", "Missing required param: payment_intent.", "payment_intent");
        }

        if (FindIntent(call, piId) is not { } intent)
        {
            return FakeResponse.Missing("payment_intent", piId, "payment_intent");
        }

        if (intent.Status != "requires_payment_method")
        {
            return FakeResponse.Error(400, "invalid_request_error", "intent_invalid_state",
                $"This PaymentIntent's status is {intent.Status}, but it must be requires_payment_method to be processed on a reader.",
                "payment_intent", paymentIntent: intent.ToJson());
        }

        void Apply()
        {
            // Replaces whatever had not started (a cart display or an unpaid payment), as Stripe does.
            reader.Action = new ReaderAction
            {
                Type = "process_payment_intent",
                PaymentIntentId = intent.Id,
                Config = call.Form.Where(p => p.Key.StartsWith("process_config[", StringComparison.Ordinal)).ToDictionary(),
            };

            // last_payment_error stays: "It will be cleared if the PaymentIntent is later updated for any reason"
            // (https://docs.stripe.com/api/payment_intents/object#payment_intent_object-last_payment_error).
        }

        if (ArmedTimeout(reader, Apply) is { } timeout)
        {
            return timeout;
        }

        Apply();
        return FakeResponse.Ok(reader.ToJson());
    }

    public FakeResponse SetReaderDisplay(FakeCall call, string id)
    {
        if (FindReader(call, id) is not { } reader)
        {
            return FakeResponse.Missing("terminal.reader", id);
        }

        if (ReaderRefuses(reader) is { } refused)
        {
            return refused;
        }

        static long? Integer(string? value) =>
            long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : null;

        // https://docs.stripe.com/api/terminal/readers/set_reader_display: type (cart) is required, and a cart needs currency and total.
        if (call.Form.GetValueOrDefault("type") is not { } type)
        {
            return FakeResponse.Invalid("parameter_missing", "Missing required param: type.", "type");
        }

        if (type != "cart")
        {
            return FakeResponse.Invalid("parameter_invalid_string", "Invalid type: must be cart.", "type");
        }

        foreach (var field in new[] { "cart[currency]", "cart[total]" })
        {
            if (!call.Form.ContainsKey(field))
            {
                return FakeResponse.Invalid("parameter_missing", $"Missing required param: {field}.", field);
            }
        }

        if (Integer(call.Form["cart[total]"]) is null)
        {
            return FakeResponse.Invalid("parameter_invalid_integer", "Invalid integer: cart[total].", "cart[total]");
        }

        var lines = new JsonArray();
        for (var i = 0; call.Form.ContainsKey($"cart[line_items][{i}][description]"); i++)
        {
            lines.Add(new JsonObject
            {
                ["amount"] = Integer(call.Form.GetValueOrDefault($"cart[line_items][{i}][amount]")),
                ["description"] = call.Form[$"cart[line_items][{i}][description]"],
                ["quantity"] = Integer(call.Form.GetValueOrDefault($"cart[line_items][{i}][quantity]")),
            });
        }

        var cart = new JsonObject
        {
            ["currency"] = call.Form.GetValueOrDefault("cart[currency]"),
            ["tax"] = Integer(call.Form.GetValueOrDefault("cart[tax]")),
            ["total"] = Integer(call.Form.GetValueOrDefault("cart[total]")) ?? 0,
            ["line_items"] = lines,
        };

        // Like Stripe: a display replaces a payment that has not started (the PaymentIntent stays requires_payment_method).
        reader.Action = new ReaderAction { Type = "set_reader_display", Cart = cart };
        return FakeResponse.Ok(reader.ToJson());
    }

    public FakeResponse CancelAction(FakeCall call, string id)
    {
        if (FindReader(call, id) is not { } reader)
        {
            return FakeResponse.Missing("terminal.reader", id);
        }

        if (ReaderRefuses(reader) is { } refused)
        {
            return refused;
        }

        // No webhook for cancel_action; the PaymentIntent stays requires_payment_method and re-usable.
        reader.Action = null;
        return FakeResponse.Ok(reader.ToJson());
    }

    /// <summary><c>POST /v1/test_helpers/terminal/readers/{id}/present_payment_method</c>: the customer taps a card.</summary>
    public FakeResponse PresentPaymentMethod(FakeCall call, string id)
    {
        if (FindReader(call, id) is not { } reader)
        {
            return FakeResponse.Missing("terminal.reader", id);
        }

        if (!reader.IsSimulated)
        {
            return FakeResponse.Invalid("terminal_reader_not_simulated", "Test helpers can only be used with simulated readers.");
        }

        if (reader.Action is not { Type: "process_payment_intent", Status: "in_progress", Authorizing: false } action)
        {
            return FakeResponse.Invalid("terminal_reader_action_unexpected", "The reader has no payment in progress to present a payment method to.");
        }

        if (reader.Stuck)
        {
            // The reader hangs: the tap never reaches Stripe and the action stays in_progress.
            return FakeResponse.Ok(reader.ToJson());
        }

        var number = call.Form.GetValueOrDefault("card_present[number]") ?? call.Form.GetValueOrDefault("card[number]") ?? "4242424242424242";
        var tip = long.TryParse(call.Form.GetValueOrDefault("amount_tip"), NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : 0;
        var intent = Intents[action.PaymentIntentId!];
        var decline = DeclineFor(number, intent.Amount);

        if ((reader.AuthorizingMs ?? options.AuthorizingMilliseconds) is > 0 and var authorizing)
        {
            action.Authorizing = true;
            _ = FinishLaterAsync(reader, action, intent, decline, tip, authorizing);
            return FakeResponse.Ok(reader.ToJson());
        }

        Finish(reader, action, intent, decline, tip);
        return FakeResponse.Ok(reader.ToJson());
    }

    private async Task FinishLaterAsync(Reader reader, ReaderAction action, Intent intent, (string Code, string Message)? decline, long tip, int milliseconds)
    {
        await Task.Delay(milliseconds);
        lock (Gate)
        {
            if (reader.Action == action)
            {
                Finish(reader, action, intent, decline, tip);
            }
        }
    }

    /// <summary>Cards and test amounts of Stripe's Terminal testing page (spec 6.1 point 5).</summary>
    private (string Code, string Message)? DeclineFor(string number, long amount)
    {
        switch (number)
        {
            // https://docs.stripe.com/terminal/references/testing#test-cards: "Charge is declined with a card_declined code"
            // and the decline code of the testing table, generic_decline (https://docs.stripe.com/testing#declined-payments).
            case "4000000000000002":
                return ("generic_decline", "Your card was declined.");
            case "4000000000009995":
                return ("insufficient_funds", "Your card has insufficient funds.");
            default:
                break;
        }

        if (!options.HonourTestAmounts)
        {
            return null;
        }

        return (amount % 100) switch
        {
            1 => ("call_issuer", "Your card was declined."),
            5 => ("generic_decline", "Your card was declined."),
            55 => ("incorrect_pin", "The PIN entered is incorrect."),
            65 => ("withdrawal_count_limit_exceeded", "Your card was declined."),
            75 => ("pin_try_exceeded", "The allowable number of PIN tries was exceeded."),
            _ => null,
        };
    }

    private void Finish(Reader reader, ReaderAction action, Intent intent, (string Code, string Message)? decline, long tip)
    {
        action.Authorizing = false;
        intent.PaymentMethod = NewId("pm_");
        if (decline is { } d)
        {
            action.Status = "failed";
            action.FailureCode = "card_declined";
            action.FailureMessage = d.Message;
            intent.Status = "requires_payment_method";
            intent.LastPaymentError = new JsonObject
            {
                ["type"] = "card_error",
                ["code"] = "card_declined",
                ["decline_code"] = d.Code,
                ["doc_url"] = "https://stripe.com/docs/error-codes/card-declined",
                ["message"] = d.Message,
            };
            action.ApiError = (JsonObject)intent.LastPaymentError.DeepClone();
            Raise(intent.Account, "terminal.reader.action_failed", reader.ToJson(), "payment_intent.payment_failed", intent.ToJson());
            return;
        }

        action.Status = "succeeded";
        intent.LastPaymentError = null;
        intent.LatestCharge = NewId("ch_");
        var total = intent.Amount + tip;
        Charges[intent.LatestCharge] = new Charge
        {
            Id = intent.LatestCharge,
            Account = intent.Account,
            PaymentIntentId = intent.Id,
            PaymentMethodId = intent.PaymentMethod!,
            Amount = total,
            Captured = intent.CaptureMethod != "manual",
            AmountCaptured = intent.CaptureMethod != "manual" ? total : 0,
            Currency = intent.Currency,
            Metadata = new Dictionary<string, string>(intent.Metadata),
            Created = Now,
        };
        if (intent.CaptureMethod == "manual")
        {
            intent.Status = "requires_capture";
            intent.AmountCapturable = total;
            Raise(intent.Account, "terminal.reader.action_succeeded", reader.ToJson(), "payment_intent.amount_capturable_updated", intent.ToJson());
        }
        else
        {
            intent.Status = "succeeded";
            intent.AmountReceived = total;
            Raise(intent.Account, "terminal.reader.action_succeeded", reader.ToJson(), "payment_intent.succeeded", intent.ToJson());
        }
    }

    // ---------------------------------------------------------------- payment intents

    public FakeResponse CreatePaymentIntent(FakeCall call)
    {
        if (call.Form.Keys.Any(k => k.StartsWith("payment_method_types", StringComparison.Ordinal)))
        {
            return FakeResponse.Invalid("payment_method_types_no_longer_supported",
                "The parameter payment_method_types is no longer supported on this API version; use allowed_payment_method_types.", "payment_method_types");
        }

        if (!long.TryParse(call.Form.GetValueOrDefault("amount"), NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount < 1)
        {
            return FakeResponse.Invalid("parameter_invalid_integer", "Invalid integer: amount must be a positive integer in the smallest currency unit.", "amount");
        }

        if (call.Form.GetValueOrDefault("currency") is not { Length: 3 } currency)
        {
            return FakeResponse.Invalid("parameter_missing", "Missing required param: currency.", "currency");
        }

        // https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts: 0.50 € at least, eight digits at most.
        if (currency.Equals("eur", StringComparison.OrdinalIgnoreCase) && amount < 50)
        {
            return FakeResponse.Invalid("amount_too_small", "Amount must be at least €0.50 eur", "amount");
        }

        if (amount > 99_999_999)
        {
            return FakeResponse.Invalid("amount_too_large", "Amount must be no more than €999,999.99", "amount");
        }

        var allowed = call.Form.Where(p => p.Key.StartsWith("allowed_payment_method_types[", StringComparison.Ordinal)).Select(p => p.Value).ToList();
        if (allowed.FirstOrDefault(t => !PaymentMethodTypes.Contains(t)) is { } unknown)
        {
            return FakeResponse.Invalid("parameter_invalid_string",
                $"Invalid allowed_payment_method_types[]: '{unknown}' is not a valid payment method type.", "allowed_payment_method_types");
        }

        var capture = call.Form.GetValueOrDefault("capture_method") ?? "automatic";
        if (capture is not ("automatic" or "automatic_async" or "manual"))
        {
            return FakeResponse.Invalid("parameter_invalid_string", "Invalid capture_method.", "capture_method");
        }

        var intent = new Intent
        {
            Id = NewId("pi_"),
            Account = call.Account,
            Amount = amount,
            Currency = currency.ToLowerInvariant(),
            CaptureMethod = capture == "manual" ? "manual" : "automatic",
            AllowedPaymentMethodTypes = allowed,
            Metadata = call.Sub("metadata"),
            Description = call.Form.GetValueOrDefault("description"),
            Created = Now,
        };
        Intents[intent.Id] = intent;
        Raise(intent.Account, "payment_intent.created", intent.ToJson());
        return FakeResponse.Ok(intent.ToJson());
    }

    /// <summary>Payment method types of the PaymentIntent API (https://docs.stripe.com/api/payment_intents/object#payment_intent_object-payment_method_types).</summary>
    private static readonly HashSet<string> PaymentMethodTypes =
    [
        "acss_debit", "affirm", "afterpay_clearpay", "alipay", "amazon_pay", "au_becs_debit", "bacs_debit", "bancontact", "blik", "boleto",
        "card", "card_present", "cashapp", "customer_balance", "eps", "fpx", "giropay", "grabpay", "ideal", "interac_present", "klarna",
        "konbini", "link", "mobilepay", "multibanco", "oxxo", "p24", "paynow", "paypal", "pix", "promptpay", "revolut_pay", "sepa_debit",
        "sofort", "swish", "twint", "us_bank_account", "wechat_pay", "zip",
    ];

    /// <summary>https://docs.stripe.com/api/payment_intents/cancel#cancel_payment_intent-cancellation_reason.</summary>
    private static readonly HashSet<string> CancellationReasons = ["abandoned", "duplicate", "fraudulent", "requested_by_customer"];

    public Intent? FindIntent(FakeCall call, string id) =>
        Intents.TryGetValue(id, out var i) && i.Account == call.Account ? i : null;

    public FakeResponse GetPaymentIntent(FakeCall call, string id) =>
        FindIntent(call, id) is { } i ? FakeResponse.Ok(i.ToJson()) : FakeResponse.Missing("payment_intent", id);

    public FakeResponse UpdatePaymentIntent(FakeCall call, string id)
    {
        if (FindIntent(call, id) is not { } intent)
        {
            return FakeResponse.Missing("payment_intent", id);
        }

        foreach (var (key, value) in call.Sub("metadata"))
        {
            intent.Metadata[key] = value;
        }

        if (call.Form.TryGetValue("description", out var description))
        {
            intent.Description = description;
        }

        // "It will be cleared if the PaymentIntent is later updated for any reason."
        intent.LastPaymentError = null;
        return FakeResponse.Ok(intent.ToJson());
    }

    public FakeResponse CapturePaymentIntent(FakeCall call, string id)
    {
        if (FindIntent(call, id) is not { } intent)
        {
            return FakeResponse.Missing("payment_intent", id);
        }

        if (intent.Status != "requires_capture")
        {
            return FakeResponse.Error(400, "invalid_request_error", "payment_intent_unexpected_state",
                $"This PaymentIntent could not be captured because it has a status of {intent.Status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.",
                paymentIntent: intent.ToJson());
        }

        var amount = long.TryParse(call.Form.GetValueOrDefault("amount_to_capture"), out var a) ? a : intent.AmountCapturable;
        if (amount < 1 || amount > intent.AmountCapturable)
        {
            return FakeResponse.Invalid("amount_too_large", "The amount to capture is larger than the amount capturable.", "amount_to_capture");
        }

        intent.Status = "succeeded";
        intent.AmountReceived = amount;
        intent.AmountCapturable = 0;
        if (intent.LatestCharge is { } chargeId && Charges.TryGetValue(chargeId, out var charge))
        {
            charge.Captured = true;
            charge.AmountCaptured = amount;
        }

        Raise(intent.Account, "payment_intent.succeeded", intent.ToJson());
        return FakeResponse.Ok(intent.ToJson());
    }

    public FakeResponse CancelPaymentIntent(FakeCall call, string id)
    {
        if (FindIntent(call, id) is not { } intent)
        {
            return FakeResponse.Missing("payment_intent", id);
        }

        if (intent.Status is "succeeded" or "canceled")
        {
            return FakeResponse.Error(400, "invalid_request_error", "payment_intent_unexpected_state",
                $"You cannot cancel this PaymentIntent because it has a status of {intent.Status}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.",
                paymentIntent: intent.ToJson());
        }

        var reason = call.Form.GetValueOrDefault("cancellation_reason");
        if (reason is not null && !CancellationReasons.Contains(reason))
        {
            return FakeResponse.Invalid("parameter_invalid_string",
                "Invalid cancellation_reason: must be one of abandoned, duplicate, fraudulent, or requested_by_customer", "cancellation_reason");
        }

        foreach (var reader in Readers.Values.Where(r => r.Action?.PaymentIntentId == intent.Id && r.Action.Status == "in_progress"))
        {
            if (reader.Action!.Authorizing)
            {
                return FakeResponse.Invalid("terminal_reader_busy", "Reader is currently busy processing another request.");
            }

            reader.Action = null;
        }

        intent.Status = "canceled";
        intent.AmountCapturable = 0;
        intent.CanceledAt = Now;
        intent.CancellationReason = reason;
        Raise(intent.Account, "payment_intent.canceled", intent.ToJson());
        return FakeResponse.Ok(intent.ToJson());
    }

    // ---------------------------------------------------------------- refunds, tokens, events

    public FakeResponse CreateRefund(FakeCall call)
    {
        var piId = call.Form.GetValueOrDefault("payment_intent");
        if (piId is null || FindIntent(call, piId) is not { } intent)
        {
            return piId is null
                ? FakeResponse.Invalid("parameter_missing", "Missing required param: payment_intent.", "payment_intent")
                : FakeResponse.Missing("payment_intent", piId, "payment_intent");
        }

        if (intent.Status != "succeeded")
        {
            return FakeResponse.Error(400, "invalid_request_error", "payment_intent_unexpected_state",
                "This PaymentIntent does not have a successful charge to refund.", "payment_intent", paymentIntent: intent.ToJson());
        }

        var remaining = intent.AmountReceived - intent.AmountRefunded;
        var amount = call.Form.TryGetValue("amount", out var raw) ? long.Parse(raw, CultureInfo.InvariantCulture) : remaining;
        if (remaining == 0)
        {
            return FakeResponse.Invalid("charge_already_refunded", $"Charge {intent.LatestCharge} has already been refunded.");
        }

        if (amount < 1 || amount > remaining)
        {
            return FakeResponse.Invalid("amount_too_large", $"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining}).", "amount");
        }

        intent.AmountRefunded += amount;
        var charge = intent.LatestCharge is { } chargeId ? Charges.GetValueOrDefault(chargeId) : null;
        charge?.AmountRefunded += amount;
        var refund = new Refund
        {
            Id = NewId("re_"),
            Account = call.Account,
            PaymentIntentId = intent.Id,
            ChargeId = intent.LatestCharge,
            Amount = amount,
            Currency = intent.Currency,
            Reason = call.Form.GetValueOrDefault("reason"),
            Metadata = call.Sub("metadata"),
            Created = Now,
        };
        Refunds[refund.Id] = refund;
        Raise(intent.Account, "refund.created", refund.ToJson(), charge is null ? null : "charge.refunded", charge?.ToJson());
        var outcome = NextRefundOutcome;
        NextRefundOutcome = "succeeded";
        _ = SettleLaterAsync(refund, intent, charge, outcome);
        return FakeResponse.Ok(refund.ToJson());
    }

    /// <summary>
    /// A refund is <c>pending</c> until the card network settles it, then <c>succeeded</c> or
    /// <c>failed</c> (https://docs.stripe.com/refunds#failed-refunds: the amount returns to the
    /// balance, <c>refund.failed</c> is sent); each change raises <c>refund.updated</c> and <c>charge.refund.updated</c>.
    /// </summary>
    private async Task SettleLaterAsync(Refund refund, Intent intent, Charge? charge, string outcome)
    {
        await Task.Delay(options.RefundSettleMilliseconds);
        lock (Gate)
        {
            if (outcome == "failed")
            {
                refund.Status = "failed";
                refund.FailureReason = "expired_or_canceled_card";
                intent.AmountRefunded -= refund.Amount;
                charge?.AmountRefunded -= refund.Amount;
                Raise(refund.Account, "refund.failed", refund.ToJson(), "refund.updated", refund.ToJson());
            }
            else
            {
                refund.Status = "succeeded";
                Raise(refund.Account, "refund.updated", refund.ToJson());
            }

            Raise(refund.Account, "charge.refund.updated", refund.ToJson());
        }
    }

    public FakeResponse GetCharge(FakeCall call, string id) =>
        Charges.TryGetValue(id, out var c) && c.Account == call.Account ? FakeResponse.Ok(c.ToJson()) : FakeResponse.Missing("charge", id);

    /// <summary>The reader gives up without a decline: the action fails, the PaymentIntent is untouched and re-usable.</summary>
    public FakeResponse FailReaderAction(string id, string code)
    {
        if (!Readers.TryGetValue(id, out var reader))
        {
            return FakeResponse.Missing("terminal.reader", id);
        }

        if (reader.Action is not { Type: "process_payment_intent", Status: "in_progress", Authorizing: false } action)
        {
            return FakeResponse.Invalid("terminal_reader_action_unexpected", "The reader has no payment in progress.");
        }

        action.Status = "failed";
        action.FailureCode = code;
        (action.FailureMessage, action.ApiError) = code switch
        {
            "customer_canceled" => ("The customer canceled the payment on the reader.", null),
            "card_read_timed_out" => ("The reader timed out waiting for a card.", null),
            _ => ("An error occurred while processing the payment.", new JsonObject { ["type"] = "api_error", ["message"] = "An unknown error occurred." }),
        };
        Raise(reader.Account, "terminal.reader.action_failed", reader.ToJson());
        return FakeResponse.Ok(reader.ToJson());
    }

    public FakeResponse GetRefund(FakeCall call, string id) =>
        Refunds.TryGetValue(id, out var r) && r.Account == call.Account ? FakeResponse.Ok(r.ToJson()) : FakeResponse.Missing("refund", id);

    public FakeResponse ListRefunds(FakeCall call)
    {
        var refunds = Refunds.Values.Where(r => r.Account == call.Account);
        if (call.Form.TryGetValue("payment_intent", out var pi))
        {
            refunds = refunds.Where(r => r.PaymentIntentId == pi);
        }

        return FakeResponse.Ok(Json.List("/v1/refunds", refunds.OrderByDescending(r => r.Created).Select(r => r.ToJson())));
    }

    public FakeResponse CreateConnectionToken(FakeCall call)
    {
        var location = call.Form.GetValueOrDefault("location");
        if (location is not null && FindLocation(call, location) is null)
        {
            return FakeResponse.Missing("terminal.location", location, "location");
        }

        // location is optional but never null in the spec: absent when the token is not scoped.
        var token = new JsonObject { ["object"] = "terminal.connection_token", ["secret"] = NewId("pst_test_", 40) };
        if (location is not null)
        {
            token["location"] = location;
        }

        return FakeResponse.Ok(token);
    }

    public FakeResponse GetEvent(FakeCall call, string id) =>
        webhooks.Find(id) is { } e && e["account"]?.GetValue<string>() == call.Account
            ? FakeResponse.Ok(e.DeepClone())
            : FakeResponse.Missing("event", id);

    /// <summary>Records the events of one state change; they are delivered together (possibly reordered).</summary>
    private void Raise(string? account, string type, JsonObject obj, string? type2 = null, JsonObject? obj2 = null)
    {
        var batch = new List<JsonObject> { NewEvent(account, type, obj) };
        if (type2 is not null)
        {
            batch.Add(NewEvent(account, type2, obj2!));
        }

        webhooks.Enqueue(batch);
    }

    private JsonObject NewEvent(string? account, string type, JsonObject obj)
    {
        var evt = new JsonObject
        {
            ["id"] = NewId("evt_"),
            ["object"] = "event",
            ["api_version"] = webhooks.Settings.ApiVersion ?? options.ApiVersion,
            ["created"] = Now,
            ["data"] = new JsonObject { ["object"] = obj },
            ["livemode"] = false,
            ["pending_webhooks"] = 1,
            ["request"] = new JsonObject { ["id"] = NewId("req_", 14), ["idempotency_key"] = null },
            ["type"] = type,
        };

        // Only connected accounts' events carry account (optional, never null, in the spec).
        if (account is not null)
        {
            evt["account"] = account;
        }

        return evt;
    }
}
