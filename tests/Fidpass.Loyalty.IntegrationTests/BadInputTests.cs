using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fidpass.ServiceDefaults;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>Values no route can store are a clear 400 with a stable code, never a 500, and nothing is written.</summary>
public sealed class BadInputTests(LoyaltyFixture fixture) : IClassFixture<LoyaltyFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, (await response.BodyAsync()).GetProperty("code").GetString());
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<long> TotalAsync(HttpClient client, string slug) =>
        (await client.GetFromJsonAsync<JsonElement>($"/api/v1/merchants/{slug}/members", Ct)).GetProperty("total").GetInt64();

    [Fact]
    public async Task A_lone_surrogate_in_an_anonymous_enrolment_is_the_historical_400_and_enrols_nobody()
    {
        var merchant = fixture.NewMerchant();
        using var anonymous = merchant.Client(GatewayIdentity.Anonymous);
        using var owner = merchant.Client();

        var response = await anonymous.PostAsync($"/api/businesses/{merchant.Slug}/members",
            Json("""{"name":"Jeanne \ud800","email":"jeanne@example.fr"}"""), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.BodyAsync();
        Assert.Equal("INVALID_CHARACTER", body.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error").GetString()));
        Assert.Equal(0, await TotalAsync(owner, merchant.Slug));
    }

    [Fact]
    public async Task A_NUL_in_a_query_value_or_a_reason_is_refused_and_changes_nothing()
    {
        var merchant = fixture.NewMerchant();
        var member = await merchant.EnrolAsync();
        using var client = merchant.Client();

        await AssertProblem(await client.GetAsync($"/api/v1/merchants/{merchant.Slug}/members?search=%00", Ct),
            HttpStatusCode.BadRequest, "invalid_character");
        await AssertProblem(await client.PostAsync($"/api/v1/merchants/{merchant.Slug}/members/{member}/adjustments",
            Json("""{"points":5,"reason":"geste\u0000commercial"}"""), Ct), HttpStatusCode.BadRequest, "invalid_character");

        Assert.Equal(0, await merchant.BalanceAsync(member));
    }

    [Fact]
    public async Task The_smallest_long_as_an_adjustment_is_invalid_points()
    {
        var merchant = fixture.NewMerchant();
        var member = await merchant.EnrolAsync();
        using var client = merchant.Client();

        await AssertProblem(await client.PostAsync($"/api/v1/merchants/{merchant.Slug}/members/{member}/adjustments",
            Json("""{"points":-9223372036854775808,"reason":"essai"}"""), Ct), HttpStatusCode.BadRequest, "invalid_points");

        Assert.Equal(0, await merchant.BalanceAsync(member));
    }

    [Fact]
    public async Task A_body_that_is_not_UTF8_is_refused()
    {
        var merchant = fixture.NewMerchant();
        var member = await merchant.EnrolAsync();
        using var client = merchant.Client();
        var bytes = Encoding.UTF8.GetBytes($$"""{"points":5,"reason":"caf"}""").ToList();
        bytes.InsertRange(bytes.Count - 2, new byte[] { 0xC3, 0x28 });
        using var content = new ByteArrayContent([.. bytes]);
        content.Headers.ContentType = new("application/json");

        await AssertProblem(await client.PostAsync($"/api/v1/merchants/{merchant.Slug}/members/{member}/adjustments", content, Ct),
            HttpStatusCode.BadRequest, "invalid_encoding");
        Assert.Equal(0, await merchant.BalanceAsync(member));
    }

    [Fact]
    public async Task Errors_the_framework_answers_itself_are_problems_with_a_code()
    {
        var merchant = fixture.NewMerchant();
        using var client = merchant.Client();

        await AssertProblem(await client.GetAsync("/api/v1/nowhere", Ct), HttpStatusCode.NotFound, "not_found");
        await AssertProblem(await client.DeleteAsync($"/api/v1/merchants/{merchant.Slug}/program", Ct),
            HttpStatusCode.MethodNotAllowed, "method_not_allowed");
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_whether_its_length_is_announced_or_chunked()
    {
        var merchant = fixture.NewMerchant();
        var member = await merchant.EnrolAsync();
        using var client = merchant.Client();
        var path = $"/api/v1/merchants/{merchant.Slug}/members/{member}/adjustments";
        var big = $$"""{"points":5,"reason":"{{new string('a', 1_100_000)}}"}""";

        await AssertProblem(await client.PostAsync(path, Json(big), Ct), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");

        using var chunked = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big))) };
        chunked.Content.Headers.ContentType = new("application/json");
        chunked.Headers.TransferEncodingChunked = true;
        await AssertProblem(await client.SendAsync(chunked, Ct), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");

        Assert.Equal(0, await merchant.BalanceAsync(member));
    }
}
