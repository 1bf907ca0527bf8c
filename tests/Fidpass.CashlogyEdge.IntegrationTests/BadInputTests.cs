using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fidpass.CashlogySimulator;
using Fidpass.ServiceDefaults;
using Fidpass.Testing;

namespace Fidpass.CashlogyEdge.IntegrationTests;

public sealed class BadInputTests(EdgeFixture fixture)
{
    private static async Task<(HttpStatusCode Status, string? Code, string ContentType)> SendAsync(HttpClient http, string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var response = await http.PostAsync(new Uri(path, UriKind.Relative), content, Till.Ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Till.Ct);
        return (response.StatusCode, body.TryGetProperty("code", out var code) ? code.GetString() : null, response.Content.Headers.ContentType?.MediaType ?? "");
    }

    [Theory]
    [InlineData("""{"requestId":"B-1","amount":0}""", "invalid_amount")]
    [InlineData("""{"requestId":"B-2","amount":-500}""", "invalid_amount")]
    [InlineData("""{"requestId":"B-3","amount":12.5}""", "invalid_amount")]
    [InlineData("""{"requestId":"B-4","amount":"990"}""", "invalid_amount")]
    [InlineData("""{"requestId":"B-5","amount":99999999999}""", "invalid_amount")]
    [InlineData("""{"requestId":"B-6"}""", "invalid_amount")]
    [InlineData("""{"amount":990}""", "invalid_request_id")]
    [InlineData("""{"requestId":"ticket#2","amount":990}""", "invalid_request_id")]
    [InlineData("""{"requestId":"B-7","amount":990,"memberId":"not-a-card"}""", "invalid_member")]
    public async Task Bad_charge_input_is_a_400_problem_and_nothing_reaches_the_machine(string json, string code)
    {
        await using var till = await Till.OpenAsync(fixture);

        var (status, actual, type) = await SendAsync(till.Http, $"{till.Machine}/charges", json);

        Assert.Equal((HttpStatusCode.BadRequest, code, "application/problem+json"), (status, actual, type));
        Assert.Equal(0, till.Sent("C"));
        Assert.Equal(0, till.Sent("T"));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("")]
    [InlineData("[990]")]
    [InlineData("{\"requestId\":\"J-1\",\"amount\":99")]
    public async Task A_malformed_body_is_a_400_problem_and_nothing_reaches_the_machine(string json)
    {
        await using var till = await Till.OpenAsync(fixture);

        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var response = await till.Http.PostAsync(new Uri($"{till.Machine}/charges", UriKind.Relative), content, Till.Ct);
        var body = await response.Content.ReadAsStringAsync(Till.Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"code\"", body, StringComparison.Ordinal);
        Assert.Equal(0, till.Sent("C"));
    }

    [Fact]
    public async Task A_machine_of_another_merchant_is_unknown_and_receives_nothing()
    {
        await using var owner = await Till.OpenAsync(fixture);
        await using var other = await Till.OpenAsync(fixture);

        var (status, code, _) = await SendAsync(other.Http, $"/api/v1/merchants/{other.Slug}/cash/machines/{owner.MachineId}/charges", """{"requestId":"X-1","amount":500}""");
        var payout = await SendAsync(other.Http, $"/api/v1/merchants/{other.Slug}/cash/machines/{owner.MachineId}/payouts", """{"requestId":"X-2","amount":500}""");
        var read = await other.Http.GetAsync(new Uri($"/api/v1/merchants/{other.Slug}/cash/machines/{owner.MachineId}/totals", UriKind.Relative), Till.Ct);

        Assert.Equal((HttpStatusCode.NotFound, "machine_not_found"), (status, code));
        Assert.Equal((HttpStatusCode.NotFound, "machine_not_found"), (payout.Status, payout.Code));
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        Assert.Equal(0, owner.Sent("C") + owner.Sent("P") + owner.Sent("T"));
    }

    [Fact]
    public async Task A_slug_that_is_not_the_callers_and_a_key_without_the_cash_scope_are_refused()
    {
        await using var till = await Till.OpenAsync(fixture);

        var foreign = await SendAsync(till.Http, $"/api/v1/merchants/someone-else/cash/machines/{till.MachineId}/charges", """{"requestId":"S-1","amount":500}""");
        Till.Identify(till.Http, till.MerchantId, till.Slug, "scan lookup");
        var noScope = await SendAsync(till.Http, $"{till.Machine}/charges", """{"requestId":"S-2","amount":500}""");
        Till.Identify(till.Http, till.MerchantId, till.Slug, "", GatewayIdentity.Anonymous);
        var anonymous = await SendAsync(till.Http, $"{till.Machine}/charges", """{"requestId":"S-3","amount":500}""");

        Assert.Equal((HttpStatusCode.NotFound, "merchant_not_found"), (foreign.Status, foreign.Code));
        Assert.Equal((HttpStatusCode.Forbidden, "scope_missing"), (noScope.Status, noScope.Code));
        Assert.Equal((HttpStatusCode.Unauthorized, "unauthenticated"), (anonymous.Status, anonymous.Code));
        Assert.Equal(0, till.Sent("C"));
    }

