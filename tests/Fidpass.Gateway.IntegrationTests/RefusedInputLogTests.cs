using System.Net.Http.Headers;
using System.Text;

namespace Fidpass.Gateway.IntegrationTests;

/// <summary>
/// A refused request leaves nothing of what the client sent in the logs or traces: a hostile or
/// mistaken body may carry someone's name, e-mail or a pasted secret, and logs live longer and are read
/// by more people than the database.
/// </summary>
public sealed class RefusedInputLogTests(PaymentsFixture fixture) : IClassFixture<PaymentsFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Refused_bodies_and_queries_leave_no_fragment_of_what_was_sent_in_logs_or_traces()
    {
        var merchant = await fixture.CreateMerchantAsync();
        var slug = merchant.Slug;
        var marker = "Zq" + Guid.NewGuid().ToString("N")[..10];
        string[] bodies =
        [
            $"{{\"name\":\"{marker}\\u0000\",\"email\":\"{marker}@exemple.fr\"}}",
            $"{{\"name\":\"{marker}\\ud800\",\"email\":\"{marker}@exemple.fr\"}}",
            $"{{\"name\":\"{marker}\",\"email\":",
            $"{marker} pas du json",
            $"{{\"name\":{marker}}}",
            $"[\"{marker}\"]",
            $"{{\"points\":-9223372036854775808,\"reason\":\"{marker}\\u0000\"}}",
            $"{{\"points\":\"{marker}\",\"reason\":\"{marker}\"}}",
        ];
        string[] routes =
        [
            $"/api/businesses/{slug}/members",
            $"/api/v1/merchants/{slug}/members/{Guid.NewGuid()}/adjustments",
            $"/api/v1/merchants/{slug}/integration-keys",
            $"/api/v1/merchants/{slug}/terminal/payments",
            $"/api/v1/merchants/{slug}/terminal/readers",
            $"/api/v1/merchants/{slug}/cash/machines",
            $"/api/v1/merchants/{slug}/scans",
        ];
        var statuses = new List<int>();
        foreach (var route in routes)
        {
            foreach (var body in bodies)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", merchant.DashboardToken);
                using var response = await fixture.Client.SendAsync(request, Ct);
                Assert.True((int)response.StatusCode is >= 400 and < 500, $"{route} {body}: {(int)response.StatusCode}");
                statuses.Add((int)response.StatusCode);
            }
        }

        // Invalid UTF-8 with the fragment around it.
        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/merchants/{slug}/cash/machines"))
        {
            request.Content = new ByteArrayContent([.. Encoding.ASCII.GetBytes($"{{\"name\":\"{marker}"), 0xC3, 0x28, .. Encoding.ASCII.GetBytes("\"}")]);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", merchant.DashboardToken);
            using var response = await fixture.Client.SendAsync(request, Ct);
            Assert.True((int)response.StatusCode is >= 400 and < 500, $"invalid UTF-8: {(int)response.StatusCode}");
        }

        foreach (var query in new[] { $"/api/v1/merchants/{slug}/members?search={marker}%00", $"/api/v1/merchants/{slug}/members?search={marker}&page=-{marker}" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, query);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", merchant.DashboardToken);
            using var response = await fixture.Client.SendAsync(request, Ct);
            Assert.True((int)response.StatusCode is >= 400 and < 500, $"{query}: {(int)response.StatusCode}");
        }

        // The bodies reached the services and were refused there, not at the door.
        Assert.True(statuses.Count(status => status is 400 or 422) > statuses.Count / 2, string.Join(",", statuses));
        var logs = fixture.Logs.Lines.Where(line => line.Contains(marker, StringComparison.OrdinalIgnoreCase)).ToList();
        var spans = fixture.Activities.Spans.Where(span => span.Contains(marker, StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(logs.Count == 0 && spans.Count == 0, string.Join("\n", logs.Concat(spans).Take(10).Select(l => l.Length > 600 ? l[..600] : l)));
    }
}
