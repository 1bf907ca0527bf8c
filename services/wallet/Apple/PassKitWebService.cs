using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Fidpass.Wallet.Passes;
using Marten;
using Microsoft.Net.Http.Headers;

namespace Fidpass.Wallet.Apple;

/// <summary>
/// The web service Apple's devices call for a pass's updates
/// (https://developer.apple.com/documentation/walletpasses/adding-a-web-service-to-update-passes),
/// under the pass's <c>webServiceURL</c>. Requests about one pass carry its own token
/// (<c>Authorization: ApplePass …</c>); the gateway lets them through unauthenticated. An erased
/// member's pass is gone: 410 for the pass, 401 for a new registration.
/// </summary>
public static class PassKitWebService
{
    public sealed record RegistrationBody(string? PushToken);

    public sealed record LogBody(string[]? Logs);

    public static IEndpointRouteBuilder MapPassKitWebService(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/wallet/apple/v1").WithTags("Apple Wallet (PassKit web service)");
        group.MapPost("/devices/{deviceLibraryIdentifier}/registrations/{passTypeIdentifier}/{serialNumber}", RegisterAsync)
            .WithSummary("Un appareil s'abonne aux mises à jour d'une carte").Produces(200).Produces(201).Produces(400).Produces(401);
        group.MapDelete("/devices/{deviceLibraryIdentifier}/registrations/{passTypeIdentifier}/{serialNumber}", UnregisterAsync)
            .WithSummary("Un appareil se désabonne").Produces(200).Produces(401);
        group.MapGet("/devices/{deviceLibraryIdentifier}/registrations/{passTypeIdentifier}", UpdatedSerialsAsync)
            .WithSummary("Cartes de l'appareil modifiées depuis une étiquette").Produces(200).Produces(204).Produces(400);
        group.MapGet("/passes/{passTypeIdentifier}/{serialNumber}", LatestPassAsync)
            .WithSummary("Dernière version d'une carte (.pkpass), 304 si inchangée").Produces(200, contentType: PkPass.ContentType)
            .Produces(304).Produces(401).Produces(410);
        group.MapPost("/log", Log).WithSummary("Messages d'erreur des appareils").Produces(200);
        return app;
    }

    private static async Task<IResult> RegisterAsync(string deviceLibraryIdentifier, string passTypeIdentifier, string serialNumber,
        HttpRequest request, IDocumentSession session, AppleOptions options, TimeProvider time, CancellationToken ct)
    {
        var pass = await AuthenticatedAsync(passTypeIdentifier, serialNumber, request, session, options, ct);
        if (pass is null || pass.Erased)
        {
            return Results.Unauthorized();
        }

        RegistrationBody? body;
        try
        {
            body = await request.ReadFromJsonAsync<RegistrationBody>(ct);
        }
        catch (JsonException)
        {
            body = null;
        }

        if (body?.PushToken is not { Length: > 0 and <= 200 } pushToken || deviceLibraryIdentifier.Length > 200)
        {
            return Results.BadRequest();
        }

        var id = AppleRegistration.IdOf(deviceLibraryIdentifier, pass.Id);
        var existing = await session.LoadAsync<AppleRegistration>(id, ct);
        if (existing is not null && existing.PushToken == pushToken)
        {
            return Results.Ok();
        }

        session.Store(new AppleRegistration(id, deviceLibraryIdentifier, pass.Id, pushToken, time.GetUtcNow()));
        await session.SaveChangesAsync(ct);
        return existing is null ? Results.StatusCode(StatusCodes.Status201Created) : Results.Ok();
    }

    private static async Task<IResult> UnregisterAsync(string deviceLibraryIdentifier, string passTypeIdentifier, string serialNumber,
        HttpRequest request, IDocumentSession session, AppleOptions options, CancellationToken ct)
    {
        var pass = await AuthenticatedAsync(passTypeIdentifier, serialNumber, request, session, options, ct);
        if (pass is null)
        {
            return Results.Unauthorized();
        }

        session.Delete<AppleRegistration>(AppleRegistration.IdOf(deviceLibraryIdentifier, pass.Id));
        await session.SaveChangesAsync(ct);
        return Results.Ok();
    }

