using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Fidpass.Web.BrowserTests;

/// <summary>
/// The web space in front of a stand-in gateway that answers one shop's pages with fixed data the real
/// services cannot be made to produce on demand: every time is 23:30 UTC on 6 December (00:30 on the 7th
/// in Paris, so a page showing UTC shows the wrong day), names and e-mails long enough to stretch a
/// phone's table, a simulated reader, a cash machine on a shop-network address with its connector version.
/// </summary>
public sealed class StubShop : IAsyncLifetime
{
    public const string Slug = "cafe-de-minuit";
    public const string At = "2026-12-06T23:30:00Z";
    public const string MemberId = "6f1c0d3e-0000-4000-8000-000000000001";
    public const string KeyId = "6f1c0d3e-0000-4000-8000-000000000002";
    public const string MachineId = "6f1c0d3e-0000-4000-8000-000000000003";
    public const string SupportEmail = "aide@cafe-de-minuit.test";

    private WebApplication _gateway = null!;
    private WebHost _web = null!;

    public Uri Web { get; private set; } = null!;

    public string SignInLink => $"{Web}?token=fpd_stub";

    private const string Member =
        $$"""{"id":"{{MemberId}}","name":"Anne-Sophie de La Tour-Maubourg","email":"anne-sophie.de-la-tour-maubourg@une-adresse-tres-longue.example.fr","points":3,"lastVisitAt":"{{At}}"}""";

    private static string? Answer(string rest) => rest switch
    {
        "members" => $$"""{"items":[{{Member}}],"total":1}""",
        $"members/{MemberId}" => $$$"""{"member":{{{Member}}},"history":[{"type":"points_credited","at":"{{{At}}}","data":{"points":3}}]}""",
        "integration-keys" => $$"""[{"id":"{{KeyId}}","name":"Borne de la terrasse côté jardin","scopes":["scan","lookup","members","program","terminal","cash"],"createdAt":"{{At}}"}]""",
        "sessions" => $$"""[{"openedAt":"{{At}}","expiresAt":"{{At}}","current":true}]""",
        "terminal/readers" => $$"""[{"id":"tmr_stub","label":"Comptoir","deviceType":"simulated_wisepos_e","status":"online","lastSeenAt":"{{At}}"}]""",
        "terminal/locations" => """[{"id":"tml_stub","displayName":"Café de Minuit"}]""",
        "terminal/tills" => """[{"tillId":"caisse-1","readerId":"tmr_stub"}]""",
        "terminal/payments" => $$"""{"items":[{"saleId":"pi_stub","readerId":"tmr_stub","amount":450,"state":"collected","amountRefunded":0,"amountRefundPending":0,"refundable":450,"startedAt":"{{At}}","memberId":"{{MemberId}}"}]}""",
        "cash/machines" => $$"""[{"id":"{{MachineId}}","name":"Caisse 1","host":"192.168.1.20","port":8092,"tillCode":"1","status":"ready","version":"2.1.0"}]""",
        $"cash/machines/{MachineId}/cash" => $$"""{"reportedAt":"{{At}}","total":12000,"recyclers":[{"value":1000,"count":10,"kind":"note"}],"stacker":[{"value":200,"count":10,"kind":"coin"}]}""",
        "cash/sales" => $$"""{"items":[{"operationId":"op_stub","machineId":"{{MachineId}}","amount":720,"state":"collected","refunded":0,"refundPending":0,"refundable":720,"requestedAt":"{{At}}"}]}""",
        _ => null,
    };

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _gateway = builder.Build();
        _gateway.MapPost("/api/v1/sessions", () => Results.Json(new
        {
            session = "fps_stub",
            merchant = new { slug = Slug, name = "Café de Minuit" },
            expiresAt = DateTimeOffset.UtcNow.AddHours(8),
        }));
        _gateway.MapGet("/api/v1/merchants/{slug}/{**rest}", (string rest) => Answer(rest) is { } json ? Results.Text(json, "application/json") : Results.NotFound());
        _gateway.MapDelete("/api/v1/merchants/{slug}/integration-keys/{id}", () => Results.NoContent());
        await _gateway.StartAsync();

        var gateway = _gateway.Urls.First();
        _web = new WebHost();
        _web.With("Gateway:Address", gateway).With("Gateway:PublicAddress", gateway).With("Web:SupportEmail", SupportEmail);
        Web = _web.Start(WebFixture.FreePort());
    }

    public async ValueTask DisposeAsync()
    {
        await _web.DisposeAsync();
        await _gateway.DisposeAsync();
    }
}
