using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Fidpass.StripeTerminal.IntegrationTests;

/// <summary>Manual authorisations expire after about 2 days (spec 2.3): a forgotten one must not stay a hold on the customer's card.</summary>
public sealed class AbandonedAuthorisationTests(AbandonedAuthorisationTests.ShortCaptureWindow fixture)
    : IClassFixture<AbandonedAuthorisationTests.ShortCaptureWindow>
{
    /// <summary>The sweeper's capture window shortened from 60 minutes to about a second.</summary>
    public sealed class ShortCaptureWindow : StripeTerminalFixture
    {
        protected override IReadOnlyDictionary<string, string> Overrides =>
            new Dictionary<string, string> { ["Stripe:ManualCaptureTimeoutMinutes"] = "0.02" };
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_manual_authorisation_nobody_captures_is_cancelled_and_collects_nothing()
    {
        var merchant = await fixture.NewMerchantAsync();
        var readerId = await merchant.RegisterReaderAsync();
        using var started = await merchant.PayAsync(new { saleId = "sale-forgotten", amount = 2300, currency = "eur", readerId, captureMethod = "manual" });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var paymentIntentId = (await started.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("paymentIntentId").GetString()!;
        await merchant.PresentCardAsync(readerId);

        await merchant.PaymentReachesAsync("sale-forgotten", "canceled");

        var cancel = Assert.Single(await fixture.FakeRequestsAsync(), r => r.GetProperty("path").GetString() == $"/v1/payment_intents/{paymentIntentId}/cancel"
            && r.GetProperty("status").GetInt32() == 200 && !r.GetProperty("replayed").GetBoolean());
        Assert.Equal(("abandoned", $"pi-cancel:{paymentIntentId}"),
            (cancel.GetProperty("parameters").GetProperty("cancellation_reason").GetString(), cancel.GetProperty("idempotencyKey").GetString()));
        using var capture = await merchant.Http.PostAsync(merchant.Route("payments/sale-forgotten/capture"), null, Ct);
        Assert.Equal(HttpStatusCode.Conflict, capture.StatusCode);
        Assert.DoesNotContain(fixture.Collected, c => c.PaymentId == paymentIntentId);
    }
}
