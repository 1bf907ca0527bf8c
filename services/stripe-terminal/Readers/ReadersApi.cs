using Fidpass.ServiceDefaults;
using Fidpass.StripeTerminal.Stripe;
using Marten;
using Stripe;
using Stripe.Terminal;

namespace Fidpass.StripeTerminal.Readers;

public sealed record TerminalLocation(string Id, Guid MerchantId, string DisplayName, DateTimeOffset CreatedAt);

/// <summary>A merchant's reader. <c>MerchantSlug</c> labels the status gauge (null on readers stored before it existed, until next listed).</summary>
public sealed record TerminalReader(
    string Id, Guid MerchantId, string Label, string LocationId, string DeviceType, string? Status, DateTimeOffset? LastSeenAt,
    string? MerchantSlug = null);

/// <summary>The reader a till uses, remembered so the till finds it again after a restart.</summary>
public sealed record TillReader(string Id, Guid MerchantId, string TillId, string ReaderId, DateTimeOffset ConnectedAt)
{
    public static string Key(Guid merchantId, string tillId) => $"{merchantId:N}:{tillId}";
}

public sealed record CreateLocation(string? DisplayName, string? Line1, string? City, string? PostalCode, string? Country);

public sealed record RegisterReader(string? RegistrationCode, string? Label, string? LocationId);

public sealed record RenameReader(string? Label);

public sealed record ConnectTill(string? ReaderId, bool Force);

public sealed record CreateConnectionToken(string? LocationId);

public sealed record ReaderView(string Id, string Label, string LocationId, string DeviceType, string? Status, DateTimeOffset? LastSeenAt, string? Action)
{
    public static ReaderView From(TerminalReader r, string? action = null) => new(r.Id, r.Label, r.LocationId, r.DeviceType, r.Status, r.LastSeenAt, action);
}

public sealed record TillReaderView(string TillId, ReaderView Reader, DateTimeOffset ConnectedAt);

public sealed record TillLinkView(string TillId, string ReaderId, DateTimeOffset ConnectedAt);

public static class ReadersApi
{
    public static RouteGroupBuilder MapReadersApi(this RouteGroupBuilder group)
    {
        group.MapPost("/locations", CreateLocationAsync).WithSummary("Créer un emplacement Stripe Terminal").Produces<TerminalLocation>(201);
        group.MapGet("/locations", ListLocationsAsync).WithSummary("Emplacements du commerce");
        group.MapPost("/readers", RegisterAsync).WithSummary("Enregistrer un lecteur par son code d'appairage").Produces<ReaderView>(201).ProducesProblem(400);
        group.MapGet("/readers", ListAsync).WithSummary("Lecteurs du commerce, avec état et dernière connexion");
        group.MapPatch("/readers/{readerId}", RenameAsync).WithSummary("Renommer un lecteur").ProducesProblem(404);
        group.MapDelete("/readers/{readerId}", DeleteAsync).WithSummary("Supprimer un lecteur").ProducesProblem(404);
        group.MapPost("/readers/{readerId}/cancel-action", CancelActionAsync)
            .WithSummary("Libérer un lecteur bloqué : la vente en cours reste relançable sur le même paiement")
            .ProducesProblem(404).ProducesProblem(409);
        group.MapPut("/tills/{tillId}/reader", ConnectAsync)
            .WithSummary("Relier une caisse à un lecteur (refusé si le lecteur sert une autre vente, sauf force=true)")
            .Produces<TillReaderView>().ProducesProblem(404).ProducesProblem(409);
        group.MapGet("/tills", ListTillsAsync).WithSummary("Caisses du commerce et le lecteur de chacune").Produces<IReadOnlyList<TillLinkView>>();
        group.MapGet("/tills/{tillId}/reader", GetTillReaderAsync).WithSummary("Le lecteur de cette caisse").ProducesProblem(404);
        group.MapDelete("/tills/{tillId}/reader", DisconnectAsync).WithSummary("Délier la caisse de son lecteur");
        group.MapPost("/connection-tokens", ConnectionTokenAsync).WithSummary("Jeton de connexion pour le SDK JavaScript Stripe Terminal");
        return group;
    }

