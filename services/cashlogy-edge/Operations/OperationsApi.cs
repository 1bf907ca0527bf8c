using System.Text.Json;
using Fidpass.CashlogyEdge.Api;
using Fidpass.CashlogyEdge.Machines;
using Fidpass.CashlogyEdge.Sessions;
using Fidpass.Contracts.Loyalty;
using Fidpass.ServiceDefaults;
using Marten;
using Marten.Exceptions;
using MassTransit;

namespace Fidpass.CashlogyEdge.Operations;

/// <summary>
/// Money on a machine: charge (Express <c>#C#</c> or headless B/Q/J + P), payout/refund (<c>#P#</c>),
/// back office (<c>#G#</c>), an operation's status with live progress, and cancel. Each request is
/// journaled before anything is sent and is idempotent by the till's <c>requestId</c>; every refusal
/// happens before the journal, so a refused request sends nothing to the machine.
/// </summary>
public static class OperationsApi
{
    public static IEndpointRouteBuilder MapOperationsApi(this IEndpointRouteBuilder app)
    {
        var machines = app.MapGroup("/api/v1/merchants/{slug}/cash/machines/{machineId:guid}").WithTags("Cash operations");
        machines.MapPost("/charges", ChargeAsync).WithSummary("Encaisse un montant en espèces (écran du Connector ou flux sans écran).")
            .Body<ApiDocs.ChargeRequest>().Answers(202, 409, 422).Produces(200);
        machines.MapPost("/payouts", PayoutAsync).WithSummary("Rend de l'argent (remboursement d'une vente ou sortie de caisse).")
            .Body<ApiDocs.PayoutRequest>().Answers(202, 409, 422).Produces(200);
        machines.MapPost("/back-office", BackOfficeAsync).WithSummary("Ouvre le menu back-office du Connector sur la machine.")
            .Body<ApiDocs.MachineOperationRequest>().Answers(202, 409, 422).Produces(200);
        machines.MapPost("/floats", AddFloatAsync).WithSummary("Ajoute de la monnaie (fonds de caisse) sans écran : terminez avec …/operations/{id}/finish.")
            .Body<ApiDocs.MachineOperationRequest>().Answers(202, 409, 422).Produces(200);
        machines.MapPost("/stacker-collections", CollectStackerAsync).WithSummary("Vide le stacker (billets non recyclables) et enregistre le montant retiré.")
            .Body<ApiDocs.MachineOperationRequest>().Answers(202, 409, 422).Produces(200);
        machines.MapPost("/closures", CloseDayAsync).WithSummary("Clôture de caisse (#F#, écran du Connector) : comptages avant et après enregistrés.")
            .Body<ApiDocs.MachineOperationRequest>().Answers(202, 409, 422).Produces(200);
        machines.MapPost("/dispensations", DispenseDenominationsAsync)
            .WithSummary("Sort des pièces/billets précis (#U#) : vers la sortie, ou billets déplacés vers le stacker.")
            .Body<ApiDocs.DispensationRequest>().Answers(202, 409, 422).Produces(200);
        var operations = app.MapGroup("/api/v1/merchants/{slug}/cash/operations/{operationId:guid}").WithTags("Cash operations");
        operations.MapGet("/", GetAsync).WithSummary("État d'une opération, avec la progression et les montants de la machine.").Answers(200);
        operations.MapPost("/finish", FinishAsync).WithSummary("Termine un ajout de monnaie en cours.").Answers(202, 409);
        operations.MapPost("/cancel", CancelAsync).WithSummary("Demande l'annulation de l'opération en cours.").Answers(202, 409);
        return app;
    }

