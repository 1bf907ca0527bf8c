using Fidpass.CashlogyEdge.Machines;
using Fidpass.CashlogyEdge.Protocol;
using Fidpass.CashlogyEdge.Sessions;
using JasperFx;
using Marten;

namespace Fidpass.CashlogyEdge.Operations;

/// <summary>
/// Runs a journaled operation on its machine's session and records its one outcome. Every money
/// command is journaled (<see cref="CashCommandSent"/>, with the inventory total before) before its
/// bytes leave; a lost reply marks the operation unknown and it is settled by reconciliation after
/// reconnection, never by sending the command again.
/// </summary>
public sealed class OperationRunner(IDocumentStore store, MachineSessions sessions, ILogger<OperationRunner> logger) : IDisposable
{
    private readonly SemaphoreSlim _reconciling = new(1, 1);

    public void Start(Guid operationId, Machine machine) => _ = Task.Run(() => RunAsync(operationId, machine));

    private async Task RunAsync(Guid operationId, Machine machine)
    {
        var session = sessions.Get(machine.Id);
        var sent = false;
        try
        {
            if (session is null)
            {
                throw new ConnectorUnavailableException("machine_offline", "La machine n'est pas connectée.");
            }

            var op = await LoadAsync(operationId) ?? throw new InvalidOperationException($"Operation {operationId} not journaled.");
            Task Journal(string frame, long? totalBefore)
            {
                sent = true;
                return AppendAsync(operationId, new CashCommandSent(operationId, frame, totalBefore, DateTimeOffset.UtcNow));
            }

            var outcome = op.Kind switch
            {
                OperationKind.Charge when op.Flow == ChargeFlow.Headless => await HeadlessChargeAsync(session, op, Journal),
                OperationKind.Charge => await ExpressChargeAsync(session, machine, op, Journal),
                OperationKind.Payout => await PayoutAsync(session, op, Journal),
                OperationKind.CollectStacker => await CollectStackerAsync(session, op, Journal),
                OperationKind.AddFloat => await AddFloatAsync(session, op, Journal),
                OperationKind.CloseDay => await CloseDayAsync(session, op, Journal),
                OperationKind.Dispensation => await DispenseDenominationsAsync(session, op, Journal),
                _ => await BackOfficeAsync(session, op, Journal),
            };
            // Counted before the outcome is recorded: whoever waits for the outcome finds the machine free.
            await MachineCashApi.CountAfterOperationAsync(store, session, machine, logger);
            await SettleAsync(operationId, outcome);
        }
        catch (Exception ex) when (!sent && ex is ConnectorUnavailableException or ReplyLostException)
        {
            // Nothing money-moving left: the operation is refused as it stands, the till may try again.
            var op = await LoadAsync(operationId);
            if (op is not null)
            {
                var code = ex is ConnectorUnavailableException unavailable ? unavailable.Code : "machine_offline";
                await SettleAsync(operationId, Rejected(op, code, "La machine n'a pas pu être jointe : rien n'a été encaissé ni rendu."));
            }
        }
        catch (Exception ex) when (ex is ReplyLostException or ConnectorUnavailableException or IOException)
        {
            logger.LogWarning("Outcome of cash operation {OperationId} unknown: {Reason}", operationId, ex.Message);
            await AppendAsync(operationId, new CashOperationOutcomeUnknown(operationId, ex.Message, DateTimeOffset.UtcNow));
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Cash operation {OperationId} failed", operationId);
            if (sent)
            {
                await AppendAsync(operationId, new CashOperationOutcomeUnknown(operationId, ex.Message, DateTimeOffset.UtcNow));
            }
            else if (await LoadAsync(operationId) is { } op)
            {
                await SettleAsync(operationId, Rejected(op, "internal_error", "Erreur interne : rien n'a été envoyé à la machine."));
            }
        }
        finally
        {
            session?.Release(operationId);
        }

        if (session is { IsReady: true })
        {
            await ReconcileAsync(session, CancellationToken.None);
        }
    }

    private static async Task<long?> TotalAsync(ConnectorSession session)
    {
        var totals = await session.SendAsync(CommandCatalog.Totals, [], CancellationToken.None);
        return totals.IsSuccess ? CashTotals.From(totals).Total : null;
    }

    private static async Task<CashOperationSettled> ExpressChargeAsync(ConnectorSession session, Machine machine, CashOperation op, Func<string, long?, Task> journal)
    {
        var before = await TotalAsync(session);
        // #C#op#till#amount#cust_screen#x#y#accept_btn#partial#on_top#manual_cents#manual_deposit#
        string[] parameters = [op.RequestId, machine.TillCode, Cents(op.Amount), "0", "0", "0", "0", op.AllowPartial ? "1" : "0", "1", "0", "0"];
        var reply = await session.SendAsync(CommandCatalog.Charge, parameters, CancellationToken.None, frame => journal(frame, before));
        return Decide.Charge(op, reply, DateTimeOffset.UtcNow);
    }