    private static async Task<IResult> CreateLocationAsync(
        HttpContext http, IDocumentSession session, StripeClient stripe, IdempotencyKeys keys, TimeProvider clock, CancellationToken ct)
    {
        var (parsed, invalid) = await JsonBody.ReadAsync<CreateLocation>(http.Request, ct);
        if (invalid is not null)
        {
            return invalid;
        }

        var body = parsed!;
        if (string.IsNullOrWhiteSpace(body.DisplayName) || string.IsNullOrWhiteSpace(body.Line1) || string.IsNullOrWhiteSpace(body.City)
            || string.IsNullOrWhiteSpace(body.PostalCode)
            || new[] { body.DisplayName, body.Line1, body.City, body.PostalCode, body.Country ?? "FR" }.Any(v => v.Length > 200))
        {
            return ApiProblems.Problem(400, "location_incomplete", "Indiquez le nom, l'adresse, la ville et le code postal de l'emplacement (200 caractères au plus chacun).");
        }

        var merchant = http.Merchant();
        var account = await session.StripeAccountAsync(merchant.MerchantId, ct);
        try
        {
            var location = await keys.SendAsync($"location:{merchant.MerchantId:N}:{body.DisplayName}:{body.PostalCode}", call => stripe.V1.Terminal.Locations.CreateAsync(
                new LocationCreateOptions
                {
                    DisplayName = body.DisplayName,
                    Address = new AddressOptions { Line1 = body.Line1, City = body.City, PostalCode = body.PostalCode, Country = body.Country ?? "FR" },
                    Metadata = new Dictionary<string, string> { ["fidpass_merchant"] = merchant.MerchantId.ToString() },
                },
                call, ct), account, ct);
            var stored = new TerminalLocation(location.Id, merchant.MerchantId, location.DisplayName, clock.GetUtcNow());
            session.Store(stored);
            await session.SaveChangesAsync(ct);
            return TypedResults.Created($"/api/v1/merchants/{merchant.Slug}/terminal/locations/{stored.Id}", stored);
        }
        catch (StripeException ex)
        {
            return StripeProblems.From(ex);
        }
    }

    private static async Task<IResult> ListLocationsAsync(HttpContext http, IQuerySession session, CancellationToken ct) =>
        TypedResults.Ok(await session.Query<TerminalLocation>().Where(l => l.MerchantId == http.Merchant().MerchantId).ToListAsync(ct));

    private static async Task<IResult> RegisterAsync(
        HttpContext http, IDocumentSession session, StripeClient stripe, IdempotencyKeys keys, ReaderStatuses statuses, CancellationToken ct)
    {
        var (parsed, invalid) = await JsonBody.ReadAsync<RegisterReader>(http.Request, ct);
        if (invalid is not null)
        {
            return invalid;
        }

        var body = parsed!;
        var merchant = http.Merchant();
        if (string.IsNullOrWhiteSpace(body.RegistrationCode) || string.IsNullOrWhiteSpace(body.Label) || string.IsNullOrWhiteSpace(body.LocationId)
            || body.Label.Length > 100 || body.RegistrationCode.Length > 100 || body.LocationId.Length > 100)
        {
            return ApiProblems.Problem(400, "reader_incomplete", "Indiquez le code d'appairage affiché par le lecteur, un nom (100 caractères au plus) et l'emplacement.");
        }

        var location = await session.LoadAsync<TerminalLocation>(body.LocationId, ct);
        if (location is null || location.MerchantId != merchant.MerchantId)
        {
            return ApiProblems.Problem(404, "location_not_found", "Emplacement inconnu pour ce commerce.");
        }

        try
        {
            var reader = await keys.SendAsync($"reader-register:{merchant.MerchantId:N}:{location.Id}:{body.RegistrationCode}:{body.Label}",
                call => stripe.V1.Terminal.Readers.CreateAsync(
                    new ReaderCreateOptions { RegistrationCode = body.RegistrationCode, Label = body.Label, Location = location.Id }, call, ct),
                await session.StripeAccountAsync(merchant.MerchantId, ct), ct);
            var stored = new TerminalReader(
                reader.Id, merchant.MerchantId, reader.Label, location.Id, reader.DeviceType, reader.Status, reader.LastSeenAt, merchant.Slug);
            session.Store(stored);
            await session.SaveChangesAsync(ct);
            await statuses.ObserveAsync(stored, reader.Status, ct);
            return TypedResults.Created($"/api/v1/merchants/{merchant.Slug}/terminal/readers/{reader.Id}", ReaderView.From(stored));
        }
        catch (StripeException ex) when (ex.StripeError?.Param == "registration_code")
        {
            return ApiProblems.Problem(400, "invalid_registration_code",
                "Code d'appairage invalide ou expiré : générez un nouveau code sur le lecteur (Paramètres) et réessayez.");
        }
        catch (StripeException ex)
        {
            return StripeProblems.From(ex);
        }
    }

