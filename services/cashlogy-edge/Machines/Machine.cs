namespace Fidpass.CashlogyEdge.Machines;

/// <summary>How a till uses the machine: Connector screens (Express), its own UI (complete/headless), or both.</summary>
public enum MachineMode
{
    Express,
    Complete,
    Mixed,
}

/// <summary>
/// A Cashlogy machine of a merchant: where its CashlogyConnector listens, which till code it uses,
/// the merchant's slug (a metrics label) and which till roles may run back-office operations.
/// </summary>
public sealed record Machine(Guid Id, Guid MerchantId, string Name, string Host, int Port, string TillCode, MachineMode Mode, string Currency, DateTimeOffset CreatedAt,
    string? MerchantSlug = null, IReadOnlyList<string>? BackOfficeRoles = null)
{
    /// <summary>Roles allowed when the machine was stored before roles existed, or none were given.</summary>
    public static readonly IReadOnlyList<string> DefaultBackOfficeRoles = ["manager"];

    public IReadOnlyList<string> AllowedBackOfficeRoles => BackOfficeRoles is { Count: > 0 } roles ? roles : DefaultBackOfficeRoles;
}

/// <summary>A status change of a machine, appended to the machine's own stream and relayed as <c>CashMachineStatusChanged</c>.</summary>
public sealed record MachineStatusChanged(Guid MachineId, Guid MerchantId, string Status, string? Detail, DateTimeOffset OccurredAt);