    private static async Task<IResult> ChargeAsync(string slug, Guid machineId, HttpRequest request, JsonBody input,
        IDocumentSession session, MachineSessions sessions, OperationRunner runner, IRequestClient<CheckMember> members, CancellationToken ct)
    {
        if (!CashAccess.TryReadCommand(request, slug, input, out var identity, out var body, out var requestId, out var problem))
        {
            return problem!;
        }

        if (!CashAccess.TryAmount(body, "amount", out var amount))
        {
            return CashAccess.InvalidAmount();
        }

        Guid? memberId = null;
        // The till sends what it scanned (memberBarcode), or the card's UUID it already knows (memberId).
        if ((CashAccess.OptionalString(body, "memberBarcode") ?? CashAccess.OptionalString(body, "memberId")) is { } member)
        {
            memberId = MemberBarcode.Normalise(member);
            if (memberId is null)
            {
                return ApiProblems.Problem(400, "invalid_member", "Le code de la carte de fidélité n'est pas reconnu.");
            }
        }

        var basket = CashAccess.OptionalString(body, "basketReference");
        if (basket is not null && basket.Length > 100)
        {
            return ApiProblems.Problem(400, "invalid_basket_reference", "« basketReference » : 100 caractères au plus.");
        }

        if (await CashAccess.FindMachineAsync(session, identity, machineId, ct) is not { } machine)
        {
            return CashAccess.MachineNotFound();
        }

        var flowText = CashAccess.OptionalString(body, "flow");
        var flow = machine.Mode switch
        {
            MachineMode.Express => ChargeFlow.Express,
            MachineMode.Complete => ChargeFlow.Headless,
            _ => string.Equals(flowText, "headless", StringComparison.OrdinalIgnoreCase) ? ChargeFlow.Headless : ChargeFlow.Express,
        };
        if (flowText is not null && !string.Equals(flowText, flow.ToString(), StringComparison.OrdinalIgnoreCase))
        {
            return ApiProblems.Problem(400, "invalid_flow", $"Cette machine est en mode {machine.Mode.ToString().ToLowerInvariant()} : « flow » {flowText} n'est pas possible.");
        }

        // The sale goes ahead whatever the card; the till is told now if it will earn nothing, and why.
        var loyalty = memberId is { } card ? await members.AskAsync(identity.MerchantId, card, ct) : null;
        var requested = new CashOperationRequested(Decide.OperationId(machine.Id, requestId), identity.MerchantId, machine.Id, OperationKind.Charge, requestId,
            amount, machine.Currency, flow, CashAccess.OptionalBool(body, "allowPartial"), false, memberId, basket, null, null, DateTimeOffset.UtcNow,
            Loyalty: loyalty);
        return await StartAsync(slug, requested, machine, session, sessions, runner, ct);
    }

    private static async Task<IResult> PayoutAsync(string slug, Guid machineId, HttpRequest request, JsonBody input,
        IDocumentSession session, MachineSessions sessions, OperationRunner runner, CancellationToken ct)
    {
        if (!CashAccess.TryReadCommand(request, slug, input, out var identity, out var body, out var requestId, out var problem))
        {
            return problem!;
        }

        if (!CashAccess.TryAmount(body, "amount", out var amount))
        {
            return CashAccess.InvalidAmount();
        }

        if (await CashAccess.FindMachineAsync(session, identity, machineId, ct) is not { } machine)
        {
            return CashAccess.MachineNotFound();
        }

        Guid? saleId = null;
        string? salePaymentId = null;
        if (CashAccess.OptionalString(body, "saleOperationId") is { } saleText)
        {
            if (!Guid.TryParse(saleText, out var parsed) || await session.LoadAsync<CashOperation>(parsed, ct) is not { } sale ||
                sale.MerchantId != identity.MerchantId || sale.Kind != OperationKind.Charge)
            {
                return ApiProblems.Problem(404, "sale_not_found", "Vente inconnue pour ce commerce.");
            }

            var collected = sale.Result?.Collected ?? 0;
            var refunds = await session.Query<CashOperation>().Where(o => o.SaleOperationId == sale.Id && o.Id != Decide.OperationId(machine.Id, requestId)).ToListAsync(ct);
            var alreadyRefunded = refunds.Sum(r => r.IsSettled ? r.Result!.Dispensed : r.Amount);
            if (amount > collected - alreadyRefunded)
            {
                return ApiProblems.Problem(422, "refund_exceeds_sale",
                    $"Remboursement de {Decide.Euros(amount)} supérieur au reste de la vente ({Decide.Euros(Math.Max(0, collected - alreadyRefunded))}).");
            }

            saleId = sale.Id;
            salePaymentId = sale.PaymentId;
        }

        // A refund is bounded by its sale; cash out of the drawer without a sale is a back-office act.
        OperatorInfo? who = null;
        if (saleId is null && !CashAccess.TryAuthorizeBackOffice(identity, body, machine, out who, out problem))
        {
            return problem!;
        }

        var requested = new CashOperationRequested(Decide.OperationId(machine.Id, requestId), identity.MerchantId, machine.Id, OperationKind.Payout, requestId,
            amount, machine.Currency, ChargeFlow.Headless, false, CashAccess.OptionalBool(body, "coinsOnly"), null, null, saleId, salePaymentId, DateTimeOffset.UtcNow,
            who?.Role, who?.Id);
        return await StartAsync(slug, requested, machine, session, sessions, runner, ct);
    }

