using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Testing;

namespace Fidpass.Metrics.IntegrationTests;

/// <summary>A member's balance as loyalty answers an integrator's lookup through the gateway (any credential with <c>lookup</c>).</summary>
internal static class Balances
{
    public static async Task<long> OfAsync(HttpClient client, string slug, Guid member) =>
        (await client.GetFromJsonAsync<JsonElement>($"/api/businesses/{slug}/integration/lookup?barcode={member}", TestContext.Current.CancellationToken))
            .GetProperty("member").GetProperty("points").GetInt64();

    public static Task BecomeAsync(HttpClient client, string slug, Guid member, long expected) =>
        Eventually.True(async () => await OfAsync(client, slug, member) == expected, TimeSpan.FromSeconds(30), $"balance {expected}");
}
