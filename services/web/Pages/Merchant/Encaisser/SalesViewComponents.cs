using Fidpass.Web.Gateway;
using Microsoft.AspNetCore.Mvc;

namespace Fidpass.Web.Pages.Merchant.Encaisser;

public sealed record CardSalesView(IReadOnlyList<Device> Readers, IReadOnlyList<SaleRow> Sales);

public sealed record CashSalesView(IReadOnlyList<Device> Machines, IReadOnlyList<SaleRow> Sales, IReadOnlyDictionary<string, CashHeld?> Held);

/// <summary>« Lecteurs de carte »: the sale on each reader now and the day's card sales, each refundable from here.</summary>
public sealed class CardSalesViewComponent(GatewayClient gateway) : ViewComponent
{
    public async Task<IViewComponentResult> InvokeAsync()
    {
        var sales = new Sales(gateway);
        var readers = await sales.ReadersAsync(HttpContext.RequestAborted);
        return View(new CardSalesView(readers, readers.Count == 0 ? [] : await sales.CardSalesAsync(readers, HttpContext.RequestAborted)));
    }
}

/// <summary>« Caisse espèces »: what each machine holds (as it last counted), its sale now, and the day's cash sales.</summary>
public sealed class CashSalesViewComponent(GatewayClient gateway) : ViewComponent
{
    public async Task<IViewComponentResult> InvokeAsync()
    {
        var sales = new Sales(gateway);
        var ct = HttpContext.RequestAborted;
        var machines = await sales.MachinesAsync(ct);
        var held = new Dictionary<string, CashHeld?>();
        foreach (var machine in machines)
        {
            held[machine.Id] = await sales.CashHeldAsync(machine.Id, ct);
        }

        return View(new CashSalesView(machines, machines.Count == 0 ? [] : await sales.CashSalesAsync(machines, ct), held));
    }
}