    private static Task<IResult> BackOfficeAsync(string slug, Guid machineId, HttpRequest request, JsonBody input,
        IDocumentSession session, MachineSessions sessions, OperationRunner runner, CancellationToken ct) =>
        MachineOperationAsync(OperationKind.BackOffice, slug, machineId, request, input, session, sessions, runner, ct);

    private static Task<IResult> AddFloatAsync(string slug, Guid machineId, HttpRequest request, JsonBody input,
        IDocumentSession session, MachineSessions sessions, OperationRunner runner, CancellationToken ct) =>
        MachineOperationAsync(OperationKind.AddFloat, slug, machineId, request, input, session, sessions, runner, ct);

    private static Task<IResult> CollectStackerAsync(string slug, Guid machineId, HttpRequest request, JsonBody input,
        IDocumentSession session, MachineSessions sessions, OperationRunner runner, CancellationToken ct) =>
        MachineOperationAsync(OperationKind.CollectStacker, slug, machineId, request, input, session, sessions, runner, ct);

    private static Task<IResult> CloseDayAsync(string slug, Guid machineId, HttpRequest request, JsonBody input,
        IDocumentSession session, MachineSessions sessions, OperationRunner runner, CancellationToken ct) =>
        MachineOperationAsync(OperationKind.CloseDay, slug, machineId, request, input, session, sessions, runner, ct);

    private static async Task<IResult> DispenseDenominationsAsync(string slug, Guid machineId, HttpRequest request, JsonBody input,
        IDocumentSession session, MachineSessions sessions, OperationRunner runner, CancellationToken ct)
    {
        if (!CashAccess.TryReadCommand(request, slug, input, out var identity, out var body, out var requestId, out var problem))
        {
            return problem!;
        }

        if (!Denominations.TryRead(body, out var pieces, out var amount))
        {
            return ApiProblems.Problem(400, "invalid_denominations",
                $"« denominations » : une liste de {{ \"value\", \"count\" }} (valeurs en centimes des pièces et billets en euros, nombres entiers > 0), total au plus {CashAccess.MaxAmount}.");
        }

        var destination = CashAccess.OptionalString(body, "destination") ?? "outlet";
        if (destination is not ("outlet" or "stacker" or "safebox"))
        {
            return ApiProblems.Problem(400, "invalid_destination", "« destination » vaut outlet (sortie), stacker ou safebox (coffre).");
        }

        if (destination != "outlet" && pieces.Any(p => !p.IsNote))
        {
            return ApiProblems.Problem(400, "invalid_destination", "Seuls des billets peuvent aller au stacker ou au coffre.");
        }

        return await MachineOperationAsync(OperationKind.Dispensation, slug, machineId, request, input, session, sessions, runner, ct,
            amount, Denominations.Format(pieces), destination);
    }

    private static async Task<IResult> MachineOperationAsync(OperationKind kind, string slug, Guid machineId, HttpRequest request, JsonBody input,
        IDocumentSession session, MachineSessions sessions, OperationRunner runner, CancellationToken ct,
        long amount = 0, string? denominations = null, string? destination = null)
    {
        if (!CashAccess.TryReadCommand(request, slug, input, out var identity, out var body, out var requestId, out var problem))
        {
            return problem!;
        }

        if (await CashAccess.FindMachineAsync(session, identity, machineId, ct) is not { } machine)
        {
            return CashAccess.MachineNotFound();
        }

        if (!CashAccess.TryAuthorizeBackOffice(identity, body, machine, out var who, out problem))
        {
            return problem!;
        }

        var requested = new CashOperationRequested(Decide.OperationId(machine.Id, requestId), identity.MerchantId, machine.Id, kind, requestId,
            amount, machine.Currency, kind == OperationKind.AddFloat ? ChargeFlow.Headless : ChargeFlow.Express, false, false, null, null, null, null, DateTimeOffset.UtcNow,
            who?.Role, who?.Id, denominations, destination);
        return await StartAsync(slug, requested, machine, session, sessions, runner, ct);
    }

