using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Fidpass.FakeStripe;

/// <summary>One API call: the form (or query) flattened to Stripe's bracket keys.</summary>
public sealed record FakeCall(string Method, string Path, IReadOnlyDictionary<string, string> Form, string? Account)
{
    /// <summary>The entries of a hash parameter: <c>metadata[k]=v</c> → <c>{k: v}</c>.</summary>
    public Dictionary<string, string> Sub(string name) => Form
        .Where(p => p.Key.StartsWith(name + "[", StringComparison.Ordinal) && p.Key.EndsWith(']'))
        .ToDictionary(p => p.Key[(name.Length + 1)..^1], p => p.Value);
}

/// <summary>A 5xx/409 armed for the next calls of one route.</summary>
public sealed record Fault(string Method, string PathPrefix, int Status, int Remaining, bool? ShouldRetry);

public static class FakeStripeServer
{
    private sealed record StoredReply(string Fingerprint, FakeResponse Response, DateTimeOffset At);

    /// <summary>How long Stripe keeps a key's answer (https://docs.stripe.com/api/idempotent_requests: "at least 24 hours old").</summary>
    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

    /// <summary>Secret keys as Stripe issues them: <c>sk_test_</c> or <c>rk_test_</c>, then letters and digits (https://docs.stripe.com/keys).</summary>
    public static bool IsTestKey(string key) =>
        (key.StartsWith("sk_test_", StringComparison.Ordinal) || key.StartsWith("rk_test_", StringComparison.Ordinal))
        && key.Length is >= 32 and <= 255 && key[8..].All(char.IsAsciiLetterOrDigit);

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls("http://127.0.0.1:12111");
        }

        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        var options = builder.Configuration.GetSection("FakeStripe").Get<FakeStripeOptions>() ?? new FakeStripeOptions();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<WebhookDispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        builder.Services.AddSingleton<FakeStripeState>();

        var app = builder.Build();
        var state = app.Services.GetRequiredService<FakeStripeState>();
        var webhooks = app.Services.GetRequiredService<WebhookDispatcher>();
        var idempotency = new Dictionary<string, StoredReply>();
        var faults = new List<Fault>();

        app.Map("/v1/{**path}", async (HttpContext http) =>
        {
            var request = http.Request;
            var form = await ReadParametersAsync(request);
            var account = request.Headers["Stripe-Account"].FirstOrDefault();
            var key = request.Headers["Idempotency-Key"].FirstOrDefault();
            var call = new FakeCall(request.Method, request.Path.Value!, form, account);

            FakeResponse response;
            var replayed = false;
            Reader? slowReader = null;
            lock (state.Gate)
            {
                var apiKey = ApiKeyOf(request.Headers.Authorization.ToString());
                var fingerprint = $"{call.Method} {call.Path} {string.Join('&', form.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"))}";
                var slot = $"{apiKey}|{account}|{key}";
                if (apiKey is null || !IsTestKey(apiKey) || (options.ApiKey is { } expected && apiKey != expected))
                {
                    response = FakeResponse.Error(401, "invalid_request_error", null,
                        apiKey is null
                            ? "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
                            : "Invalid API Key provided: " + Mask(apiKey));
                }
                else if (key is { Length: > 255 })
                {
                    response = FakeResponse.Invalid("parameter_invalid_string", "Idempotency-Key must be at most 255 characters long.");
                }
                else if (call.Method == "POST" && key is not null && idempotency.TryGetValue(slot, out var stored)
                    && state.Clock.GetUtcNow() - stored.At < IdempotencyWindow)
                {
                    response = stored.Fingerprint == fingerprint
                        ? stored.Response
                        : FakeResponse.Error(400, "idempotency_error", null,
                            $"Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request.");
                    replayed = stored.Fingerprint == fingerprint;
                }
                else
                {
                    if (faults.FirstOrDefault(f => f.Method == call.Method && call.Path.StartsWith(f.PathPrefix, StringComparison.Ordinal)) is { } fault)
                    {
                        faults.Remove(fault);
                        if (fault.Remaining > 1)
                        {
                            faults.Add(fault with { Remaining = fault.Remaining - 1 });
                        }

                        response = fault.Status == 409
                            ? FakeResponse.Error(409, "invalid_request_error", "lock_timeout", "This object cannot be accessed right now because another API request or Stripe process is currently accessing it.", shouldRetry: fault.ShouldRetry)
                            : FakeResponse.Error(fault.Status, "api_error", null, "An unknown error occurred.", shouldRetry: fault.ShouldRetry);
                    }
                    else
                    {
                        response = Route(state, call);
                    }

                    // Like Stripe, the first answer is kept for the key, errors and 500s included, unless the request never started executing.
                    if (call.Method == "POST" && key is not null && response.Replayable)
                    {
                        idempotency[slot] = new StoredReply(fingerprint, response, state.Clock.GetUtcNow());
                    }
                }

                if (call.Path.EndsWith("/process_payment_intent", StringComparison.Ordinal))
                {
                    slowReader = state.Readers.Values.FirstOrDefault(r => call.Path.Contains(r.Id, StringComparison.Ordinal) && r.AcknowledgeDelayMs > 0);
                }

                state.Requests.Add(new RecordedRequest(
                    state.Clock.GetUtcNow(), call.Method, call.Path, form, key, account,
                    request.Headers["Stripe-Version"].FirstOrDefault(), response.Status, replayed));
            }

            if (slowReader is not null)
            {
                await Task.Delay(slowReader.AcknowledgeDelayMs, http.RequestAborted);
            }

            http.Response.StatusCode = response.Status;
            http.Response.Headers["Request-Id"] = state.NewId("req_", 14);
            http.Response.Headers["Stripe-Version"] = options.ApiVersion;
            if (replayed)
            {
                http.Response.Headers["Idempotent-Replayed"] = "true";
            }

            if (key is not null)
            {
                http.Response.Headers["Idempotency-Key"] = key;
            }

            if (response.ShouldRetry is { } retry)
            {
                http.Response.Headers["Stripe-Should-Retry"] = retry ? "true" : "false";
            }

            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(response.Body.ToJsonString(), http.RequestAborted);
        });

        MapControl(app, state, webhooks, faults);
        return app;
    }

    /// <summary>Bearer, or Basic with the key as user name (what <c>curl -u sk_test_…:</c> sends), as Stripe accepts both.</summary>
    private static string? ApiKeyOf(string authorization)
    {
        if (authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return authorization[7..];
        }

        if (authorization.StartsWith("Basic ", StringComparison.Ordinal))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..]));
                return decoded.Split(':')[0] is { Length: > 0 } key ? key : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }

    private static string Mask(string key) => key.Length <= 8 ? "****" : key[..7] + new string('*', Math.Max(0, key.Length - 11)) + key[^4..];

    private static async Task<Dictionary<string, string>> ReadParametersAsync(HttpRequest request)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in request.Query)
        {
            values[k] = v.ToString();
        }

        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync();
            foreach (var (k, v) in form)
            {
                values[k] = v.ToString();
            }
        }

        return values;
    }

    private static FakeResponse Route(FakeStripeState s, FakeCall c)
    {
        var seg = c.Path.Trim('/').Split('/');
        return (c.Method, seg) switch
        {
            ("POST", ["v1", "terminal", "locations"]) => s.CreateLocation(c),
            ("GET", ["v1", "terminal", "locations"]) => s.ListLocations(c),
            ("GET", ["v1", "terminal", "locations", var id]) => s.GetLocation(c, id),
            ("DELETE", ["v1", "terminal", "locations", var id]) => s.DeleteLocation(c, id),
            ("POST", ["v1", "terminal", "readers"]) => s.RegisterReader(c),
            ("GET", ["v1", "terminal", "readers"]) => s.ListReaders(c),
            ("GET", ["v1", "terminal", "readers", var id]) => s.GetReader(c, id),
            ("POST", ["v1", "terminal", "readers", var id]) => s.UpdateReader(c, id),
            ("DELETE", ["v1", "terminal", "readers", var id]) => s.DeleteReader(c, id),
            ("POST", ["v1", "terminal", "readers", var id, "process_payment_intent"]) => s.ProcessPaymentIntent(c, id),
            ("POST", ["v1", "terminal", "readers", var id, "set_reader_display"]) => s.SetReaderDisplay(c, id),
            ("POST", ["v1", "terminal", "readers", var id, "cancel_action"]) => s.CancelAction(c, id),
            ("POST", ["v1", "test_helpers", "terminal", "readers", var id, "present_payment_method"]) => s.PresentPaymentMethod(c, id),
            ("POST", ["v1", "terminal", "connection_tokens"]) => s.CreateConnectionToken(c),
            ("POST", ["v1", "payment_intents"]) => s.CreatePaymentIntent(c),
            ("GET", ["v1", "payment_intents", var id]) => s.GetPaymentIntent(c, id),
            ("POST", ["v1", "payment_intents", var id]) => s.UpdatePaymentIntent(c, id),
            ("POST", ["v1", "payment_intents", var id, "capture"]) => s.CapturePaymentIntent(c, id),
            ("POST", ["v1", "payment_intents", var id, "cancel"]) => s.CancelPaymentIntent(c, id),
            ("POST", ["v1", "refunds"]) => s.CreateRefund(c),
            ("GET", ["v1", "refunds"]) => s.ListRefunds(c),
            ("GET", ["v1", "refunds", var id]) => s.GetRefund(c, id),
            ("GET", ["v1", "charges", var id]) => s.GetCharge(c, id),
            ("GET", ["v1", "events", var id]) => s.GetEvent(c, id),
            _ => FakeResponse.Error(404, "invalid_request_error", null, $"Unrecognized request URL ({c.Method}: {c.Path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."),
        };
    }

    /// <summary>Private control API (<c>/__fake/…</c>): faults, card presentment, delivery modes, request log.</summary>
    private static void MapControl(WebApplication app, FakeStripeState state, WebhookDispatcher webhooks, List<Fault> faults)
    {
        var control = app.MapGroup("/__fake");

        control.MapGet("/requests", () => { lock (state.Gate) { return Results.Ok(state.Requests.ToList()); } });
        control.MapDelete("/requests", () => { lock (state.Gate) { state.Requests.Clear(); } return Results.NoContent(); });
        control.MapGet("/readers", () => { lock (state.Gate) { return Results.Text(new JsonArray([.. state.Readers.Values.Select(r => r.ToJson())]).ToJsonString(), "application/json"); } });

        control.MapPost("/readers/{id}/offline", (string id) => WithReader(state, id, r => r.Offline = true));
        control.MapPost("/readers/{id}/online", (string id) => WithReader(state, id, r => r.Offline = false));
        control.MapPost("/readers/{id}/busy", (string id, int seconds) =>
            WithReader(state, id, r => r.BusyUntil = state.Clock.GetUtcNow().AddSeconds(seconds)));
        control.MapPost("/readers/{id}/timeout", (string id, string mode, int? count) =>
            WithReader(state, id, r =>
            {
                r.NextTimeout = mode == "applied" ? TimeoutMode.Applied : TimeoutMode.Lost;
                r.TimeoutCount = count ?? 1;
            }));
        control.MapPost("/readers/{id}/stuck", (string id, bool? on) => WithReader(state, id, r => r.Stuck = on ?? true));
        control.MapPost("/readers/{id}/authorizing", (string id, int milliseconds) => WithReader(state, id, r => r.AuthorizingMs = milliseconds));
        control.MapPost("/readers/{id}/slow", (string id, int milliseconds) => WithReader(state, id, r => r.AcknowledgeDelayMs = milliseconds));
        // A reader-side failure other than a decline: customer_canceled, card_read_timed_out, or api_error (spec 3.1).
        control.MapPost("/readers/{id}/fail", (string id, string code) =>
        {
            lock (state.Gate)
            {
                var response = state.FailReaderAction(id, code);
                return Results.Text(response.Body.ToJsonString(), "application/json", Encoding.UTF8, response.Status);
            }
        });
        control.MapPost("/refunds/next", (string outcome, int? settleMilliseconds) =>
        {
            lock (state.Gate)
            {
                state.NextRefundOutcome = outcome;
                if (settleMilliseconds is { } ms)
                {
                    state.Options.RefundSettleMilliseconds = ms;
                }
            }

            return Results.NoContent();
        });
        control.MapPost("/readers/{id}/present", (string id, string? number) =>
        {
            lock (state.Gate)
            {
                if (!state.Readers.TryGetValue(id, out var reader))
                {
                    return Results.NotFound();
                }

                var form = new Dictionary<string, string> { ["type"] = "card_present", ["card_present[number]"] = number ?? "4242424242424242" };
                var response = state.PresentPaymentMethod(new FakeCall("POST", $"/__fake/readers/{id}/present", form, reader.Account), id);
                return Results.Text(response.Body.ToJsonString(), "application/json", Encoding.UTF8, response.Status);
            }
        });

        control.MapPost("/faults", (string method, string path, int status, int? count, bool? shouldRetry) =>
        {
            lock (state.Gate)
            {
                faults.Add(new Fault(method.ToUpperInvariant(), path, status, count ?? 1, shouldRetry));
            }

            return Results.NoContent();
        });
        control.MapDelete("/faults", () =>
        {
            lock (state.Gate)
            {
                faults.Clear();
            }

            return Results.NoContent();
        });
        control.MapPost("/webhooks", (string? mode, int? delayMilliseconds, string? signature, string? apiVersion, string? target) =>
        {
            webhooks.Settings = new WebhookSettings
            {
                Mode = mode ?? "normal",
                DelayMilliseconds = delayMilliseconds ?? 0,
                Signature = signature ?? "valid",
                ApiVersion = apiVersion,
            };
            if (target is not null)
            {
                webhooks.Target = new Uri(target);
            }

            return Results.NoContent();
        });
        control.MapGet("/events", () => Results.Text(new JsonArray([.. webhooks.Events]).ToJsonString(), "application/json"));
        control.MapPost("/events/{id}/deliver", async (string id, CancellationToken ct) =>
            webhooks.Find(id) is { } evt
                ? Results.Ok(new { status = await webhooks.DeliverAsync((JsonObject)evt.DeepClone(), new WebhookSettings(), ct) })
                : Results.NotFound());

        // A page to "present a card" on the simulated readers when the whole platform runs offline.
        app.MapGet("/", () =>
        {
            var html = new StringBuilder("<!doctype html><html lang=\"fr\"><meta charset=\"utf-8\"><title>Faux Stripe</title><body style=\"font-family:sans-serif\"><h1>Faux Stripe : lecteurs simulés</h1>");
            lock (state.Gate)
            {
                foreach (var reader in state.Readers.Values)
                {
                    var action = reader.Action is { } a ? $"{a.Type} ({a.Status})" : "aucune action";
                    var intent = reader.Action?.PaymentIntentId is { } pi && state.Intents.TryGetValue(pi, out var i)
                        ? $" — {(i.Amount / 100m).ToString("0.00", CultureInfo.GetCultureInfo("fr-FR"))} {i.Currency.ToUpperInvariant()}" : "";
                    html.Append(CultureInfo.InvariantCulture, $"<section><h2>{WebUtility.HtmlEncode(reader.Label)} <small>{reader.Id}</small></h2><p>{(reader.Offline ? "hors ligne" : "en ligne")} · {WebUtility.HtmlEncode(action)}{intent}</p>");
                    foreach (var (label, number) in new[] { ("Carte acceptée", "4242424242424242"), ("Carte refusée", "4000000000000002") })
                    {
                        html.Append(CultureInfo.InvariantCulture, $"<form method=\"post\" action=\"/__fake/readers/{reader.Id}/present?number={number}\" style=\"display:inline\"><button>{label}</button></form> ");
                    }

                    html.Append("</section>");
                }
            }

            return Results.Content(html.Append("</body></html>").ToString(), "text/html; charset=utf-8");
        });
    }

    private static IResult WithReader(FakeStripeState state, string id, Action<Reader> change)
    {
        lock (state.Gate)
        {
            if (!state.Readers.TryGetValue(id, out var reader))
            {
                return Results.NotFound();
            }

            change(reader);
            return Results.Text(reader.ToJson().ToJsonString(), "application/json");
        }
    }
}