    [Fact]
    public async Task A_second_charge_while_one_runs_is_a_409_and_is_not_sent()
    {
        await using var till = await Till.OpenAsync(fixture);

        var first = await till.ChargeAsync(990, "D-1");
        await till.WaitForScreenAsync(SimulatorState.Charging);
        var (status, code, _) = await SendAsync(till.Http, $"{till.Machine}/charges", """{"requestId":"D-2","amount":500}""");
        var reused = await SendAsync(till.Http, $"{till.Machine}/charges", """{"requestId":"D-1","amount":1234}""");

        Assert.Equal((HttpStatusCode.Conflict, "machine_busy"), (status, code));
        Assert.Equal((HttpStatusCode.UnprocessableEntity, "request_id_reused"), (reused.Status, reused.Code));
        Assert.Equal(1, till.Sent("C"));
        till.Simulator.Insert(1000);
        Assert.Equal("completed", (await till.SettledAsync(first)).GetProperty("outcome").GetString());
    }

    [Theory]
    [InlineData("""{"name":"","host":"127.0.0.1","port":8092}""", "invalid_name")]
    [InlineData("""{"name":"Caisse","host":"bad host!","port":8092}""", "invalid_host")]
    [InlineData("""{"name":"Caisse","host":"127.0.0.1","port":70000}""", "invalid_port")]
    [InlineData("""{"name":"Caisse","host":"127.0.0.1","port":8092,"mode":"turbo"}""", "invalid_mode")]
    [InlineData("""{"name":"Caisse","host":"127.0.0.1","port":8092,"tillCode":"T#1"}""", "invalid_till_code")]
    public async Task Bad_machine_settings_are_refused(string json, string code)
    {
        await using var till = await Till.OpenAsync(fixture);

        var (status, actual, _) = await SendAsync(till.Http, $"/api/v1/merchants/{till.Slug}/cash/machines", json);

        Assert.Equal((HttpStatusCode.BadRequest, code), (status, actual));
    }

    [Theory]
    [InlineData(new byte[] { 0xC3, 0x28 }, "invalid_encoding")]
    [InlineData(new byte[] { (byte)'\\', (byte)'u', (byte)'0', (byte)'0', (byte)'0', (byte)'0' }, "invalid_character")]
    [InlineData(new byte[] { (byte)'\\', (byte)'u', (byte)'d', (byte)'8', (byte)'0', (byte)'0' }, "invalid_character")]
    public async Task A_charge_whose_body_PostgreSQL_cannot_store_is_a_400_and_nothing_reaches_the_machine(byte[] inside, string code)
    {
        await using var till = await Till.OpenAsync(fixture);
        byte[] body = [.. Encoding.UTF8.GetBytes("""{"requestId":"E-1","amount":990,"basketReference":"T"""), .. inside, .. Encoding.UTF8.GetBytes("\"}")];
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");

        var response = await till.Http.PostAsync(new Uri($"{till.Machine}/charges", UriKind.Relative), content, Till.Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, (await response.Content.ReadFromJsonAsync<JsonElement>(Till.Ct)).GetProperty("code").GetString());
        Assert.Equal(0, till.Sent("C"));
    }

    [Theory]
    [InlineData("""{"requestId":"BP-1","amount":0,"operator":{"role":"manager"}}""")]
    [InlineData("""{"requestId":"BP-2","amount":-100,"operator":{"role":"manager"}}""")]
    [InlineData("""{"requestId":"BP-3","amount":2.5,"operator":{"role":"manager"}}""")]
    [InlineData("""{"requestId":"BP-4","amount":"250","operator":{"role":"manager"}}""")]
    public async Task Bad_payout_amounts_are_a_400_problem_and_nothing_reaches_the_machine(string json)
    {
        await using var till = await Till.OpenAsync(fixture);

        var (status, code, type) = await SendAsync(till.Http, $"{till.Machine}/payouts", json);

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_amount", "application/problem+json"), (status, code, type));
        Assert.Equal(0, till.Sent("P") + till.Sent("T"));
    }

    [Fact]
    public async Task Charges_racing_on_one_machine_start_exactly_one_sale_and_the_others_send_nothing()
    {
        await using var till = await Till.OpenAsync(fixture);

        var responses = await Task.WhenAll(Enumerable.Range(1, 6).Select(i => till.PostAsync($"{till.Machine}/charges", new { requestId = $"RC-{i}", amount = 400 })));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Accepted);
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.Accepted), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        await till.WaitForScreenAsync(SimulatorState.Charging);
        till.Simulator.Insert(200, 200);
        await Eventually.True(() => Task.FromResult(till.Simulator.State == SimulatorState.Idle), what: "sale finished");
        Assert.Equal(1, till.Sent("C"));
    }
}
