using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fidpass.Loyalty.Members;
using Fidpass.ServiceDefaults;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>
/// The card's short code: 8 characters a cashier can type or hear (no 0/O, no 1/I), shown on the card,
/// stable, unique per merchant by the database, and accepted by the v1 scan (the web till) like the UUID.
/// </summary>
public sealed class ShortCodeTests(LoyaltyFixture fixture) : IClassFixture<LoyaltyFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Each_member_gets_a_stable_code_of_its_own_and_the_code_typed_at_the_till_credits_that_member()
    {
        var merchant = fixture.NewMerchant();
        var members = new List<Guid>();
        for (var i = 0; i < 20; i++)
        {
            members.Add(await merchant.EnrolAsync($"Membre {i}"));
        }

        var codes = new List<string>();
        foreach (var member in members)
        {
            var code = await CodeOnCardAsync(merchant, member);
            Assert.Matches("^[2-9A-HJ-NP-Z]{4} [2-9A-HJ-NP-Z]{4}$", code);
            Assert.Equal(code, await CodeOnCardAsync(merchant, member));
            codes.Add(code);
        }

        Assert.Equal(codes.Count, codes.Distinct().Count());

        // Typed in lower case with a dash, the code credits its member, and only that one.
        var typed = codes[7].Replace(' ', '-').ToLowerInvariant();
        using var till = merchant.Client();
        using var credited = await till.PostAsJsonAsync($"/api/v1/merchants/{merchant.Slug}/scans", new { barcode = typed, amount_eur = "6.00", source = "web" }, Ct);
        Assert.Equal(HttpStatusCode.OK, credited.StatusCode);
        Assert.Equal(members[7], (await credited.BodyAsync()).GetProperty("member").GetProperty("id").GetGuid());
        Assert.Equal(6, await merchant.BalanceAsync(members[7]));
        Assert.Equal(0, await merchant.BalanceAsync(members[6]));

        // Another merchant's till does not know it; the historical routes read UUIDs only, as before.
        var other = fixture.NewMerchant();
        using var otherTill = other.Client();
        using var elsewhere = await otherTill.PostAsJsonAsync($"/api/v1/merchants/{other.Slug}/scans", new { barcode = typed, amount_eur = "6.00" }, Ct);
        Assert.Equal("member_not_found", (await elsewhere.BodyAsync()).GetProperty("code").GetString());
        using var compat = await merchant.ScanAsync(JsonSerializer.Serialize(new { barcode = typed, amount_eur = "6.00" }));
        Assert.Equal(HttpStatusCode.NotFound, compat.StatusCode);
        Assert.Equal(6, await merchant.BalanceAsync(members[7]));
    }

    [Fact]
    public async Task The_database_refuses_a_code_already_held_by_another_member_of_the_same_merchant()
    {
        var merchant = fixture.NewMerchant();
        var first = await merchant.EnrolAsync("Première");
        var second = await merchant.EnrolAsync("Seconde");
        var code = (await CodeOnCardAsync(merchant, first)).Replace(" ", "", StringComparison.Ordinal);
        var store = fixture.Host.Services.GetRequiredService<IDocumentStore>();

        await using (var session = store.LightweightSession())
        {
            session.Events.Append(second, new ShortCodeAssigned(second, merchant.Id, code, DateTimeOffset.UtcNow));
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => session.SaveChangesAsync(Ct));
            Assert.True(Conflicts.IsConflict(refused), refused.ToString());
        }

        // The same code at another merchant is no conflict.
        var other = fixture.NewMerchant();
        var elsewhere = await other.EnrolAsync("Ailleurs");
        await using (var session = store.LightweightSession())
        {
            session.Events.Append(elsewhere, new ShortCodeAssigned(elsewhere, other.Id, code, DateTimeOffset.UtcNow));
            await session.SaveChangesAsync(Ct);
        }

        Assert.Equal(code, (await CodeOnCardAsync(other, elsewhere)).Replace(" ", "", StringComparison.Ordinal));
        Assert.NotEqual(code, (await CodeOnCardAsync(merchant, second)).Replace(" ", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_member_enrolled_before_codes_gets_one_on_the_first_read_even_when_reads_race()
    {
        var merchant = fixture.NewMerchant();
        var member = Guid.NewGuid();
        var store = fixture.Host.Services.GetRequiredService<IDocumentStore>();
        await using (var session = store.LightweightSession())
        {
            session.Events.StartStream<Member>(member, new MemberEnrolled(member, merchant.Id, "Ancien Membre", $"{member:N}@example.fr", DateTimeOffset.UtcNow.AddYears(-1)));
            await session.SaveChangesAsync(Ct);
        }

        var codes = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => CodeOnCardAsync(merchant, member)));

        Assert.Single(codes.Distinct());
        Assert.Matches("^[2-9A-HJ-NP-Z]{4} [2-9A-HJ-NP-Z]{4}$", codes[0]);
        await using var query = store.QuerySession();
        Assert.Equal(codes[0].Replace(" ", "", StringComparison.Ordinal), (await query.LoadAsync<Member>(member, Ct))!.ShortCode);
    }

    private static async Task<string> CodeOnCardAsync(TestMerchant merchant, Guid member)
    {
        using var customer = merchant.Client(GatewayIdentity.Anonymous);
        using var card = await customer.GetAsync(new Uri($"/api/v1/merchants/{merchant.Slug}/cards/{member}", UriKind.Relative), Ct);
        var body = await card.BodyAsync();
        Assert.True(card.StatusCode == HttpStatusCode.OK, body.ToString());
        return body.GetProperty("member").GetProperty("shortCode").GetString()!;
    }
}