    private static async Task<IResult> UpdatedSerialsAsync(string deviceLibraryIdentifier, string passTypeIdentifier, string? passesUpdatedSince,
        IQuerySession session, AppleOptions options, CancellationToken ct)
    {
        long since = 0;
        if (passTypeIdentifier != options.PassTypeIdentifier
            || (passesUpdatedSince is { Length: > 0 } && !long.TryParse(passesUpdatedSince, NumberStyles.None, CultureInfo.InvariantCulture, out since)))
        {
            return Results.BadRequest();
        }

        var serials = await session.Query<AppleRegistration>().Where(r => r.DeviceLibraryIdentifier == deviceLibraryIdentifier)
            .Select(r => r.SerialNumber).ToListAsync(ct);
        var passes = serials.Count == 0 ? [] : await session.LoadManyAsync<WalletPass>(ct, serials);
        var updated = passes.Where(p => p.UpdateTag > since).ToList();
        if (updated.Count == 0)
        {
            return Results.NoContent();
        }

        return Results.Json(new
        {
            serialNumbers = updated.Select(p => p.Id.ToString()).ToArray(),
            lastUpdated = updated.Max(p => p.UpdateTag).ToString(CultureInfo.InvariantCulture),
        });
    }

    private static async Task<IResult> LatestPassAsync(string passTypeIdentifier, string serialNumber, HttpRequest request,
        IQuerySession session, AppleOptions options, PkPass pkPass, CancellationToken ct)
    {
        var pass = await AuthenticatedAsync(passTypeIdentifier, serialNumber, request, session, options, ct);
        if (pass is null)
        {
            return Results.Unauthorized();
        }

        if (pass.Erased)
        {
            return Results.StatusCode(StatusCodes.Status410Gone);
        }

        request.HttpContext.Response.Headers.CacheControl = "no-store";
        if (request.GetTypedHeaders().IfModifiedSince is { } since && pass.LastModified <= since)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        var merchant = await session.LoadAsync<WalletMerchant>(pass.MerchantId, ct) ?? WalletMerchant.Unknown(pass.MerchantId);
        request.HttpContext.Response.Headers[HeaderNames.LastModified] = pass.LastModified.ToString("R", CultureInfo.InvariantCulture);
        WalletMetrics.Pass("device");
        return Results.File(pkPass.Build(pass, merchant), PkPass.ContentType, $"{pass.Id}.pkpass");
    }

    private static IResult Log(LogBody? body, ILoggerFactory loggers)
    {
        var log = loggers.CreateLogger(typeof(PassKitWebService));
        foreach (var line in (body?.Logs ?? []).Take(20))
        {
            log.LogWarning("Apple Wallet device log: {Line}", line.Length > 500 ? line[..500] : line);
        }

        return Results.Ok();
    }

    /// <summary>The pass, when the request names this service's pass type and carries that pass's token.</summary>
    private static async Task<WalletPass?> AuthenticatedAsync(string passTypeIdentifier, string serialNumber, HttpRequest request,
        IQuerySession session, AppleOptions options, CancellationToken ct)
    {
        const string scheme = "ApplePass ";
        var authorization = request.Headers.Authorization.ToString();
        if (passTypeIdentifier != options.PassTypeIdentifier || !Guid.TryParse(serialNumber, out var serial)
            || !authorization.StartsWith(scheme, StringComparison.Ordinal))
        {
            return null;
        }

        var pass = await session.LoadAsync<WalletPass>(serial, ct);
        return pass is not null && CryptographicOperations.FixedTimeEquals(
            Encoding.UTF8.GetBytes(pass.AuthenticationToken), Encoding.UTF8.GetBytes(authorization[scheme.Length..]))
            ? pass
            : null;
    }
}