    private async Task<CashOperationSettled> HeadlessChargeAsync(ConnectorSession session, CashOperation op, Func<string, long?, Task> journal)
    {
        var before = await TotalAsync(session);
        var start = await session.SendAsync(CommandCatalog.StartAcceptance, ["0", "0", "0"], CancellationToken.None, frame => journal(frame, before));
        if (!start.IsSuccess)
        {
            return Decide.ChargeOutcome(op, start.Code, 0, 0, 0, 0, false, reconciled: false, DateTimeOffset.UtcNow);
        }

        var deadline = DateTimeOffset.UtcNow + sessions.Options.Timeouts.Human;
        var cancelled = false;
        while (true)
        {
            if (session.CancelRequested || DateTimeOffset.UtcNow > deadline)
            {
                cancelled = true;
                break;
            }

            var progress = await session.SendAsync(CommandCatalog.AcceptedSoFar, [], CancellationToken.None);
            session.Progress = progress.Cents(0);
            if (progress.IsSuccess && progress.Cents(0) >= op.Amount)
            {
                break;
            }

            await Task.Delay(sessions.Options.HeadlessPollInterval);
        }

        var stop = await session.SendAsync(CommandCatalog.StopAcceptance, [], CancellationToken.None, frame => journal(frame, null));
        var inserted = stop.Cents(0);
        session.Progress = inserted;
        var toGive = cancelled ? inserted : Math.Max(0, inserted - op.Amount);
        long returned = 0;
        var level = stop.IsLevelWarning;
        if (toGive > 0)
        {
            var paid = await session.SendAsync(CommandCatalog.Dispense, [Cents(toGive), "0", "0", "0"], CancellationToken.None, frame => journal(frame, null));
            returned = DispenseFigures.From(paid).Dispensed;
            level |= paid.IsLevelWarning;
        }

        return Decide.ChargeOutcome(op, cancelled ? CashlogyReply.Cancelled : CashlogyReply.Ok, inserted, returned, 0, 0, level, reconciled: false, DateTimeOffset.UtcNow);
    }

    private static async Task<CashOperationSettled> PayoutAsync(ConnectorSession session, CashOperation op, Func<string, long?, Task> journal)
    {
        var before = await TotalAsync(session);
        var reply = await session.SendAsync(CommandCatalog.Dispense, [Cents(op.Amount), "0", "0", op.CoinsOnly ? "1" : "0"], CancellationToken.None,
            frame => journal(frame, before));
        return Decide.Payout(op, reply, DateTimeOffset.UtcNow);
    }

    private async Task<CashOperationSettled> AddFloatAsync(ConnectorSession session, CashOperation op, Func<string, long?, Task> journal)
    {
        var before = await TotalAsync(session);
        var start = await session.SendAsync(CommandCatalog.AddChange, ["2"], CancellationToken.None, frame => journal(frame, before));
        if (!start.IsSuccess)
        {
            return new CashOperationSettled(op.Id, op.MerchantId, op.MachineId, op.Kind, start.IsRejection ? Outcome.Rejected : Outcome.Failed, start.Code,
                0, 0, 0, 0, 0, 0, 0, false, false, Decide.RejectionDetail(start.Code), null, null, null, op.Currency, DateTimeOffset.UtcNow);
        }

        var deadline = DateTimeOffset.UtcNow + sessions.Options.Timeouts.Human;
        while (!session.FinishRequested && !session.CancelRequested && DateTimeOffset.UtcNow < deadline)
        {
            session.Progress = (await session.SendAsync(CommandCatalog.AcceptedSoFar, [], CancellationToken.None)).Cents(0);
            await Task.Delay(sessions.Options.HeadlessPollInterval);
        }

        var stop = await session.SendAsync(CommandCatalog.StopAcceptance, [], CancellationToken.None, frame => journal(frame, null));
        var loaded = stop.Cents(0);
        return new CashOperationSettled(op.Id, op.MerchantId, op.MachineId, op.Kind, Outcome.Completed, stop.Code, loaded, 0, 0, loaded, 0, 0, 0,
            stop.IsLevelWarning, false, $"Fonds de caisse ajouté : {Decide.Euros(loaded)}.", null, null, null, op.Currency, DateTimeOffset.UtcNow);
    }

