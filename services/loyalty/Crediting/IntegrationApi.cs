using PointsSource = Fidpass.Contracts.Loyalty.PointsSource;
using Fidpass.Loyalty.Http;
using Fidpass.Loyalty.Members;
using Marten;

namespace Fidpass.Loyalty.Crediting;

/// <summary>
/// The existing integration API (spec section 1), unchanged for tills in the field, plus the v1
/// scan. Check order: (slug at the gateway) → authentication → barcode → member → points.
/// </summary>
public static class IntegrationApi
{
    public static IEndpointRouteBuilder MapIntegrationApi(this IEndpointRouteBuilder app)
    {
        var compat = app.MapGroup("/api/businesses/{slug}").WithTags("Intégration (historique)");
        compat.MapGet("/integration/lookup", LookupAsync)
            .WithSummary("Afficher un client (nom, solde) sans créditer");
        compat.MapPost("/integration/scan", ScanAsync)
            .WithSummary("Créditer des points à partir du code-barres de la carte");
        compat.MapPost("/members/{memberId}/points", CreditMemberAsync)
            .WithSummary("Créditer des points à un membre désigné par son identifiant");

        app.MapPost("/api/v1/merchants/{slug}/scans", ScanV1Async)
            .WithTags("Intégration v1")
            .WithSummary("Créditer des points (scan), avec Idempotency-Key");
        return app;
    }

    private static async Task<IResult> LookupAsync(string slug, HttpRequest request, IQuerySession session, CancellationToken ct)
    {
        if (Access.Compat(request, slug, Scopes.Lookup, out var identity) is { } denied)
        {
            return denied;
        }

        var (member, refusal) = await LookupApi.FindAsync(request, session, identity.MerchantId, ct);
        if (member is null)
        {
            return CompatResults.From(refusal!);
        }

        return Results.Json(new
        {
            member = new { id = member.Id, name = member.Name, email = member.Email, points = member.Points, last_visit_at = member.LastVisitAt },
        });
    }

    private static async Task<IResult> ScanAsync(string slug, HttpRequest request, CreditBatcher credits, CancellationToken ct)
    {
        if (Access.Compat(request, slug, Scopes.Scan, out var identity) is { } denied)
        {
            return denied;
        }

        var (key, keyRefusal) = Idempotency.Read(request);
        var (body, raw, bodyRefusal) = await CompatResults.ReadObjectAsync(request, ct);
        if ((bodyRefusal ?? keyRefusal) is { } refusal)
        {
            return CompatResults.From(refusal);
        }

        var (memberId, barcodeRefusal) = CompatResults.ReadBarcode(body);
        if (barcodeRefusal is not null)
        {
            return CompatResults.From(barcodeRefusal);
        }

        var (input, inputRefusal) = CreditDecider.ReadInput(body);
        var credit = new CreditRequest(identity, memberId, input, inputRefusal, key, Idempotency.Hash("compat-scan", raw), PointsSource.Integration);
        return await CreditHandler.HandleAsync(credits, credit, CompatResults.From, (member, credited) => new
        {
            member = new { id = member.Id, name = member.Name, email = member.Email, points = member.Points },
            points_added = credited.Points,
            new_balance = credited.NewBalance,
        }, ct);
    }

    private static async Task<IResult> CreditMemberAsync(string slug, string memberId, HttpRequest request, CreditBatcher credits, CancellationToken ct)
    {
        if (Access.Compat(request, slug, Scopes.Scan, out var identity) is { } denied)
        {
            return denied;
        }

        var (key, keyRefusal) = Idempotency.Read(request);
        var (body, raw, bodyRefusal) = await CompatResults.ReadObjectAsync(request, ct);
        if ((bodyRefusal ?? keyRefusal) is { } refusal)
        {
            return CompatResults.From(refusal);
        }

        Guid? id = Guid.TryParse(memberId, out var parsed) ? parsed : null;
        var (input, inputRefusal) = CreditDecider.ReadInput(body);
        var credit = new CreditRequest(identity, id, input, inputRefusal, key, Idempotency.Hash("compat-points:" + memberId, raw), PointsSource.Integration);
        return await CreditHandler.HandleAsync(credits, credit, CompatResults.From,
            (member, _) => new { id = member.Id, points = member.Points }, ct);
    }

    private static async Task<IResult> ScanV1Async(string slug, HttpRequest request, CreditBatcher credits, IDocumentStore store, CancellationToken ct)
    {
        if (Access.V1(request, slug, Scopes.Scan, out var identity) is { } denied)
        {
            return denied;
        }

        var (key, keyRefusal) = Idempotency.Read(request);
        var (body, raw, bodyRefusal) = await CompatResults.ReadObjectAsync(request, ct);
        if ((bodyRefusal ?? keyRefusal) is { } refusal)
        {
            return CompatResults.Problem(refusal);
        }

        var (memberId, barcodeRefusal) = CompatResults.ReadBarcode(body);
        if (barcodeRefusal is not null)
        {
            return CompatResults.Problem(barcodeRefusal);
        }

        // v1 only (the historical routes read UUIDs only): the card's short code, typed or heard at the till.
        memberId ??= await ShortCodes.FindAsync(store, identity.MerchantId, body.GetProperty("barcode").GetString(), ct);

        var source = body.TryGetProperty("source", out var s) && s.ValueKind == System.Text.Json.JsonValueKind.String && s.GetString() == "web"
            ? PointsSource.WebScanner
            : PointsSource.Integration;
        var (input, inputRefusal) = CreditDecider.ReadInput(body);
        var credit = new CreditRequest(identity, memberId, input, inputRefusal, key, Idempotency.Hash("v1-scan", raw), source);
        return await CreditHandler.HandleAsync(credits, credit, CompatResults.Problem, (member, credited) => new
        {
            operationId = credited.OperationId,
            member = new { id = member.Id, name = member.Name, email = member.Email, points = member.Points },
            pointsAdded = credited.Points,
            newBalance = credited.NewBalance,
        }, ct);
    }
}
