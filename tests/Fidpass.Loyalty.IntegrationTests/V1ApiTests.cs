using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.ServiceDefaults;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>Spec sections 2–3: v1 routes, problem+json with stable codes.</summary>
public sealed class V1ApiTests(LoyaltyFixture fixture) : IClassFixture<LoyaltyFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, (await response.BodyAsync()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Program_has_defaults_then_the_merchants_rules()
    {
        var merchant = fixture.NewMerchant();
        using var client = merchant.Client();
        var path = $"/api/v1/merchants/{merchant.Slug}/program";

        var defaults = await client.GetFromJsonAsync<JsonElement>(path, Ct);
        Assert.Equal("points", defaults.GetProperty("type").GetString());
        Assert.Equal(1, defaults.GetProperty("pointsPerEuro").GetInt64());
        Assert.Equal(0, defaults.GetProperty("pointsPerVisit").GetInt64());
        Assert.Equal(JsonValueKind.Null, defaults.GetProperty("minAmountEur").ValueKind);

        var put = await client.PutAsJsonAsync(path, new { type = "stamps", pointsPerEuro = 0, pointsPerVisit = 1, minAmountEur = "2.50", maxPointsPerOperation = 5 }, Ct);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var saved = await client.GetFromJsonAsync<JsonElement>(path, Ct);
        Assert.Equal("stamps", saved.GetProperty("type").GetString());
        Assert.Equal(2.5m, saved.GetProperty("minAmountEur").GetDecimal());
        Assert.Equal(5, saved.GetProperty("maxPointsPerOperation").GetInt64());

        foreach (var bad in new object[]
                 {
                     new { type = "cash", pointsPerEuro = 1, pointsPerVisit = 0 },
                     new { type = "points", pointsPerEuro = -1, pointsPerVisit = 0 },
                     new { type = "points", pointsPerEuro = 1.5, pointsPerVisit = 0 },
                     new { type = "points", pointsPerEuro = 1, pointsPerVisit = 0, minAmountEur = "abc" },
                     new { type = "points", pointsPerEuro = 1, pointsPerVisit = 0, maxPointsPerOperation = 0 },
                 })
        {
            await AssertProblem(await client.PutAsJsonAsync(path, bad, Ct), HttpStatusCode.BadRequest, "invalid_program");
        }

        using var scanKey = merchant.Client(GatewayIdentity.IntegrationKey, "scan");
        await AssertProblem(await scanKey.GetAsync(path, Ct), HttpStatusCode.Forbidden, "forbidden_scope");
        using var programKey = merchant.Client(GatewayIdentity.IntegrationKey, "program");
        Assert.Equal(HttpStatusCode.OK, (await programKey.GetAsync(path, Ct)).StatusCode);
        using var nobody = fixture.Host.CreateClient();
        await AssertProblem(await nobody.GetAsync(path, Ct), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task Caps_refuse_a_till_operation_beyond_the_merchants_limits()
    {
        var merchant = fixture.NewMerchant();
        await merchant.PutProgramAsync(new { type = "points", pointsPerEuro = 1, pointsPerVisit = 0, maxPointsPerOperation = 50, maxPointsPerMemberPerDay = 60 });
        var id = await merchant.EnrolAsync();

        var tooMuch = await merchant.ScanAsync($$"""{"barcode":"{{id}}","amount_eur":80}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooMuch.StatusCode);
        Assert.Equal("POINTS_LIMIT_EXCEEDED", (await tooMuch.BodyAsync()).GetProperty("code").GetString());

        Assert.Equal(HttpStatusCode.OK, (await merchant.ScanAsync($$"""{"barcode":"{{id}}","amount_eur":40}""")).StatusCode);
        var daily = await merchant.ScanAsync($$"""{"barcode":"{{id}}","amount_eur":30}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, daily.StatusCode);
        Assert.Equal("DAILY_LIMIT_EXCEEDED", (await daily.BodyAsync()).GetProperty("code").GetString());
        Assert.Equal(40, await merchant.BalanceAsync(id));
    }

    [Fact]
    public async Task Import_reports_each_row_in_order()
    {
        var merchant = fixture.NewMerchant();
        var existing = await merchant.EnrolAsync("Déjà Là", "deja@example.fr");
        using var client = merchant.Client(GatewayIdentity.IntegrationKey, "members");

        var response = await client.PostAsync($"/api/v1/merchants/{merchant.Slug}/members/import", new StringContent(
            """[{"name":"Ana","email":"ANA@example.fr"},{"name":"","email":"x@example.fr"},{"name":"Encore","email":"deja@example.fr"},{"name":"Bob","email":"faux"},{"name":"Ana bis","email":"ana@example.fr"}]""",
            System.Text.Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var rows = (await response.BodyAsync()).EnumerateArray().ToArray();
        Assert.Equal(5, rows.Length);
        Assert.Equal("ana@example.fr", rows[0].GetProperty("email").GetString());
        Assert.False(rows[0].GetProperty("reused").GetBoolean());
        Assert.Equal(JsonValueKind.Null, rows[1].GetProperty("memberId").ValueKind);
        Assert.Equal("invalid_name", rows[1].GetProperty("code").GetString());
        Assert.Equal(existing, rows[2].GetProperty("memberId").GetGuid());
        Assert.True(rows[2].GetProperty("reused").GetBoolean());
        Assert.Equal("invalid_email", rows[3].GetProperty("code").GetString());
        // The same e-mail twice in one file: one member, the second row says it was reused.
        Assert.Equal(rows[0].GetProperty("memberId").GetGuid(), rows[4].GetProperty("memberId").GetGuid());
        Assert.True(rows[4].GetProperty("reused").GetBoolean());

        using var scanKey = merchant.Client(GatewayIdentity.IntegrationKey, "scan");
        await AssertProblem(await scanKey.PostAsync($"/api/v1/merchants/{merchant.Slug}/members/import", new StringContent("[]"), Ct),
            HttpStatusCode.Forbidden, "forbidden_scope");
        await AssertProblem(await client.PostAsync($"/api/v1/merchants/{merchant.Slug}/members/import", new StringContent("{"), Ct),
            HttpStatusCode.BadRequest, "invalid_json");
    }

    [Fact]
    public async Task Members_are_searched_paged_and_shown_with_their_whole_history()
    {
        var merchant = fixture.NewMerchant();
        var alice = await merchant.EnrolAsync("Alice Lambert", "alice@example.fr");
        await merchant.EnrolAsync("Bernard Petit", "bernard@example.fr");
        await merchant.EnrolAsync("Alicia Roux", "roux@example.fr");
        using var client = merchant.Client();
        var members = $"/api/v1/merchants/{merchant.Slug}/members";

        var found = await client.GetFromJsonAsync<JsonElement>($"{members}?search=ALIC&pageSize=1", Ct);
        Assert.Equal(2, found.GetProperty("total").GetInt32());
        Assert.Single(found.GetProperty("items").EnumerateArray());
        Assert.Equal("Alice Lambert", found.GetProperty("items")[0].GetProperty("name").GetString());
        var byEmail = await client.GetFromJsonAsync<JsonElement>($"{members}?search=bernard@", Ct);
        Assert.Equal(1, byEmail.GetProperty("total").GetInt32());
        await AssertProblem(await client.GetAsync($"{members}?page=0", Ct), HttpStatusCode.BadRequest, "invalid_query");
        await AssertProblem(await client.GetAsync($"{members}?search=a&search=b", Ct), HttpStatusCode.BadRequest, "invalid_query");

        await merchant.ScanAsync($$"""{"barcode":"{{alice}}","points":10}""");
        var adjusted = await client.PostAsJsonAsync($"{members}/{alice}/adjustments", new { points = -3, reason = "Erreur de saisie" }, Ct);
        Assert.Equal(HttpStatusCode.OK, adjusted.StatusCode);
        Assert.Equal(7, (await adjusted.BodyAsync()).GetProperty("points").GetInt64());
        await AssertProblem(await client.PostAsJsonAsync($"{members}/{alice}/adjustments", new { points = 5, reason = " " }, Ct),
            HttpStatusCode.BadRequest, "reason_required");
        await AssertProblem(await client.PostAsJsonAsync($"{members}/{alice}/adjustments", new { points = -8, reason = "trop" }, Ct),
            HttpStatusCode.UnprocessableEntity, "insufficient_points");

        var redeemed = await client.PostAsJsonAsync($"{members}/{alice}/redemptions", new { rewardName = "Café offert", points = 5 }, Ct);
        Assert.Equal(2, (await redeemed.BodyAsync()).GetProperty("points").GetInt64());
        await AssertProblem(await client.PostAsJsonAsync($"{members}/{alice}/redemptions", new { rewardName = "Menu", points = 50 }, Ct),
            HttpStatusCode.UnprocessableEntity, "insufficient_points");

        var detail = await client.GetFromJsonAsync<JsonElement>($"{members}/{alice}", Ct);
        Assert.Equal(2, detail.GetProperty("member").GetProperty("points").GetInt64());
        var types = detail.GetProperty("history").EnumerateArray().Select(e => e.GetProperty("type").GetString()!).ToArray();
        Assert.Equal(["member_enrolled", "points_credited", "points_adjusted", "reward_redeemed"], types);

        var other = fixture.NewMerchant();
        using var otherClient = other.Client();
        await AssertProblem(await otherClient.GetAsync($"/api/v1/merchants/{other.Slug}/members/{alice}", Ct), HttpStatusCode.NotFound, "member_not_found");
    }

    [Fact]
    public async Task A_v1_scan_can_be_reversed_by_its_operation_id_once()
    {
        var merchant = fixture.NewMerchant();
        var id = await merchant.EnrolAsync();
        using var client = merchant.Client(GatewayIdentity.IntegrationKey, "scan");

        var scan = await client.PostAsync($"/api/v1/merchants/{merchant.Slug}/scans",
            new StringContent($$"""{"barcode":"{{id}}","amount_eur":"15.00"}""", System.Text.Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.OK, scan.StatusCode);
        var operationId = (await scan.BodyAsync()).GetProperty("operationId").GetGuid();
        await merchant.ScanAsync($$"""{"barcode":"{{id}}","points":2}""");

        var reversal = await client.PostAsync($"/api/v1/merchants/{merchant.Slug}/operations/{operationId}/reversal", null, Ct);
        Assert.Equal(HttpStatusCode.OK, reversal.StatusCode);
        var reversed = await reversal.BodyAsync();
        Assert.Equal(15, reversed.GetProperty("pointsReversed").GetInt64());
        Assert.Equal(2, reversed.GetProperty("points").GetInt64());

        await AssertProblem(await client.PostAsync($"/api/v1/merchants/{merchant.Slug}/operations/{operationId}/reversal", null, Ct),
            HttpStatusCode.Conflict, "already_reversed");
        await AssertProblem(await client.PostAsync($"/api/v1/merchants/{merchant.Slug}/operations/{Guid.NewGuid()}/reversal", null, Ct),
            HttpStatusCode.NotFound, "operation_not_found");
        await AssertProblem(await client.PostAsync($"/api/v1/merchants/{merchant.Slug}/scans", new StringContent("""{"barcode":5}"""), Ct),
            HttpStatusCode.BadRequest, "barcode_missing");
        Assert.Equal(2, await merchant.BalanceAsync(id));
    }

    [Fact]
    public async Task Erasure_anonymises_the_person_and_keeps_the_ledger()
    {
        var merchant = fixture.NewMerchant();
        var id = await merchant.EnrolAsync("Claire Secret", "claire.secret@example.fr");
        await merchant.ScanAsync($$"""{"barcode":"{{id}}","points":9}""", "till-answer-with-her-name");
        using var client = merchant.Client();
        var member = $"/api/v1/merchants/{merchant.Slug}/members/{id}";

        var before = await client.GetStringAsync($"{member}/export", Ct);
        Assert.Contains("claire.secret@example.fr", before, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(member, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(member, Ct)).StatusCode);

        var export = await client.GetStringAsync($"{member}/export", Ct);
        Assert.DoesNotContain("Claire", export, StringComparison.Ordinal);
        Assert.DoesNotContain("claire.secret", export, StringComparison.Ordinal);
        var exported = JsonDocument.Parse(export).RootElement;
        Assert.Equal(9, exported.GetProperty("member").GetProperty("points").GetInt64());
        Assert.Contains(exported.GetProperty("history").EnumerateArray(), e => e.GetProperty("type").GetString() == "points_credited");

        var lookup = await client.GetAsync($"/api/businesses/{merchant.Slug}/integration/lookup?barcode={id}", Ct);
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
        var replay = await merchant.ScanAsync($$"""{"barcode":"{{id}}","points":9}""", "till-answer-with-her-name");
        Assert.DoesNotContain("Claire", await replay.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        // The e-mail is free again: the person may enrol anew.
        Assert.NotEqual(id, await merchant.EnrolAsync("Claire", "claire.secret@example.fr"));
    }
}
