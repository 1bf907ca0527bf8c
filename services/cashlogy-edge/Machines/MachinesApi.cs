using System.Text.Json;
using Fidpass.CashlogyEdge.Api;
using Fidpass.CashlogyEdge.Protocol;
using Fidpass.CashlogyEdge.Sessions;
using Fidpass.ServiceDefaults;
using Marten;

namespace Fidpass.CashlogyEdge.Machines;

/// <summary>Machines of a merchant (CRUD, test connection) and the machine's own figures (totals, inventory, levels).</summary>
public static class MachinesApi
{
    /// <summary>A query waits behind a health poll (milliseconds), not behind a customer's sale (minutes).</summary>
    private static readonly TimeSpan QueryWait = TimeSpan.FromSeconds(2);

    public static IEndpointRouteBuilder MapMachinesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/merchants/{slug}/cash/machines").WithTags("Cash machines");
        group.MapGet("/", ListAsync).WithSummary("Liste des machines Cashlogy du commerce, avec leur état.").Answers(200);
        group.MapPost("/", CreateAsync).WithSummary("Déclare une machine Cashlogy (adresse du CashlogyConnector, code caisse, mode).")
            .WithDescription("L'adresse (host) doit être sur un réseau de commerce autorisé (CashMachines:AllowedNetworks) ; "
                + "sinon 400 machine_address_not_allowed, sans rien enregistrer.")
            .Body<ApiDocs.MachineRequest>().Answers(201, 400);
        group.MapGet("/{machineId:guid}", GetAsync).WithSummary("Une machine et son état en direct.").Answers(200);
        group.MapPut("/{machineId:guid}", UpdateAsync).WithSummary("Modifie une machine.").Body<ApiDocs.MachineRequest>().Answers(200, 400, 409);
        group.MapDelete("/{machineId:guid}", DeleteAsync).WithSummary("Supprime une machine.").Answers(204, 409);
        group.MapPost("/{machineId:guid}/test", TestAsync).WithSummary("Teste la connexion : interroge la machine (#?#).").Answers(200, 409);
        group.MapPost("/{machineId:guid}/recover", RecoverAsync).WithSummary("Débloque la machine (#Z# puis #I#) et vérifie les opérations restées sans réponse.")
            .Body<ApiDocs.OperatorOnlyRequest>().Answers(200, 409);
        group.MapGet("/{machineId:guid}/totals", TotalsAsync).WithSummary("Totaux en caisse (recycleurs, stacker), en centimes.").Answers(200, 409);
        group.MapGet("/{machineId:guid}/inventory", InventoryAsync).WithSummary("Inventaire par valeur (pièces et billets).").Answers(200, 409);
        group.MapGet("/{machineId:guid}/levels", LevelsAsync).WithSummary("Niveaux par valeur (vide, presque vide, plein…).").Answers(200, 409);
        group.MapPost("/{machineId:guid}/incidents/resolve", ResolveIncidentsAsync)
            .WithSummary("Résout les incidents (#RI#) : auto-protection et/ou écart de caisse, après intervention sur la machine.")
            .Body<ApiDocs.ResolveIncidentsRequest>().Answers(200, 409);
        group.MapPost("/{machineId:guid}/maintenance", MaintenanceAsync)
            .WithSummary("Entretien : remet à zéro le compteur de maintenance (reset) ou enregistre un nettoyage des courroies (cleaning), #W#.")
            .Body<ApiDocs.MaintenanceRequest>().Answers(200, 409);
        return app;
    }

    /// <summary>One answer for an address outside the shop networks and a name that does not resolve: nothing is learnt about the inside.</summary>
    private static IResult AddressNotAllowed() => ApiProblems.Problem(400, "machine_address_not_allowed",
        "L'adresse de la machine doit être sur le réseau local du commerce : cette adresse est introuvable ou n'est pas autorisée.");

    private sealed record MachineInput(string Name, string Host, int Port, string TillCode, MachineMode Mode, IReadOnlyList<string>? BackOfficeRoles);

    private static bool TryRead(JsonElement body, out MachineInput input, out IResult? problem)
    {
        input = null!;
        problem = null;
        var name = CashAccess.OptionalString(body, "name")?.Trim();
        var host = CashAccess.OptionalString(body, "host")?.Trim();
        var till = CashAccess.OptionalString(body, "tillCode")?.Trim() ?? "1";
        var modeText = CashAccess.OptionalString(body, "mode") ?? "express";
        var port = 8092;
        if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("port", out var portValue) &&
            (portValue.ValueKind != JsonValueKind.Number || !portValue.TryGetInt32(out port) || port is < 1 or > 65535))
        {
            problem = ApiProblems.Problem(400, "invalid_port", "« port » doit être un entier entre 1 et 65535.");
            return false;
        }

        if (string.IsNullOrEmpty(name) || name.Length > 80)
        {
            problem = ApiProblems.Problem(400, "invalid_name", "« name » est obligatoire (80 caractères au plus).");
            return false;
        }

        if (string.IsNullOrEmpty(host) || host.Length > 253 || Uri.CheckHostName(host) == UriHostNameType.Unknown)
        {
            problem = ApiProblems.Problem(400, "invalid_host", "« host » doit être un nom d'hôte ou une adresse IP.");
            return false;
        }

        if (!CashAccess.IsSafe(till) || till.Length > 16)
        {
            problem = ApiProblems.Problem(400, "invalid_till_code", "« tillCode » : 1 à 16 caractères parmi lettres, chiffres, « . _ : - ».");
            return false;
        }

        if (!Enum.TryParse<MachineMode>(modeText, ignoreCase: true, out var mode) || !Enum.IsDefined(mode) || int.TryParse(modeText, out _))
        {
            problem = ApiProblems.Problem(400, "invalid_mode", "« mode » vaut express, complete ou mixed.");
            return false;
        }

        if (!TryRoles(body, out var roles))
        {
            problem = ApiProblems.Problem(400, "invalid_back_office_roles",
                "« backOfficeRoles » : une liste de 1 à 10 rôles de la caisse (lettres, chiffres, « . _ : - », 32 caractères au plus).");
            return false;
        }

        input = new MachineInput(name, host, port, till, mode, roles);
        return true;
    }

    /// <summary>Absent: the default roles; present: a non-empty list of role names as the till spells them.</summary>
    private static bool TryRoles(JsonElement body, out IReadOnlyList<string>? roles)
    {
        roles = null;
        if (!body.TryGetProperty("backOfficeRoles", out var value))
        {
            return true;
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() is 0 or > 10 ||
            value.EnumerateArray().Any(r => r.ValueKind != JsonValueKind.String || r.GetString()!.Length > 32 || !CashAccess.IsSafe(r.GetString()!)))
        {
            return false;
        }

        roles = value.EnumerateArray().Select(r => r.GetString()!).Distinct(StringComparer.Ordinal).ToList();
        return true;
    }

    public static object View(Machine machine, ConnectorSession? session) => new
    {
        id = machine.Id,
        name = machine.Name,
        host = machine.Host,
        port = machine.Port,
        tillCode = machine.TillCode,
        mode = machine.Mode.ToString().ToLowerInvariant(),
        currency = machine.Currency,
        backOfficeRoles = machine.AllowedBackOfficeRoles,
        status = (session?.Status ?? SessionStatus.Offline).ToString().ToLowerInvariant(),
        statusDetail = session?.StatusDetail,
        version = session?.Version,
        lastSeen = session?.LastSeen,
        errors = session?.Errors.Select(e => new { code = e.Code, warning = e.IsWarning, title = e.Title, message = e.Message }),
        activeOperation = session?.ActiveOperation,
        maintenance = session?.MaintenanceNotesLeft is { } left
            ? new
            {
                notesLeft = left,
                due = session.MaintenanceDue,
                detail = session.MaintenanceDue ? $"Maintenance préventive à faire : encore {left} billets avant l'entretien des courroies." : null,
            }
            : null,
    };

    private static async Task<IResult> ListAsync(string slug, HttpRequest request, IQuerySession session, MachineSessions sessions, CancellationToken ct)
    {
        if (!CashAccess.TryIdentify(request, slug, out var identity, out var problem))
        {
            return problem!;
        }

        var machines = await session.Query<Machine>().Where(m => m.MerchantId == identity.MerchantId).OrderBy(m => m.Name).ToListAsync(ct);
        return Results.Ok(machines.Select(m => View(m, sessions.Get(m.Id))));
    }

    private static async Task<IResult> CreateAsync(string slug, HttpRequest request, JsonBody input, IDocumentSession session, MachineSessions sessions,
        MachineNetworks networks, CancellationToken ct)
    {
        if (!CashAccess.TryIdentify(request, slug, out var identity, out var problem))
        {
            return problem!;
        }

        if (!input.IsObject)
        {
            return CashAccess.InvalidJson();
        }

        var body = input.Value;

        if (!TryRead(body, out var settings, out problem))
        {
            return problem!;
        }

        if (await networks.ResolveAllowedAsync(settings.Host, ct) is null)
        {
            return AddressNotAllowed();
        }

        var machine = new Machine(Guid.NewGuid(), identity.MerchantId, settings.Name, settings.Host, settings.Port, settings.TillCode, settings.Mode, "eur", DateTimeOffset.UtcNow,
            slug, settings.BackOfficeRoles);
        session.Store(machine);
        await session.SaveChangesAsync(ct);
        var connector = await sessions.OpenAsync(machine);
        return Results.Created($"/api/v1/merchants/{slug}/cash/machines/{machine.Id}", View(machine, connector));
    }

    private static async Task<IResult> GetAsync(string slug, Guid machineId, HttpRequest request, IQuerySession session, MachineSessions sessions, CancellationToken ct)
    {
        if (!CashAccess.TryIdentify(request, slug, out var identity, out var problem))
        {
            return problem!;
        }

        var machine = await CashAccess.FindMachineAsync(session, identity, machineId, ct);
        return machine is null ? CashAccess.MachineNotFound() : Results.Ok(View(machine, sessions.Get(machine.Id)));
    }

    private static async Task<IResult> UpdateAsync(string slug, Guid machineId, HttpRequest request, JsonBody input, IDocumentSession session, MachineSessions sessions,
        MachineNetworks networks, CancellationToken ct)
    {
        if (!CashAccess.TryIdentify(request, slug, out var identity, out var problem))
        {
            return problem!;
        }

        if (!input.IsObject)
        {
            return CashAccess.InvalidJson();
        }

        var body = input.Value;

        if (await CashAccess.FindMachineAsync(session, identity, machineId, ct) is not { } machine)
        {
            return CashAccess.MachineNotFound();
        }

        if (!TryRead(body, out var settings, out problem))
        {
            return problem!;
        }

        if (await networks.ResolveAllowedAsync(settings.Host, ct) is null)
        {
            return AddressNotAllowed();
        }

        if (sessions.Get(machine.Id)?.ActiveOperation is not null)
        {
            return ApiProblems.Problem(409, "machine_busy", "Une opération est en cours sur cette machine.");
        }

        var updated = machine with
        {
            Name = settings.Name,
            Host = settings.Host,
            Port = settings.Port,
            TillCode = settings.TillCode,
            Mode = settings.Mode,
            MerchantSlug = slug,
            BackOfficeRoles = settings.BackOfficeRoles ?? machine.BackOfficeRoles,
        };
        session.Store(updated);
        await session.SaveChangesAsync(ct);
        if (updated.Host != machine.Host || updated.Port != machine.Port)
        {
            await sessions.ReopenAsync(updated);
        }

        return Results.Ok(View(updated, sessions.Get(updated.Id)));
    }

    private static async Task<IResult> DeleteAsync(string slug, Guid machineId, HttpRequest request, IDocumentSession session, MachineSessions sessions, CancellationToken ct)
    {
        if (!CashAccess.TryIdentify(request, slug, out var identity, out var problem))
        {
            return problem!;
        }

        if (await CashAccess.FindMachineAsync(session, identity, machineId, ct) is not { } machine)
        {
            return CashAccess.MachineNotFound();
        }

        if (sessions.Get(machine.Id)?.ActiveOperation is not null)
        {
            return ApiProblems.Problem(409, "machine_busy", "Une opération est en cours sur cette machine.");
        }

        session.Delete(machine);
        await session.SaveChangesAsync(ct);
        await sessions.CloseAsync(machine.Id);
        return Results.NoContent();
    }

    private static async Task<IResult> TestAsync(string slug, Guid machineId, HttpRequest request, IQuerySession session, MachineSessions sessions, CancellationToken ct) =>
        await WithSessionAsync(slug, machineId, request, session, sessions, async (machine, connector) =>
        {
            var reply = await connector.SendAsync(CommandCatalog.Errors, [], ct, waitForTurn: QueryWait);
            return Results.Ok(new
            {
                reachable = true,
                code = reply.Code,
                errorCodes = DeviceError.ParseCodes(reply.Text(0)),
                machine = View(machine, connector),
            });
        }, ct);

    private static async Task<IResult> RecoverAsync(string slug, Guid machineId, HttpRequest request, JsonBody input, IQuerySession session, MachineSessions sessions,
        CancellationToken ct) =>
        await WithSessionAsync(slug, machineId, request, session, sessions, async (machine, connector) =>
        {
            if (!CashAccess.TryAuthorizeBackOffice(GatewayIdentity.From(request)!, input.IsObject ? input.Value : default, machine, out _, out var refused))
            {
                return refused!;
            }

            var reset = await connector.RecoverAsync(QueryWait, ct);
            return reset.IsSuccess
                ? Results.Ok(View(machine, connector))
                : MachineRefused(reset);
        }, ct);

    private static async Task<IResult> TotalsAsync(string slug, Guid machineId, HttpRequest request, IQuerySession session, MachineSessions sessions, CancellationToken ct) =>
        await WithSessionAsync(slug, machineId, request, session, sessions, async (_, connector) =>
        {
            var reply = await connector.SendAsync(CommandCatalog.Totals, [], ct, waitForTurn: QueryWait);
            if (!reply.IsSuccess)
            {
                return MachineRefused(reply);
            }

            var totals = CashTotals.From(reply);
            return Results.Ok(new { recyclers = totals.Recyclers, stacker = totals.Stacker, total = totals.Total, currency = "eur", levelWarning = reply.IsLevelWarning });
        }, ct);

    private static async Task<IResult> InventoryAsync(string slug, Guid machineId, HttpRequest request, IQuerySession session, MachineSessions sessions,
        IDocumentStore store, CancellationToken ct) =>
        await WithSessionAsync(slug, machineId, request, session, sessions, async (machine, connector) =>
        {
            var reply = await connector.SendAsync(CommandCatalog.Inventory, [], ct, waitForTurn: QueryWait);
            if (!reply.IsSuccess)
            {
                return MachineRefused(reply);
            }

            await MachineCashApi.RecordAsync(store, machine, reply, ct);

            var recyclers = DenominationList.Parse(reply.Text(0));
            var stacker = DenominationList.Parse(reply.Text(1));
            static object Items(DenominationList list) => list.Items.Select(i => new { value = i.Value, count = i.Count, kind = i.IsNote ? "note" : "coin" });
            return Results.Ok(new
            {
                recyclers = Items(recyclers),
                stacker = Items(stacker),
                recyclersTotal = recyclers.TotalCents,
                stackerTotal = stacker.TotalCents,
                currency = "eur",
            });
        }, ct);

    private static async Task<IResult> LevelsAsync(string slug, Guid machineId, HttpRequest request, IQuerySession session, MachineSessions sessions, CancellationToken ct) =>
        await WithSessionAsync(slug, machineId, request, session, sessions, async (_, connector) =>
        {
            var reply = await connector.SendAsync(CommandCatalog.Levels2, [], ct, waitForTurn: QueryWait);
            if (reply.Code is CashlogyReply.BadData or CashlogyReply.Illegal)
            {
                // Older Connectors have only #GC# (spec 4.11).
                reply = await connector.SendAsync(CommandCatalog.Levels, [], ct, waitForTurn: QueryWait);
            }

            if (!reply.IsSuccess)
            {
                return MachineRefused(reply);
            }

            var levels = DenominationLevel.Parse(reply.Text(0), reply.Text(1));
            return Results.Ok(new
            {
                levels = levels.Select(l => new { denomination = l.Denomination, kind = l.IsNote ? "note" : "coin", state = l.StateName, code = l.State, percent = l.Percent }),
                warning = levels.Any(l => l.State != 0),
            });
        }, ct);

    private static async Task<IResult> MaintenanceAsync(string slug, Guid machineId, HttpRequest request, JsonBody input, IQuerySession session,
        MachineSessions sessions, CancellationToken ct)
    {
        if (!CashAccess.TryIdentify(request, slug, out var identity, out var problem))
        {
            return problem!;
        }

        if (!input.IsObject)
        {
            return CashAccess.InvalidJson();
        }

        var action = CashAccess.OptionalString(input.Value, "action") switch
        {
            "reset" => "1",
            "cleaning" => "2",
            _ => null,
        };
        if (action is null)
        {
            return ApiProblems.Problem(400, "invalid_maintenance_action", "« action » vaut reset (compteur remis à zéro) ou cleaning (nettoyage des courroies).");
        }

        if (await CashAccess.FindMachineAsync(session, identity, machineId, ct) is not { } machine)
        {
            return CashAccess.MachineNotFound();
        }

        if (!CashAccess.TryAuthorizeBackOffice(identity, input.Value, machine, out _, out problem))
        {
            return problem!;
        }

        return await WithSessionAsync(slug, machineId, request, session, sessions, async (_, connector) =>
        {
            var reply = await connector.CheckMaintenanceAsync(QueryWait, ct, action);
            return reply.IsSuccess ? Results.Ok(View(machine, connector)) : MachineRefused(reply);
        }, ct);
    }

    /// <summary>
    /// After a jam or a note stuck at the inlet the machine stays in self-protection or reports an
    /// accounting mismatch until the operator clears it (<c>#RI#</c>); the reply carries the machine's figures.
    /// </summary>
    private static async Task<IResult> ResolveIncidentsAsync(string slug, Guid machineId, HttpRequest request, JsonBody input, IQuerySession session,
        MachineSessions sessions, CancellationToken ct)
    {
        if (!CashAccess.TryIdentify(request, slug, out var identity, out var problem))
        {
            return problem!;
        }

        if (!input.IsObject)
        {
            return CashAccess.InvalidJson();
        }

        var selfProtection = CashAccess.OptionalBool(input.Value, "selfProtection");
        var mismatch = CashAccess.OptionalBool(input.Value, "accountingMismatch");
        if (!selfProtection && !mismatch)
        {
            return ApiProblems.Problem(400, "nothing_to_resolve", "Indiquez « selfProtection » et/ou « accountingMismatch » à true.");
        }

        if (await CashAccess.FindMachineAsync(session, identity, machineId, ct) is not { } machine)
        {
            return CashAccess.MachineNotFound();
        }

        if (!CashAccess.TryAuthorizeBackOffice(identity, input.Value, machine, out _, out problem))
        {
            return problem!;
        }

        return await WithSessionAsync(slug, machineId, request, session, sessions, async (_, connector) =>
        {
            if (connector.ActiveOperation is not null)
            {
                return ApiProblems.Problem(409, "machine_busy", "Une opération est en cours sur cette machine.");
            }

            var reply = await connector.SendAsync(CommandCatalog.ResolveIncidents, [selfProtection ? "1" : "0", mismatch ? "1" : "0", "2"], ct, waitForTurn: QueryWait);
            if (!reply.IsSuccess)
            {
                return MachineRefused(reply);
            }

            return Results.Ok(new
            {
                before = reply.Cents(0),
                after = reply.Cents(1),
                inserted = reply.Cents(2),
                dispensed = reply.Cents(3),
                pending = reply.Cents(4),
                mismatch = reply.Cents(5),
                currency = "eur",
            });
        }, ct);
    }

    private static IResult MachineRefused(CashlogyReply reply) => reply.Code == CashlogyReply.Busy
        ? ApiProblems.Problem(409, "machine_busy", "La machine est occupée.")
        : ApiProblems.Problem(409, "machine_refused", $"La machine a répondu {reply.Code}.");

    private static async Task<IResult> WithSessionAsync(string slug, Guid machineId, HttpRequest request, IQuerySession session, MachineSessions sessions,
        Func<Machine, ConnectorSession, Task<IResult>> action, CancellationToken ct)
    {
        if (!CashAccess.TryIdentify(request, slug, out var identity, out var problem))
        {
            return problem!;
        }

        if (await CashAccess.FindMachineAsync(session, identity, machineId, ct) is not { } machine)
        {
            return CashAccess.MachineNotFound();
        }

        var connector = sessions.Get(machine.Id);
        if (connector is null || !connector.IsConnected)
        {
            return ApiProblems.Problem(409, "machine_offline", "Le CashlogyConnector de cette machine est injoignable.",
                new Dictionary<string, object?> { ["machine"] = View(machine, connector) });
        }

        try
        {
            return await action(machine, connector);
        }
        catch (ConnectorUnavailableException ex)
        {
            return ApiProblems.Problem(409, ex.Code, ex.Message);
        }
        catch (ReplyLostException)
        {
            return ApiProblems.Problem(409, "machine_offline", "La machine n'a pas répondu.");
        }
    }
}