    private static async Task<IResult> StartAsync(string slug, CashOperationRequested requested, Machine machine,
        IDocumentSession session, MachineSessions sessions, OperationRunner runner, CancellationToken ct)
    {
        var location = $"/api/v1/merchants/{slug}/cash/operations/{requested.OperationId}";

        // A replay of the same request answers with the journaled operation; the same id for something else is refused.
        if (await session.LoadAsync<CashOperation>(requested.OperationId, ct) is { } existing)
        {
            return Replay(existing, requested, location, sessions);
        }

        var connector = sessions.Get(machine.Id);
        // A device error blocks sales and payouts, not the back office or the stacker collection that resolve it (spec 5.3).
        var resolvesErrors = requested.Kind is OperationKind.BackOffice or OperationKind.CollectStacker;
        if (connector is null || !connector.IsReady || !(connector.Status == SessionStatus.Ready || (resolvesErrors && connector.Status == SessionStatus.Error)))
        {
            return connector?.Status switch
            {
                SessionStatus.Error => ApiProblems.Problem(409, "machine_error", $"La machine signale une erreur : {connector.StatusDetail}. Rien n'a été envoyé."),
                SessionStatus.Busy => ApiProblems.Problem(409, "machine_busy", "La machine est occupée (un écran du Connector est ouvert). Rien n'a été envoyé."),
                SessionStatus.Initializing => ApiProblems.Problem(409, "machine_initializing",
                    "La machine s'initialise (jusqu'à une minute au premier démarrage). Rien n'a été envoyé : réessayez dans un instant."),
                _ => ApiProblems.Problem(409, "machine_offline", "La machine n'est pas prête (CashlogyConnector injoignable). Rien n'a été envoyé."),
            };
        }

        if (!connector.TryReserve(requested.OperationId))
        {
            return ApiProblems.Problem(409, "machine_busy", "Une autre opération est en cours sur cette machine. Rien n'a été envoyé.",
                new Dictionary<string, object?> { ["activeOperation"] = connector.ActiveOperation });
        }

        try
        {
            session.CarryTrace();
            session.Events.StartStream<CashOperation>(requested.OperationId, requested);
            await session.SaveChangesAsync(ct);
        }
        catch (ExistingStreamIdCollisionException)
        {
            connector.Release(requested.OperationId);
            await using var fresh = session.DocumentStore.QuerySession();
            var journaled = await fresh.LoadAsync<CashOperation>(requested.OperationId, ct);
            return journaled is null ? ApiProblems.Problem(409, "request_in_progress", "Cette demande est déjà en cours.") : Replay(journaled, requested, location, sessions);
        }
        catch
        {
            connector.Release(requested.OperationId);
            throw;
        }

        runner.Start(requested.OperationId, machine);
        return Results.Accepted(location, View(CashOperation.Create(requested), connector));
    }

    private static IResult Replay(CashOperation existing, CashOperationRequested requested, string location, MachineSessions sessions)
    {
        if (existing.Kind != requested.Kind || existing.Amount != requested.Amount || existing.MerchantId != requested.MerchantId ||
            existing.SaleOperationId != requested.SaleOperationId || existing.Denominations != requested.Denominations || existing.Destination != requested.Destination)
        {
            return ApiProblems.Problem(422, "request_id_reused", "Ce « requestId » a déjà servi pour une autre opération.");
        }

        var view = View(existing, sessions.Get(existing.MachineId));
        return existing.IsSettled ? Results.Ok(view) : Results.Accepted(location, view);
    }

    public static object View(CashOperation op, ConnectorSession? session)
    {
        var running = session?.ActiveOperation == op.Id;
        var r = op.Result;
        return new
        {
            operationId = op.Id,
            machineId = op.MachineId,
            kind = op.Kind.ToString().ToLowerInvariant(),
            flow = op.Flow.ToString().ToLowerInvariant(),
            requestId = op.RequestId,
            amount = op.Amount,
            currency = op.Currency,
            status = op.Status.ToString().ToLowerInvariant(),
            outcome = r is null ? null : JsonNamingPolicy.SnakeCaseLower.ConvertName(r.Outcome.ToString()),
            resultCode = r?.ResultCode,
            progress = running ? new { inserted = session!.Progress } : null,
            inserted = r?.Inserted,
            returned = r?.Returned,
            manual = r?.Manual,
            changeAdded = r?.ChangeAdded,
            dispensed = r?.Dispensed,
            collected = r?.Collected,
            shortfall = r?.Shortfall,
            levelWarning = r?.LevelWarning,
            reconciled = r?.Reconciled,
            detail = r?.Detail ?? (op.Status == OperationStatus.Unknown ? "Réponse perdue : l'issue sera vérifiée dès que la machine sera de nouveau connectée." : null),
            paymentId = op.Kind == OperationKind.Charge && r is { Collected: > 0 } ? op.PaymentId : null,
            refundId = op.Kind == OperationKind.Payout && r is { Dispensed: > 0 } && op.SalePaymentId is not null ? op.PaymentId : null,
            saleOperationId = op.SaleOperationId,
            memberId = op.MemberId,
            loyalty = op.Loyalty is { } notice ? new { creditsPoints = notice.CreditsPoints, code = notice.Code, message = notice.Message } : null,
            basketReference = op.BasketReference,
            @operator = op.OperatorRole is null ? null : new { role = op.OperatorRole, id = op.OperatorId },
            denominations = op.Denominations is null ? null : Denominations.View(op.Denominations),
            dispensedDenominations = r?.DispensedList is { } list ? Denominations.View(list) : null,
            destination = op.Destination,
            countBefore = CountView(op.CountBefore),
            countAfter = CountView(op.CountAfter),
        };
    }