    private static async Task<CashOperationSettled> CollectStackerAsync(ConnectorSession session, CashOperation op, Func<string, long?, Task> journal)
    {
        var before = await TotalAsync(session);
        var reply = await session.SendAsync(CommandCatalog.CollectStacker, ["2"], CancellationToken.None, frame => journal(frame, before));
        var removed = reply.Cents(0);
        var outcome = reply.IsSuccess ? Outcome.Completed : reply.IsRejection ? Outcome.Rejected : reply.Code == CashlogyReply.Cancelled ? Outcome.Cancelled : Outcome.Failed;
        return new CashOperationSettled(op.Id, op.MerchantId, op.MachineId, op.Kind, outcome, reply.Code, 0, 0, 0, 0, removed, 0, 0,
            reply.IsLevelWarning, false, $"Stacker vidé : {Decide.Euros(removed)}.", null, null, null, op.Currency, DateTimeOffset.UtcNow);
    }

    private static async Task<CashOperationSettled> BackOfficeAsync(ConnectorSession session, CashOperation op, Func<string, long?, Task> journal)
    {
        var before = await TotalAsync(session);
        var reply = await session.SendAsync(CommandCatalog.BackOffice, Enumerable.Repeat("1", 13).ToArray(), CancellationToken.None, frame => journal(frame, before));
        var f = BackOfficeFigures.From(reply);
        var outcome = reply.IsSuccess ? Outcome.Completed : reply.IsRejection ? Outcome.Rejected : reply.Code == CashlogyReply.Cancelled ? Outcome.Cancelled : Outcome.Failed;
        return new CashOperationSettled(op.Id, op.MerchantId, op.MachineId, op.Kind, outcome, reply.Code, f.Inserted, f.Returned, 0, 0, 0, 0, 0,
            reply.IsLevelWarning, false, $"Caisse avant {Decide.Euros(f.Before)}, après {Decide.Euros(f.After)}.", null, null, null, op.Currency, DateTimeOffset.UtcNow);
    }

    /// <summary>The machine's own count: <c>#T#</c> totals and <c>#Y#</c> per denomination; null when it does not answer them.</summary>
    private static async Task<CashCount?> CountAsync(ConnectorSession session)
    {
        var totals = await session.SendAsync(CommandCatalog.Totals, [], CancellationToken.None);
        var inventory = await session.SendAsync(CommandCatalog.Inventory, [], CancellationToken.None);
        return totals.IsSuccess && inventory.IsSuccess
            ? new CashCount(totals.Cents(0), totals.Cents(1), inventory.Text(0), inventory.Text(1))
            : null;
    }

    /// <summary>
    /// Close of day on the Connector screen (<c>#F#1#</c>): the operator takes the day's cash and leaves
    /// the float. The machine's count before and after (<c>#T#</c>, <c>#Y#</c>) is journaled with the
    /// operation, so the till's cash session holds the machine's own figures.
    /// </summary>
    private async Task<CashOperationSettled> CloseDayAsync(ConnectorSession session, CashOperation op, Func<string, long?, Task> journal)
    {
        var before = await CountAsync(session);
        if (before is not null)
        {
            await AppendAsync(op.Id, new CashCountRecorded(op.Id, "before", before, DateTimeOffset.UtcNow));
        }

        var reply = await session.SendAsync(CommandCatalog.CloseDay, ["1"], CancellationToken.None, frame => journal(frame, before?.Total));
        var f = ClosureFigures.From(reply);
        if (!reply.IsRejection && await CountAsync(session) is { } after)
        {
            await AppendAsync(op.Id, new CashCountRecorded(op.Id, "after", after, DateTimeOffset.UtcNow));
        }

        var outcome = reply.IsSuccess ? Outcome.Completed : reply.IsRejection ? Outcome.Rejected : reply.Code == CashlogyReply.Cancelled ? Outcome.Cancelled : Outcome.Failed;
        var detail = outcome switch
        {
            Outcome.Completed => $"Clôture : caisse avant {Decide.Euros(f.Before)}, ajouté {Decide.Euros(f.Added)}, retiré {Decide.Euros(f.Withdrawn)}, après {Decide.Euros(f.After)}.",
            Outcome.Rejected => Decide.RejectionDetail(reply.Code),
            Outcome.Cancelled => "Clôture annulée sur la machine.",
            _ => "La machine a signalé une erreur pendant la clôture (ER:GENERIC) : recomptez la caisse.",
        };
        return new CashOperationSettled(op.Id, op.MerchantId, op.MachineId, op.Kind, outcome, reply.Code, f.Added, 0, 0, f.Added,
            outcome == Outcome.Completed ? f.Withdrawn : 0, 0, 0, reply.IsLevelWarning, false, detail, null, null, null, op.Currency, DateTimeOffset.UtcNow);
    }

