namespace Fidpass.CashlogyEdge.Protocol;

/// <summary>How long the Connector may take to answer a command (spec 5.2).</summary>
public enum TimeoutClass
{
    Quick,
    Init,
    Dispense,
    Human,
    Stacker,
}

/// <summary>What kind of value each reply field holds, so a frame that does not fit its command is recognised as stale.</summary>
public enum ValueKind
{
    Text,
    Cents,
}

/// <summary>
/// One command of the CashlogyConnector protocol: its reply arity (values after the result code in a
/// successful reply), the kind of each value, its timeout class and whether it moves money (then it is
/// journaled before it is sent and never re-sent blindly).
/// </summary>
public sealed record CommandSpec(string Code, ValueKind[] Values, TimeoutClass Timeout, bool MovesMoney = false, bool Screen = false)
{
    public int Arity => Values.Length;
}

/// <summary>The commands the edge sends, with their reply shapes (spec 2.5).</summary>
public static class CommandCatalog
{
    private static ValueKind[] Cents(int n) => Enumerable.Repeat(ValueKind.Cents, n).ToArray();

    private static ValueKind[] Text(int n) => Enumerable.Repeat(ValueKind.Text, n).ToArray();

    public static readonly CommandSpec Initialize = new("I", Text(1), TimeoutClass.Init);
    public static readonly CommandSpec End = new("E", [], TimeoutClass.Quick);
    public static readonly CommandSpec Charge = new("C", Cents(4), TimeoutClass.Human, MovesMoney: true, Screen: true);
    public static readonly CommandSpec BackOffice = new("G", Cents(6), TimeoutClass.Human, MovesMoney: true, Screen: true);
    public static readonly CommandSpec StartAcceptance = new("B", [], TimeoutClass.Quick, MovesMoney: true);
    public static readonly CommandSpec AcceptedSoFar = new("Q", Cents(1), TimeoutClass.Quick);
    public static readonly CommandSpec StopAcceptance = new("J", Cents(1), TimeoutClass.Quick, MovesMoney: true);
    public static readonly CommandSpec Dispense = new("P", Cents(2), TimeoutClass.Dispense, MovesMoney: true);
    public static readonly CommandSpec AddChange = new("A", [], TimeoutClass.Quick, MovesMoney: true);
    public static readonly CommandSpec Cancel = new("!", [], TimeoutClass.Quick);
    public static readonly CommandSpec Reset = new("Z", [], TimeoutClass.Quick);
    public static readonly CommandSpec Totals = new("T", Cents(2), TimeoutClass.Quick);
    public static readonly CommandSpec Totals2 = new("T2", Cents(4), TimeoutClass.Quick);
    public static readonly CommandSpec Inventory = new("Y", Text(2), TimeoutClass.Quick);
    public static readonly CommandSpec Inventory2 = new("Y2", Text(4), TimeoutClass.Quick);
    public static readonly CommandSpec Levels = new("GC", Text(2), TimeoutClass.Quick);
    public static readonly CommandSpec Levels2 = new("GC2", Text(2), TimeoutClass.Quick);
    public static readonly CommandSpec AuxiliaryInfo = new("GI", Text(2), TimeoutClass.Quick);
    public static readonly CommandSpec Errors = new("?", Text(1), TimeoutClass.Quick);
    public static readonly CommandSpec Maintenance = new("W", Cents(1), TimeoutClass.Quick);
    public static readonly CommandSpec CollectStacker = new("S", Cents(1), TimeoutClass.Stacker, MovesMoney: true);

    /// <summary><c>#RI#self_protection#accounting_mismatch#mode#</c>: <c>#0#before#after#in#out#pending#mismatch#</c>.</summary>
    public static readonly CommandSpec ResolveIncidents = new("RI", Cents(6), TimeoutClass.Dispense);

    /// <summary><c>#F#1#</c> closure / cash float (screen): <c>#0#total_before#added#total_after#</c>.</summary>
    public static readonly CommandSpec CloseDay = new("F", Cents(3), TimeoutClass.Human, MovesMoney: true, Screen: true);

    /// <summary><c>#U#coins;notes#notes_to_stacker#0#0#</c>: <c>#0#list_actually_dispensed#</c>.</summary>
    public static readonly CommandSpec DispenseDenominations = new("U", Text(1), TimeoutClass.Dispense, MovesMoney: true);

    /// <summary><c>#U2#list#dest#0#0#</c> (dest 0 outlet, 1 stacker, 2 safe box).</summary>
    public static readonly CommandSpec DispenseDenominations2 = new("U2", Text(1), TimeoutClass.Dispense, MovesMoney: true);

    /// <summary><c>#?#code1,code2#rel#</c> answers one detail per code.</summary>
    public static CommandSpec ErrorDetails(int codes) => new("?", Text(codes), TimeoutClass.Quick);

    public static TimeSpan TimeoutOf(TimeoutClass timeout, CashlogyTimeouts settings) => timeout switch
    {
        TimeoutClass.Quick => settings.Quick,
        TimeoutClass.Init => settings.Init,
        TimeoutClass.Dispense => settings.Dispense,
        TimeoutClass.Human => settings.Human,
        TimeoutClass.Stacker => settings.Stacker,
        _ => settings.Quick,
    };
}

/// <summary>Configurable timeouts (spec 5.2); <c>Cashlogy:Timeouts:*</c>.</summary>
public sealed record CashlogyTimeouts
{
    public TimeSpan Connect { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan Quick { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan Init { get; init; } = TimeSpan.FromSeconds(240);
    public TimeSpan Dispense { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Customer or operator screens: spec says "no hard timeout"; a generous bound still frees the session.</summary>
    public TimeSpan Human { get; init; } = TimeSpan.FromMinutes(15);
    public TimeSpan Stacker { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Short error replies (<c>#ER:BUSY#</c>) carry fewer fields than the command's arity: accept them after this much silence.</summary>
    public TimeSpan Quiet { get; init; } = TimeSpan.FromMilliseconds(500);
}
