namespace Fidpass.CashlogyEdge.Operations;

public enum OperationKind
{
    Charge,
    Payout,
    BackOffice,

    /// <summary>Empty the stacker (<c>#S#2#</c>): notes that can never be paid out leave the machine.</summary>
    CollectStacker,

    /// <summary>Load change into the machine (<c>#A#2#</c>, headless): the operator inserts coins/notes, the till says when it is done.</summary>
    AddFloat,

    /// <summary>Close of day (<c>#F#1#</c>, Connector screen): the operator leaves the float and takes the rest; counts before and after are recorded.</summary>
    CloseDay,

    /// <summary>Dispense given coins/notes (<c>#U#</c>/<c>#U2#</c>): to the outlet, or notes moved to the stacker.</summary>
    Dispensation,
}

/// <summary>Express = Connector screens (<c>#C#</c>); Headless = the till's own UI (<c>#B#</c>/<c>#Q#</c>/<c>#J#</c> then <c>#P#</c> for change).</summary>
public enum ChargeFlow
{
    Express,
    Headless,
}

public enum OperationStatus
{
    /// <summary>Journaled, nothing sent yet.</summary>
    Requested,

    /// <summary>The money command left (or is about to): only a reply or a reconciliation settles it.</summary>
    Sent,

    /// <summary>Sent, and the reply was lost: waiting for reconciliation after reconnection.</summary>
    Unknown,

    Settled,
}

/// <summary>The outcome model of spec 5.1; always with the machine's own figures.</summary>
public enum Outcome
{
    Completed,
    Cancelled,
    PartiallyPaid,
    ChangeShort,
    Rejected,
    Failed,
    NeedsAttention,
}

// ---- events (one stream per operation; the stream id is derived from the machine and the till's request id) ----

public sealed record CashOperationRequested(
    Guid OperationId, Guid MerchantId, Guid MachineId, OperationKind Kind, string RequestId, long Amount, string Currency,
    ChargeFlow Flow, bool AllowPartial, bool CoinsOnly, Guid? MemberId, string? BasketReference,
    Guid? SaleOperationId, string? SalePaymentId, DateTimeOffset RequestedAt,
    string? OperatorRole = null, string? OperatorId = null, string? Denominations = null, string? Destination = null,
    Fidpass.ServiceDefaults.LoyaltyNotice? Loyalty = null);

/// <summary>The machine's own count (<c>#T#</c> and <c>#Y#</c>) at a moment of an operation (close of day: before and after).</summary>
public sealed record CashCount(long Recyclers, long Stacker, string RecyclerList, string StackerList)
{
    public long Total => Recyclers + Stacker;
}

public sealed record CashCountRecorded(Guid OperationId, string Moment, CashCount Count, DateTimeOffset At);

/// <summary>Written before the bytes leave: with the inventory snapshot that lets a lost reply be reconciled.</summary>
public sealed record CashCommandSent(Guid OperationId, string Frame, long? TotalBefore, DateTimeOffset SentAt);

public sealed record CashOperationOutcomeUnknown(Guid OperationId, string Reason, DateTimeOffset At);

/// <summary>
/// The single outcome of an operation. <see cref="Collected"/> is what the merchant really kept for
/// the sale (the amount of <c>PaymentCollected</c>); <see cref="Dispensed"/> what a payout really paid
/// (the amount of <c>PaymentRefunded</c> when linked to a sale); <see cref="Shortfall"/> what is still
/// owed to the customer (change or refund the machine could not pay).
/// </summary>
public sealed record CashOperationSettled(
    Guid OperationId, Guid MerchantId, Guid MachineId, OperationKind Kind, Outcome Outcome, string ResultCode,
    long Inserted, long Returned, long Manual, long ChangeAdded, long Dispensed, long Collected, long Shortfall,
    bool LevelWarning, bool Reconciled, string? Detail, Guid? MemberId, string? BasketReference, string? SalePaymentId,
    string Currency, DateTimeOffset SettledAt, string? DispensedList = null);

/// <summary>Immutable state of one cash operation, folded from its events (inline snapshot, queryable).</summary>
public sealed record CashOperation
{
    public Guid Id { get; init; }
    public Guid MerchantId { get; init; }
    public Guid MachineId { get; init; }
    public OperationKind Kind { get; init; }
    public string RequestId { get; init; } = "";
    public long Amount { get; init; }
    public string Currency { get; init; } = "eur";
    public ChargeFlow Flow { get; init; }
    public bool AllowPartial { get; init; }
    public bool CoinsOnly { get; init; }
    public Guid? MemberId { get; init; }
    public string? BasketReference { get; init; }
    public Guid? SaleOperationId { get; init; }
    public string? SalePaymentId { get; init; }
    public OperationStatus Status { get; init; }
    public long? TotalBefore { get; init; }
    public string? LastFrame { get; init; }
    public string? UnknownReason { get; init; }
    public CashOperationSettled? Result { get; init; }
    public DateTimeOffset RequestedAt { get; init; }
    public string? OperatorRole { get; init; }
    public string? OperatorId { get; init; }

    /// <summary>Dispensation: the coins/notes asked for, in the Connector's <c>coins;notes</c> format.</summary>
    public string? Denominations { get; init; }

    /// <summary>Dispensation: outlet, stacker or safebox.</summary>
    public string? Destination { get; init; }

    /// <summary>Charge with a card: what loyalty said about it when the sale started (told to the till).</summary>
    public Fidpass.ServiceDefaults.LoyaltyNotice? Loyalty { get; init; }

    public CashCount? CountBefore { get; init; }
    public CashCount? CountAfter { get; init; }

    public bool IsSettled => Status == OperationStatus.Settled;

    public static CashOperation Create(CashOperationRequested e) => new()
    {
        Id = e.OperationId,
        MerchantId = e.MerchantId,
        MachineId = e.MachineId,
        Kind = e.Kind,
        RequestId = e.RequestId,
        Amount = e.Amount,
        Currency = e.Currency,
        Flow = e.Flow,
        AllowPartial = e.AllowPartial,
        CoinsOnly = e.CoinsOnly,
        MemberId = e.MemberId,
        BasketReference = e.BasketReference,
        SaleOperationId = e.SaleOperationId,
        SalePaymentId = e.SalePaymentId,
        Status = OperationStatus.Requested,
        RequestedAt = e.RequestedAt,
        OperatorRole = e.OperatorRole,
        OperatorId = e.OperatorId,
        Denominations = e.Denominations,
        Destination = e.Destination,
        Loyalty = e.Loyalty,
    };

    public CashOperation Apply(CashCountRecorded e) => e.Moment == "before" ? this with { CountBefore = e.Count } : this with { CountAfter = e.Count };

    public CashOperation Apply(CashCommandSent e) => this with
    {
        Status = OperationStatus.Sent,
        TotalBefore = TotalBefore ?? e.TotalBefore,
        LastFrame = e.Frame,
    };

    public CashOperation Apply(CashOperationOutcomeUnknown e) =>
        IsSettled ? this : this with { Status = OperationStatus.Unknown, UnknownReason = e.Reason };

    public CashOperation Apply(CashOperationSettled e) => IsSettled ? this : this with { Status = OperationStatus.Settled, Result = e };

    /// <summary><c>cash:&lt;machine&gt;:&lt;operation&gt;</c>, the PaymentId (charge) or RefundId (payout).</summary>
    public string PaymentId => $"cash:{MachineId}:{Id}";
}