    /// <summary>
    /// Given coins/notes (<c>#U#list#notes_to_stacker#0#0#</c>, or <c>#U2#list#2#0#0#</c> for the safe box);
    /// the reply lists what really left, <c>WR:LEVEL</c> when a denomination was missing.
    /// </summary>
    private static async Task<CashOperationSettled> DispenseDenominationsAsync(ConnectorSession session, CashOperation op, Func<string, long?, Task> journal)
    {
        var before = await TotalAsync(session);
        var list = op.Denominations ?? ";";
        var reply = op.Destination == "safebox"
            ? await session.SendAsync(CommandCatalog.DispenseDenominations2, [list, "2", "0", "0"], CancellationToken.None, frame => journal(frame, before))
            : await session.SendAsync(CommandCatalog.DispenseDenominations, [list, op.Destination == "stacker" ? "1" : "0", "0", "0"], CancellationToken.None,
                frame => journal(frame, before));
        return Decide.Dispensation(op, reply, DateTimeOffset.UtcNow);
    }

    /// <summary>
    /// Settles every operation of this machine left without a reply (lost connection, edge restart),
    /// from the inventory total now versus the one journaled before the command.
    /// </summary>
    public async Task ReconcileAsync(ConnectorSession session, CancellationToken cancellationToken)
    {
        await _reconciling.WaitAsync(cancellationToken);
        try
        {
            await using var query = store.QuerySession();
            var pending = await query.Query<CashOperation>()
                .Where(o => o.MachineId == session.MachineId && (o.Status == OperationStatus.Sent || o.Status == OperationStatus.Unknown))
                .ToListAsync(cancellationToken);
            foreach (var op in pending.Where(o => o.Id != session.ActiveOperation).OrderBy(o => o.RequestedAt))
            {
                var totals = await session.SendAsync(CommandCatalog.Totals, [], cancellationToken);
                if (!totals.IsSuccess)
                {
                    return;
                }

                var settled = Decide.Reconcile(op, CashTotals.From(totals).Total, DateTimeOffset.UtcNow);
                if (logger.IsEnabled(LogLevel.Information))
                {
                    logger.LogInformation("Cash operation {OperationId} reconciled: {Outcome}", op.Id, settled.Outcome);
                }

                await SettleAsync(op.Id, settled);
            }
        }
        catch (Exception ex) when (ex is ReplyLostException or ConnectorUnavailableException)
        {
            logger.LogWarning("Reconciliation of machine {MachineId} postponed: {Reason}", session.MachineId, ex.Message);
        }
        finally
        {
            _reconciling.Release();
        }
    }

    private async Task<CashOperation?> LoadAsync(Guid operationId)
    {
        await using var query = store.QuerySession();
        return await query.LoadAsync<CashOperation>(operationId);
    }

    private async Task AppendAsync(Guid operationId, object @event)
    {
        await using var session = store.LightweightSession();
        var stream = await session.Events.FetchForWriting<CashOperation>(operationId);
        if (stream.Aggregate is null || stream.Aggregate.IsSettled)
        {
            return;
        }

        stream.AppendOne(@event);
        await session.SaveChangesAsync();
    }

    /// <summary>Exactly one outcome per operation: a settled stream refuses another, and a concurrent writer loses on the stream version.</summary>
    private async Task SettleAsync(Guid operationId, CashOperationSettled outcome)
    {
        try
        {
            await using var session = store.LightweightSession();
            var stream = await session.Events.FetchForWriting<CashOperation>(operationId);
            if (stream.Aggregate is null || Decide.Settle(stream.Aggregate, outcome) is not { } settled)
            {
                return;
            }

            stream.AppendOne(settled);
            await session.SaveChangesAsync();
        }
        catch (ConcurrencyException)
        {
            if (logger.IsEnabled(LogLevel.Information))
            {
                logger.LogInformation("Cash operation {OperationId} was settled concurrently; this outcome is dropped", operationId);
            }
        }
    }

    private static CashOperationSettled Rejected(CashOperation op, string code, string detail) =>
        new(op.Id, op.MerchantId, op.MachineId, op.Kind, Outcome.Rejected, code, 0, 0, 0, 0, 0, 0, 0, false, false, detail,
            op.MemberId, op.BasketReference, op.SalePaymentId, op.Currency, DateTimeOffset.UtcNow);

    public void Dispose() => _reconciling.Dispose();

    private static string Cents(long amount) => amount.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
