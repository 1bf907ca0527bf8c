namespace Fidpass.CashlogyEdge.Api;

/// <summary>
/// What the OpenAPI document shows of the cash routes. The handlers read their bodies themselves
/// (<see cref="JsonBody"/>, so a malformed body is a clear 400 with a stable code, never a binder
/// error); these records only describe the bodies they read. Amounts are integer cents.
/// </summary>
public static class ApiDocs
{
    public sealed record MachineRequest(string Name, string Host, int? Port, string? TillCode, string? Mode, IReadOnlyList<string>? BackOfficeRoles);

    /// <summary>The till's signed-in user; back-office acts need one of the machine's <c>backOfficeRoles</c>.</summary>
    public sealed record OperatorRequest(string Id, string Role);

    public sealed record OperatorOnlyRequest(OperatorRequest? Operator);

    /// <summary>memberBarcode: what the till scanned (a UUID, or a URL holding it), or memberId; flow: express (Connector screens) or headless, only on a mixed machine.</summary>
    public sealed record ChargeRequest(string RequestId, long Amount, string? MemberBarcode, string? MemberId, string? BasketReference, bool? AllowPartial, string? Flow);

    /// <summary>SaleOperationId: The sale refunded (bounded by what it collected); without it, a back-office payout with an operator.</summary>
    public sealed record PayoutRequest(string RequestId, long Amount, string? SaleOperationId, bool? CoinsOnly, OperatorRequest? Operator);

    public sealed record MachineOperationRequest(string RequestId, OperatorRequest Operator);

    public sealed record DenominationCount(long Value, int Count);

    /// <summary>Destination: outlet (default), stacker or safebox (notes only).</summary>
    public sealed record DispensationRequest(string RequestId, IReadOnlyList<DenominationCount> Denominations, string? Destination, OperatorRequest Operator);

    public sealed record ResolveIncidentsRequest(bool? SelfProtection, bool? AccountingMismatch, OperatorRequest Operator);

    /// <summary>Action: reset (maintenance counter) or cleaning (belts).</summary>
    public sealed record MaintenanceRequest(string Action, OperatorRequest Operator);

    /// <summary>
    /// The answers of a cash route: <paramref name="success"/>, and as problem+json 401 (no gateway
    /// identity), 403 (no <c>cash</c> scope or operator role), 404 (another slug, unknown machine or
    /// operation) plus <paramref name="problems"/>.
    /// </summary>
    public static RouteHandlerBuilder Answers(this RouteHandlerBuilder route, int success, params int[] problems)
    {
        route.Produces(success);
        foreach (var status in new[] { 401, 403, 404 }.Concat(problems).Distinct().Order())
        {
            route.ProducesProblem(status);
        }

        return route;
    }

    /// <summary>A JSON body of <typeparamref name="T"/>'s shape; a malformed one answers 400.</summary>
    public static RouteHandlerBuilder Body<T>(this RouteHandlerBuilder route)
        where T : notnull =>
        route.Accepts<T>("application/json").ProducesProblem(400);
}