    private static object? CountView(CashCount? count) => count is null ? null : new
    {
        recyclers = count.Recyclers,
        stacker = count.Stacker,
        total = count.Total,
        recyclerDenominations = Denominations.View(count.RecyclerList),
        stackerDenominations = Denominations.View(count.StackerList),
    };

    private static async Task<IResult> GetAsync(string slug, Guid operationId, HttpRequest request, IQuerySession session, MachineSessions sessions, CancellationToken ct)
    {
        if (!CashAccess.TryIdentify(request, slug, out var identity, out var problem))
        {
            return problem!;
        }

        var op = await session.LoadAsync<CashOperation>(operationId, ct);
        return op is null || op.MerchantId != identity.MerchantId
            ? ApiProblems.Problem(404, "operation_not_found", "Opération inconnue pour ce commerce.")
            : Results.Ok(View(op, sessions.Get(op.MachineId)));
    }

    private static async Task<IResult> FinishAsync(string slug, Guid operationId, HttpRequest request, IQuerySession session, MachineSessions sessions, CancellationToken ct)
    {
        if (!CashAccess.TryIdentify(request, slug, out var identity, out var problem))
        {
            return problem!;
        }

        var op = await session.LoadAsync<CashOperation>(operationId, ct);
        if (op is null || op.MerchantId != identity.MerchantId)
        {
            return ApiProblems.Problem(404, "operation_not_found", "Opération inconnue pour ce commerce.");
        }

        var connector = sessions.Get(op.MachineId);
        if (op.Kind != OperationKind.AddFloat || op.IsSettled || connector?.ActiveOperation != op.Id)
        {
            return ApiProblems.Problem(409, "operation_not_running", "Aucun ajout de monnaie en cours pour cette opération.");
        }

        connector.FinishRequested = true;
        return Results.Accepted($"/api/v1/merchants/{slug}/cash/operations/{op.Id}", new { operationId = op.Id, finishRequested = true });
    }

    private static async Task<IResult> CancelAsync(string slug, Guid operationId, HttpRequest request, IQuerySession session, MachineSessions sessions, CancellationToken ct)
    {
        if (!CashAccess.TryIdentify(request, slug, out var identity, out var problem))
        {
            return problem!;
        }

        var op = await session.LoadAsync<CashOperation>(operationId, ct);
        if (op is null || op.MerchantId != identity.MerchantId)
        {
            return ApiProblems.Problem(404, "operation_not_found", "Opération inconnue pour ce commerce.");
        }

        var connector = sessions.Get(op.MachineId);
        if (op.IsSettled || connector?.ActiveOperation != op.Id)
        {
            return ApiProblems.Problem(409, "operation_not_running", "Cette opération n'est plus en cours.");
        }

        connector.CancelRequested = true;
        if (op.Flow == ChargeFlow.Express || op.Kind == OperationKind.BackOffice)
        {
            // #!# on an Express screen is unverified (spec 4.4): ask, and tell the cashier where to cancel for sure.
            await connector.SendCancelAsync(ct);
            return Results.Accepted($"/api/v1/merchants/{slug}/cash/operations/{op.Id}", new
            {
                operationId = op.Id,
                cancelRequested = true,
                detail = "Annulation demandée. Si l'écran du Connector reste ouvert, appuyez sur « Annuler » sur la machine.",
            });
        }

        return Results.Accepted($"/api/v1/merchants/{slug}/cash/operations/{op.Id}", new
        {
            operationId = op.Id,
            cancelRequested = true,
            detail = "Annulation demandée : l'argent inséré va être rendu.",
        });
    }
}
