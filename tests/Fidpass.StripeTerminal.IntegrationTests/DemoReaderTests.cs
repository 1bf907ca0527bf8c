using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Testing;

namespace Fidpass.StripeTerminal.IntegrationTests;

/// <summary>A newcomer's first minute: without a Stripe key every new merchant gets a simulated reader.</summary>
public sealed class DemoReaderTests(DemoReaderTests.DemoReaders fixture) : IClassFixture<DemoReaderTests.DemoReaders>
{
    /// <summary>Demo readers on, as they are by default when no Stripe key is configured (DemoReaderProvisioning).</summary>
    public sealed class DemoReaders : StripeTerminalFixture
    {
        protected override IReadOnlyDictionary<string, string> Overrides =>
            new Dictionary<string, string> { ["Stripe:DemoReaders"] = "true" };
    }

    [Fact]
    public async Task A_merchant_created_by_the_operator_gets_a_simulated_reader()
    {
        // merchant-token publishes MerchantRegistered; stripe-terminal consumes it.
        var merchant = await fixture.NewMerchantAsync();

        var readers = await Eventually.Get(
            () => merchant.Http.GetFromJsonAsync<JsonElement>(merchant.Route("readers"), TestContext.Current.CancellationToken),
            r => r.GetArrayLength() == 1, what: "demo reader");
        Assert.Equal("simulated_wisepos_e", readers[0].GetProperty("deviceType").GetString());
    }
}