    private static async Task<IResult> ListAsync(
        HttpContext http, IDocumentSession session, StripeClient stripe, ReaderStatuses statuses, CancellationToken ct)
    {
        var merchant = http.Merchant();
        var readers = (await session.Query<TerminalReader>().Where(r => r.MerchantId == merchant.MerchantId).ToListAsync(ct)).ToList();
        var actions = new Dictionary<string, string?>();
        try
        {
            // Status and last-seen come from Stripe each time; they are only hints (spec 3.3), never a gate.
            var live = await stripe.V1.Terminal.Readers.ListAsync(
                new ReaderListOptions { Limit = 100 }, StripeSetup.Call(await session.StripeAccountAsync(merchant.MerchantId, ct)), ct);
            foreach (var reader in live.Data)
            {
                if (readers.FindIndex(r => r.Id == reader.Id) is var i and >= 0)
                {
                    readers[i] = readers[i] with { Status = reader.Status, LastSeenAt = reader.LastSeenAt, Label = reader.Label, MerchantSlug = merchant.Slug };
                    actions[reader.Id] = reader.Action is { } a ? $"{a.Type}:{a.Status}" : null;
                    session.Store(readers[i]);
                }
            }

            await session.SaveChangesAsync(ct);
            foreach (var reader in readers.Where(r => actions.ContainsKey(r.Id)))
            {
                await statuses.ObserveAsync(reader, reader.Status, ct);
            }
        }
        catch (StripeException)
        {
            // Stripe unreachable: show what was last seen.
        }

        return TypedResults.Ok(readers.Select(r => ReaderView.From(r, actions.GetValueOrDefault(r.Id))).ToList());
    }

    internal static async Task<TerminalReader?> OwnedAsync(IQuerySession session, Guid merchantId, string readerId, CancellationToken ct) =>
        await session.LoadAsync<TerminalReader>(readerId, ct) is { } r && r.MerchantId == merchantId ? r : null;

    internal static IResult ReaderNotFound() => ApiProblems.Problem(404, "reader_not_found", "Lecteur inconnu pour ce commerce.");

    private static async Task<IResult> RenameAsync(
        HttpContext http, string readerId, IDocumentSession session, StripeClient stripe, IdempotencyKeys keys, CancellationToken ct)
    {
        var (parsed, invalid) = await JsonBody.ReadAsync<RenameReader>(http.Request, ct);
        if (invalid is not null)
        {
            return invalid;
        }

        var body = parsed!;
        var merchant = http.Merchant();
        if (string.IsNullOrWhiteSpace(body.Label) || body.Label.Length > 100)
        {
            return ApiProblems.Problem(400, "label_required", "Indiquez un nom de lecteur (100 caractères au plus).");
        }

        if (await OwnedAsync(session, merchant.MerchantId, readerId, ct) is not { } reader)
        {
            return ReaderNotFound();
        }

        try
        {
            await keys.SendAsync($"reader-label:{readerId}:{body.Label}", call => stripe.V1.Terminal.Readers.UpdateAsync(
                readerId, new ReaderUpdateOptions { Label = body.Label }, call, ct), await session.StripeAccountAsync(merchant.MerchantId, ct), ct);
            session.Store(reader with { Label = body.Label });
            await session.SaveChangesAsync(ct);
            return TypedResults.Ok(ReaderView.From(reader with { Label = body.Label }));
        }
        catch (StripeException ex)
        {
            return StripeProblems.From(ex);
        }
    }

