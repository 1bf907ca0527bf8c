using Fidpass.CashlogyEdge.Api;
using Fidpass.CashlogyEdge.Operations;
using Fidpass.CashlogyEdge.Protocol;
using Fidpass.CashlogyEdge.Sessions;
using Marten;

namespace Fidpass.CashlogyEdge.Machines;

/// <summary>
/// The cash in a machine by denomination as the machine itself last counted it (<c>#Y#</c>): kept
/// so the merchant sees it while the machine is busy with a customer or offline, with the time of the count.
/// </summary>
public sealed record MachineCash(Guid Id, Guid MerchantId, string RecyclerList, string StackerList, DateTimeOffset ReportedAt);

public static class MachineCashApi
{
    public static IEndpointRouteBuilder MapMachineCashApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/merchants/{slug}/cash/machines/{machineId:guid}/cash", GetAsync).WithTags("Cash machines")
            .WithSummary("Contenu de la machine par valeur, tel que la machine l'a compté la dernière fois (sans l'interroger).")
            .WithDescription("Recompté après chaque opération et à chaque lecture de …/inventory ; reportedAt dit quand. "
                + "404 cash_not_reported tant que la machine n'a jamais donné son contenu.")
            .Answers(200);
        return app;
    }

    public static object View(MachineCash cash)
    {
        var recyclers = DenominationList.Parse(cash.RecyclerList);
        var stacker = DenominationList.Parse(cash.StackerList);
        return new
        {
            machineId = cash.Id,
            reportedAt = cash.ReportedAt,
            recyclers = Denominations.View(cash.RecyclerList),
            stacker = Denominations.View(cash.StackerList),
            recyclersTotal = recyclers.TotalCents,
            stackerTotal = stacker.TotalCents,
            total = recyclers.TotalCents + stacker.TotalCents,
            currency = "eur",
        };
    }

    private static async Task<IResult> GetAsync(string slug, Guid machineId, HttpRequest request, IQuerySession session, CancellationToken ct)
    {
        if (!CashAccess.TryIdentify(request, slug, out var identity, out var problem))
        {
            return problem!;
        }

        if (await CashAccess.FindMachineAsync(session, identity, machineId, ct) is null)
        {
            return CashAccess.MachineNotFound();
        }

        var cash = await session.LoadAsync<MachineCash>(machineId, ct);
        return cash is null
            ? Fidpass.ServiceDefaults.ApiProblems.Problem(404, "cash_not_reported",
                "La machine n'a pas encore donné son contenu : il s'affichera après sa première opération ou un recomptage.")
            : Results.Ok(View(cash));
    }

    /// <summary>Stores what an inventory reply (<c>#Y#</c>) says.</summary>
    public static async Task RecordAsync(IDocumentStore store, Machine machine, CashlogyReply inventory, CancellationToken ct)
    {
        if (!inventory.IsSuccess)
        {
            return;
        }

        await using var session = store.LightweightSession();
        session.Store(new MachineCash(machine.Id, machine.MerchantId, inventory.Text(0), inventory.Text(1), DateTimeOffset.UtcNow));
        await session.SaveChangesAsync(ct);
    }

    /// <summary>
    /// Counts the machine after an operation, inside the operation's turn so no customer waits behind
    /// it. A count that fails changes nothing: the previous one stays, with its own time.
    /// </summary>
    public static async Task CountAfterOperationAsync(IDocumentStore store, ConnectorSession connector, Machine machine, ILogger logger)
    {
        try
        {
            var reply = await connector.SendAsync(CommandCatalog.Inventory, [], CancellationToken.None, waitForTurn: TimeSpan.FromSeconds(2));
            await RecordAsync(store, machine, reply, CancellationToken.None);
        }
        catch (Exception ex) when (ex is ReplyLostException or ConnectorUnavailableException or IOException or Npgsql.NpgsqlException
            or Marten.Exceptions.MartenCommandException)
        {
            logger.LogWarning("Cash count of machine {MachineId} after an operation skipped: {Reason}", machine.Id, ex.Message);
        }
    }
}
