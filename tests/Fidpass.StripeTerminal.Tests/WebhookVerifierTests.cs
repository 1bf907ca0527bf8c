using Fidpass.StripeTerminal.Webhooks;
using Stripe;

namespace Fidpass.StripeTerminal.Tests;

public sealed class WebhookVerifierTests
{
    private const string Secret = "whsec_test_secret_for_unit_tests";
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static string EventJson(string apiVersion = "2026-10-28.endive") =>
        """{"id":"evt_1","object":"event","api_version":""" + "\"" + apiVersion + "\"" +
        ""","created":1763900000,"livemode":false,"pending_webhooks":1,"type":"payment_intent.succeeded","data":{"object":{"id":"pi_123","object":"payment_intent","amount":2500,"currency":"eur","status":"succeeded"}}}""";

    [Fact]
    public void A_correctly_signed_event_is_accepted_and_names_its_PaymentIntent()
    {
        var body = EventJson();
        var header = EventUtility.GenerateSignatureHeader(body, Secret, Now.ToUnixTimeSeconds());

        var outcome = WebhookVerifier.Verify(body, header, Secret, 300, Now);

        Assert.Null(outcome.ProblemCode);
        Assert.Equal("evt_1", outcome.Event!.Id);
        Assert.Equal("pi_123", WebhookVerifier.PaymentIntentOf(outcome.Event));
    }

    [Fact]
    public void One_changed_byte_of_the_body_is_refused()
    {
        var body = EventJson();
        var header = EventUtility.GenerateSignatureHeader(body, Secret, Now.ToUnixTimeSeconds());

        Assert.Equal("signature_invalid", WebhookVerifier.Verify(body.Replace("2500", "2501", StringComparison.Ordinal), header, Secret, 300, Now).ProblemCode);
    }

    [Fact]
    public void Another_secret_is_refused()
    {
        var body = EventJson();
        var header = EventUtility.GenerateSignatureHeader(body, "whsec_someone_else", Now.ToUnixTimeSeconds());

        Assert.Equal("signature_invalid", WebhookVerifier.Verify(body, header, Secret, 300, Now).ProblemCode);
    }

    [Fact]
    public void A_signature_older_than_the_tolerance_is_refused()
    {
        var body = EventJson();
        var header = EventUtility.GenerateSignatureHeader(body, Secret, Now.AddSeconds(-1000).ToUnixTimeSeconds());

        Assert.Equal("signature_expired", WebhookVerifier.Verify(body, header, Secret, 300, Now).ProblemCode);
    }

    [Fact]
    public void A_missing_header_is_refused()
    {
        Assert.Equal("signature_missing", WebhookVerifier.Verify(EventJson(), "", Secret, 300, Now).ProblemCode);
    }

    [Fact]
    public void An_event_of_another_API_release_train_is_refused_on_purpose()
    {
        var body = EventJson("2024-06-20");
        var header = EventUtility.GenerateSignatureHeader(body, Secret, Now.ToUnixTimeSeconds());

        Assert.Equal("webhook_api_version_mismatch", WebhookVerifier.Verify(body, header, Secret, 300, Now).ProblemCode);
    }

    [Fact]
    public void Another_date_of_the_same_release_train_is_accepted()
    {
        var body = EventJson("2026-09-30.endive");
        var header = EventUtility.GenerateSignatureHeader(body, Secret, Now.ToUnixTimeSeconds());

        Assert.Null(WebhookVerifier.Verify(body, header, Secret, 300, Now).ProblemCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("{\"id\":\"evt_1\",\"object\":\"ev")]
    [InlineData("not json")]
    [InlineData("{\"object\":\"event\",\"api_version\":\"2026-10-28.endive\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{\"id\":\"pi_1\",\"object\":\"payment_intent\"}}}")]
    [InlineData("{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{\"id\":\"pi_1\",\"object\":\"payment_intent\"}}}")]
    [InlineData("{\"id\":\"evt_1\",\"object\":\"event\",\"api_version\":\"2026-10-28.endive\",\"created\":\"soon\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{\"id\":\"pi_1\",\"object\":\"payment_intent\"}}}")]
    [InlineData("{\"id\":\"evt_1\",\"object\":\"event\",\"api_version\":\"2026-10-28.endive\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{\"id\":\"pi_1\",\"object\":\"payment_intent\",\"amount\":\"lots\"}}}")]
    public void A_correctly_signed_but_malformed_event_is_refused_as_invalid_not_thrown(string body)
    {
        var header = EventUtility.GenerateSignatureHeader(body, Secret, Now.ToUnixTimeSeconds());

        var outcome = WebhookVerifier.Verify(body, header, Secret, 300, Now);

        Assert.Equal("invalid_event", outcome.ProblemCode);
    }
}
