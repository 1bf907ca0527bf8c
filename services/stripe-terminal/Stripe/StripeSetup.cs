using Stripe;

namespace Fidpass.StripeTerminal.Stripe;

/// <summary>
/// The one <see cref="StripeClient"/> of the service. Without <c>Stripe:SecretKey</c> (the default of
/// <c>./fidpass up</c>) it talks to the project's fake Stripe on 127.0.0.1:12111 with a fake test
/// key; with a test or live key it talks to api.stripe.com (or <c>Stripe:ApiBase</c>).
/// </summary>
public static class StripeSetup
{
    public const string FakeApiBase = "http://127.0.0.1:12111";
    private const string FakeKey = "sk_test_51FidpassFakeLocalKey0000000000";

    public static IHostApplicationBuilder AddStripe(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpClient("stripe");
        builder.Services.AddSingleton(sp =>
        {
            var configuration = sp.GetRequiredService<IConfiguration>();
            var key = configuration["Stripe:SecretKey"];
            var apiBase = configuration["Stripe:ApiBase"] is { Length: > 0 } configured
                ? configured
                : string.IsNullOrWhiteSpace(key) ? FakeApiBase : StripeClient.DefaultApiBase;
            var http = sp.GetRequiredService<IHttpClientFactory>().CreateClient("stripe");
            // The reader acknowledges process_payment_intent inside the HTTP call: keep Stripe's own 80 s.
            http.Timeout = TimeSpan.FromSeconds(configuration.GetValue("Stripe:TimeoutSeconds", 80));
            var transport = new SystemNetHttpClient(
                http, maxNetworkRetries: configuration.GetValue("Stripe:MaxNetworkRetries", 2), enableTelemetry: false);
            return new StripeClient(string.IsNullOrWhiteSpace(key) ? FakeKey : key, httpClient: transport, apiBase: apiBase);
        });
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IdempotencyKeys>();
        return builder;
    }

    /// <summary>Every mutating call carries a key derived from what it does (spec section 5, <see cref="IdempotencyKeys"/>), never a random one.</summary>
    public static RequestOptions Call(string? stripeAccount, string? idempotencyKey = null) =>
        new() { StripeAccount = stripeAccount, IdempotencyKey = idempotencyKey };
}