    private static async Task<IResult> DeleteAsync(
        HttpContext http, string readerId, IDocumentSession session, StripeClient stripe, ReaderStatuses statuses, CancellationToken ct)
    {
        var merchant = http.Merchant();
        if (await OwnedAsync(session, merchant.MerchantId, readerId, ct) is null)
        {
            return ReaderNotFound();
        }

        try
        {
            await stripe.V1.Terminal.Readers.DeleteAsync(readerId, null, StripeSetup.Call(await session.StripeAccountAsync(merchant.MerchantId, ct)), ct);
        }
        catch (StripeException ex) when (ex.StripeError?.Code != "resource_missing")
        {
            return StripeProblems.From(ex);
        }

        session.Delete<TerminalReader>(readerId);
        session.DeleteWhere<TillReader>(t => t.ReaderId == readerId);
        await session.SaveChangesAsync(ct);
        await statuses.RemoveAsync(readerId, ct);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Server-driven readers have no connection to open; "connecting" a till means choosing its
    /// reader after checking Stripe can reach it and that no other sale is on it (the SDK's
    /// <c>fail_if_in_use</c>, where a displayed cart also counts as in use).
    /// </summary>
    private static async Task<IResult> ConnectAsync(
        HttpContext http, string tillId, IDocumentSession session, StripeClient stripe, ReaderStatuses statuses, TimeProvider clock,
        CancellationToken ct)
    {
        var (parsed, invalid) = await JsonBody.ReadAsync<ConnectTill>(http.Request, ct);
        if (invalid is not null)
        {
            return invalid;
        }

        var body = parsed!;
        var merchant = http.Merchant();
        if (string.IsNullOrWhiteSpace(body.ReaderId))
        {
            return ApiProblems.Problem(400, "reader_required", "Indiquez le lecteur (readerId).");
        }

        if (await OwnedAsync(session, merchant.MerchantId, body.ReaderId, ct) is not { } reader)
        {
            return ReaderNotFound();
        }

        Reader live;
        try
        {
            live = await stripe.V1.Terminal.Readers.GetAsync(reader.Id, null, StripeSetup.Call(await session.StripeAccountAsync(merchant.MerchantId, ct)), ct);
        }
        catch (StripeException ex)
        {
            return StripeProblems.From(ex);
        }

        reader = reader with { Status = live.Status, LastSeenAt = live.LastSeenAt };
        session.Store(reader);
        await statuses.ObserveAsync(reader, live.Status, ct);
        if (live.Status == "offline")
        {
            await session.SaveChangesAsync(ct);
            return ApiProblems.Problem(409, "reader_offline",
                "Le lecteur est hors ligne : allumez-le, vérifiez sa connexion Internet (Wi-Fi ou câble) puis reconnectez la caisse.",
                new Dictionary<string, object?> { ["lastSeenAt"] = live.LastSeenAt });
        }

        if (live.Action is { Status: "in_progress" } action && !body.Force && !await IsThisTillsSaleAsync(session, merchant.MerchantId, tillId, action, ct))
        {
            return ApiProblems.Problem(409, "reader_in_use",
                "Le lecteur est occupé par une autre caisse (paiement ou affichage en cours). Attendez la fin, ou forcez la connexion (force=true).",
                new Dictionary<string, object?> { ["action"] = action.Type });
        }

        var link = new TillReader(TillReader.Key(merchant.MerchantId, tillId), merchant.MerchantId, tillId, reader.Id, clock.GetUtcNow());
        session.Store(link);
        await session.SaveChangesAsync(ct);
        return TypedResults.Ok(new TillReaderView(tillId, ReaderView.From(reader, live.Action is { } a ? $"{a.Type}:{a.Status}" : null), link.ConnectedAt));
    }

    private static async Task<bool> IsThisTillsSaleAsync(IQuerySession session, Guid merchantId, string tillId, ReaderAction action, CancellationToken ct)
    {
        var pi = action.ProcessPaymentIntent?.PaymentIntentId;
        if (pi is null)
        {
            return false;
        }

        var payment = await session.Query<Payments.CardPayment>().FirstOrDefaultAsync(p => p.PaymentIntentId == pi, ct);
        return payment is not null && payment.MerchantId == merchantId && payment.TillId == tillId;
    }

    /// <summary>
    /// The operator's way out of a stuck action (spec 3.1): <c>cancel_action</c> clears the reader;
    /// the sale's attempt ends and the same PaymentIntent is re-used when the till sends the sale again.
    /// Refused (busy) while a card is authorising.
    /// </summary>
    private static async Task<IResult> CancelActionAsync(
        HttpContext http, string readerId, IDocumentSession session, StripeClient stripe, Payments.CardPayments payments, ReaderStatuses statuses,
        CancellationToken ct)
    {
        var merchant = http.Merchant();
        if (await OwnedAsync(session, merchant.MerchantId, readerId, ct) is not { } owned)
        {
            return ReaderNotFound();
        }

        var call = StripeSetup.Call(await session.StripeAccountAsync(merchant.MerchantId, ct));
        try
        {
            var before = await stripe.V1.Terminal.Readers.GetAsync(readerId, null, call, ct);
            var after = await stripe.V1.Terminal.Readers.CancelActionAsync(readerId, new ReaderCancelActionOptions(), call, ct);
            await statuses.ObserveAsync(owned, after.Status, ct);
            if (before.Action?.ProcessPaymentIntent?.PaymentIntentId is { } pi && await payments.FindByIntentAsync(pi, ct) is { } payment)
            {
                await payments.ReconcileReaderFailureAsync(payment, "canceled_on_reader", "Action annulée sur le lecteur par l'opérateur.", ct);
            }

            return TypedResults.Ok(ReaderView.From(
                (await OwnedAsync(session, merchant.MerchantId, readerId, ct))! with { Status = after.Status, LastSeenAt = after.LastSeenAt }));
        }
        catch (StripeException ex)
        {
            return StripeProblems.From(ex);
        }
    }

    private static async Task<IResult> GetTillReaderAsync(
        HttpContext http, string tillId, IDocumentSession session, StripeClient stripe, ReaderStatuses statuses, CancellationToken ct)
    {
        var merchant = http.Merchant();
        var link = await session.LoadAsync<TillReader>(TillReader.Key(merchant.MerchantId, tillId), ct);
        if (link is null || await OwnedAsync(session, merchant.MerchantId, link.ReaderId, ct) is not { } reader)
        {
            return ApiProblems.Problem(404, "till_not_connected", "Cette caisse n'est reliée à aucun lecteur.");
        }

        string? action = null;
        try
        {
            var live = await stripe.V1.Terminal.Readers.GetAsync(reader.Id, null, StripeSetup.Call(await session.StripeAccountAsync(merchant.MerchantId, ct)), ct);
            reader = reader with { Status = live.Status, LastSeenAt = live.LastSeenAt };
            action = live.Action is { } a ? $"{a.Type}:{a.Status}" : null;
            session.Store(reader);
            await session.SaveChangesAsync(ct);
            await statuses.ObserveAsync(reader, live.Status, ct);
        }
        catch (StripeException)
        {
            // Shown with the last known status.
        }

        return TypedResults.Ok(new TillReaderView(tillId, ReaderView.From(reader, action), link.ConnectedAt));
    }

    private static async Task<IResult> ListTillsAsync(HttpContext http, IQuerySession session, CancellationToken ct)
    {
        var merchant = http.Merchant().MerchantId;
        var links = await session.Query<TillReader>().Where(t => t.MerchantId == merchant).OrderBy(t => t.TillId).ToListAsync(ct);
        return TypedResults.Ok(links.Select(t => new TillLinkView(t.TillId, t.ReaderId, t.ConnectedAt)).ToList());
    }

    private static async Task<IResult> DisconnectAsync(HttpContext http, string tillId, IDocumentSession session, CancellationToken ct)
    {
        session.Delete<TillReader>(TillReader.Key(http.Merchant().MerchantId, tillId));
        await session.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> ConnectionTokenAsync(
        HttpContext http, IQuerySession session, StripeClient stripe, CancellationToken ct)
    {
        var (parsed, invalid) = await JsonBody.ReadAsync<CreateConnectionToken>(http.Request, ct);
        if (invalid is not null)
        {
            return invalid;
        }

        var body = parsed!;
        var merchant = http.Merchant();
        var location = body.LocationId is null ? null : await session.LoadAsync<TerminalLocation>(body.LocationId, ct);
        if (body.LocationId is not null && location?.MerchantId != merchant.MerchantId)
        {
            return ApiProblems.Problem(404, "location_not_found", "Emplacement inconnu pour ce commerce.");
        }

        try
        {
            var token = await stripe.V1.Terminal.ConnectionTokens.CreateAsync(
                new ConnectionTokenCreateOptions { Location = body.LocationId },
                StripeSetup.Call(await session.StripeAccountAsync(merchant.MerchantId, ct)), ct);
            return TypedResults.Ok(new { secret = token.Secret, locationId = token.Location });
        }
        catch (StripeException ex)
        {
            return StripeProblems.From(ex);
        }
    }
}
