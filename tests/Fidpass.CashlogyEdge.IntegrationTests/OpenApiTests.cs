using System.Net.Http.Json;
using System.Text.Json;

namespace Fidpass.CashlogyEdge.IntegrationTests;

/// <summary>An integrator reads the cash API from its OpenAPI document: bodies and every answer must be there.</summary>
public sealed class OpenApiTests(EdgeFixture fixture)
{
    [Fact]
    public async Task The_document_shows_every_cash_routes_request_body_and_each_answer()
    {
        using var client = fixture.Host.CreateClient();
        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", TestContext.Current.CancellationToken);
        var operations = document.GetProperty("paths").EnumerateObject()
            .Where(p => p.Name.StartsWith("/api/v1/", StringComparison.Ordinal))
            .SelectMany(p => p.Value.EnumerateObject().Select(o => (Route: $"{o.Name.ToUpperInvariant()} {p.Name}", Operation: o.Value)))
            .ToList();

        Assert.True(operations.Count >= 22, $"{operations.Count} cash operations documented");
        foreach (var (route, operation) in operations)
        {
            var answers = operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToHashSet();
            Assert.True(new[] { "401", "403", "404" }.All(answers.Contains), $"{route}: {string.Join(",", answers)}");
            Assert.True(answers.Any(a => a.StartsWith('2')), $"{route}: no success answer");
            var readsBody = (route.StartsWith("POST", StringComparison.Ordinal) || route.StartsWith("PUT", StringComparison.Ordinal))
                && !route.EndsWith("/test", StringComparison.Ordinal) && !route.EndsWith("/finish", StringComparison.Ordinal) && !route.EndsWith("/cancel", StringComparison.Ordinal);
            if (readsBody)
            {
                Assert.True(operation.TryGetProperty("requestBody", out var body) && body.GetProperty("content").TryGetProperty("application/json", out _), $"{route}: no request body");
                Assert.Contains("400", answers);
            }
        }

        var charge = operations.Single(o => o.Route.EndsWith("/charges", StringComparison.Ordinal)).Operation;
        Assert.Equal(["200", "202", "400", "401", "403", "404", "409", "422"], charge.GetProperty("responses").EnumerateObject().Select(r => r.Name).Order());
    }
}
