namespace Fidpass.CashlogySimulator;

/// <summary>
/// Every behaviour the spec marks uncertain (section 4) is an option, defaulting to the most
/// conservative reading so the edge is tested against the worst plausible Connector.
/// </summary>
public sealed record SimulatorOptions
{
    /// <summary>Version answered to <c>#I#</c>.</summary>
    public string Version { get; set; } = "2.5.0.136";

    /// <summary>Reply to an unknown command: <c>ER:BAD_DATA</c> or <c>ER:ILLEGAL</c> (§4.6).</summary>
    public string UnknownCommandReply { get; set; } = "ER:BAD_DATA";

    /// <summary>Whether <c>#!#</c> ends a running Express <c>#C#</c> (§4.4). Unverified, so off.</summary>
    public bool CancelAbortsExpressCharge { get; set; }

    /// <summary>Whether <c>#!#</c> sends its own <c>#0#</c> when it interrupts a command (§4.4): a stray frame for the client.</summary>
    public bool CancelEmitsOwnReply { get; set; } = true;

    /// <summary>Whether a sale stays open on the Connector screen when the client disconnects mid-<c>#C#</c> (§4.5).</summary>
    public bool ChargeContinuesAfterDisconnect { get; set; } = true;

    /// <summary>Whether a second TCP client is served while one is connected (§4.5); otherwise it is closed at once.</summary>
    public bool AllowConcurrentClients { get; set; }

    /// <summary>Whether the newer <c>…2</c> commands (T2, Y2, X2, GC2, U2, V2) exist (§4.11).</summary>
    public bool SupportsExtendedCommands { get; set; } = true;

    /// <summary>Whether <c>#I#</c> while already initialised answers <c>ER:BUSY</c> instead of <c>#0#version#</c> (§4.6).</summary>
    public bool RepeatedInitIsBusy { get; set; }

    /// <summary>How long <c>#I#</c> takes (motors homing); other commands get <c>ER:BUSY</c> meanwhile.</summary>
    public TimeSpan InitDuration { get; set; } = TimeSpan.Zero;

    /// <summary>Whether the Connector is configured with screens; without them <c>#C#</c>/<c>#G#</c> are <c>ER:ILLEGAL</c>.</summary>
    public bool ScreensEnabled { get; set; } = true;

    /// <summary>Whether the model has a safe box (<c>#U2#…#2#</c>); without one such commands are <c>ER:BAD_DATA</c>.</summary>
    public bool HasSafeBox { get; set; }

    /// <summary>Reply to <c>#C#</c> when the change could not be paid in full (returned &lt; due): the spec only says returned is short.</summary>
    public string ChangeShortReplyCode { get; set; } = "0";
}

/// <summary>Faults to inject, set through the control API; one-shot faults reset themselves once used.</summary>
public sealed record SimulatorFaults
{
    /// <summary>A screen left open / other operation: every command but <c>#?#</c> answers <c>ER:BUSY</c>.</summary>
    public bool Busy { get; set; }

    /// <summary>Machine off: money commands end <c>ER:GENERIC</c> with zeros; <c>#?#</c> lists 1075.</summary>
    public bool MachineOff { get; set; }

    /// <summary>A note jams after this many pieces of the next payout (it ends <c>ER:GENERIC</c> with what was paid; error 6131).</summary>
    public int? JamAfterItems { get; set; }

    /// <summary>Note reader door open (1131): money commands end <c>ER:GENERIC</c>.</summary>
    public bool DoorOpen { get; set; }

    /// <summary>Every reply waits this long.</summary>
    public TimeSpan ReplyDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Replies are written in chunks of this many bytes, 30 ms apart.</summary>
    public int? SplitRepliesEvery { get; set; }

    /// <summary>The next reply is cut after this many bytes and the connection dropped.</summary>
    public int? DropNextReplyAfterBytes { get; set; }

    /// <summary>The next command gets no reply at all.</summary>
    public bool SwallowNextReply { get; set; }

    /// <summary>The next reply to this command (e.g. <c>P</c>) is never sent: the command did its work, the client never hears of it.</summary>
    public string? SwallowNextReplyTo { get; set; }

    /// <summary>The next command is answered with this code and its arity filled with zeros.</summary>
    public string? ForceNextCode { get; set; }

    /// <summary>Only the next command with this code gets <see cref="ForceNextCode"/> (health polls in between are answered normally).</summary>
    public string? ForceNextCodeFor { get; set; }

    /// <summary>Before the next reply, a stale frame is written (e.g. <c>#0#2.5#</c>, a late init reply).</summary>
    public string? StaleFrameBeforeNextReply { get; set; }

    /// <summary>
    /// The machine is reset (power cut, service) just before the next command with this code arrives,
    /// while the Connector and the client stay connected: that command answers <c>ER:ILLEGAL</c>, as would
    /// everything but <c>#I#</c>. Only while idle. The health checks in between see nothing.
    /// </summary>
    public string? LoseInitializationBefore { get; set; }
}
