using System.Text.Json.Nodes;
using Fidpass.Gateway.Docs;
using Microsoft.Playwright;

namespace Fidpass.Web.BrowserTests;

/// <summary>
/// The integrator's reference at the gateway's <c>/docs</c>: rendered by Scalar from the gateway
/// alone (its scripts come from the package, nothing from another host, nothing refused by the
/// page's Content-Security-Policy), with a French description and examples on every integrator route.
/// </summary>
[Collection(WebCollection.Name)]
public sealed class ApiReferenceTests(WebFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("phone", 390, 844)]
    [InlineData("desktop", 1280, 900)]
    public async Task The_reference_is_rendered_from_the_gateway_alone_under_its_CSP(string size, int width, int height)
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "fr-FR", ViewportSize = new ViewportSize { Width = width, Height = height } });
        var page = await context.NewPageAsync();
        var elsewhere = new List<string>();
        var refused = new List<string>();
        var gateway = fixture.Gateway.Address;
        page.Request += (_, request) =>
        {
            if (Uri.TryCreate(request.Url, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
                && (url.Host != gateway.Host || url.Port != gateway.Port))
            {
                elsewhere.Add(request.Url);
            }
        };
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                refused.Add(message.Text);
            }
        };

        var response = await page.GotoAsync(new Uri(gateway, "/docs").ToString());
        Assert.NotNull(response);
        var policy = await response.HeaderValueAsync("content-security-policy");
        Assert.NotNull(policy);
        Assert.Contains("script-src 'self' 'nonce-", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", policy, StringComparison.Ordinal);

        // Loyalty's document opens first, on the till's main route: French summary, description and examples.
        var scan = page.GetByRole(AriaRole.Region, new() { Name = "Créditer des points (scan), avec Idempotency-Key" });
        await Assertions.Expect(scan.GetByRole(AriaRole.Heading, new() { Name = "Créditer des points (scan), avec Idempotency-Key" }))
            .ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(scan).ToContainTextAsync("la même clé rejoue la première réponse et ne crédite jamais deux fois");
        await Assertions.Expect(scan).ToContainTextAsync("\"pointsAdded\": 12");
        await WebFixture.ScreenshotAsync(page, $"api-reference-{size}");
        Assert.Empty(elsewhere);
        Assert.Empty(refused);
        await context.CloseAsync();
    }

    [Fact]
    public async Task Every_integrator_route_has_a_French_description_and_examples_in_its_services_document()
    {
        foreach (var service in IntegratorExamples.All.GroupBy(e => e.Service))
        {
            var document = JsonNode.Parse(await fixture.Client.GetStringAsync(new Uri($"/docs/{service.Key}.json", UriKind.Relative), Ct))!;
            var paths = document["paths"]!.AsObject();
            foreach (var example in service)
            {
                var route = $"{example.Method.ToUpperInvariant()} {example.Path}";
                var operation = IntegratorExamples.Find(paths, example.Path)?[example.Method];
                Assert.True(operation is not null, $"{route} is not in the {service.Key} document");
                Assert.Contains(example.Description, operation["description"]!.ToString(), StringComparison.Ordinal);
                Assert.True(operation["responses"]?[example.Status]?["content"]?["application/json"]?["example"] is not null, $"{route}: no answer example");
                if (example.Request is not null)
                {
                    Assert.True(operation["requestBody"]?["content"]?["application/json"]?["example"] is not null, $"{route}: no request example");
                }
            }
        }
    }
}
