namespace Fidpass.CashlogySimulator;

/// <summary>HTTP control API: play the customer/operator and inject faults (spec 5.4).</summary>
public static class ControlApi
{
    public sealed record InsertRequest(long[]? Pieces, long? Amount);

    public sealed record AmountRequest(long Amount);

    public sealed record BackOfficeRequest(long Inserted, long Returned);

    public sealed record RestartRequest(double RefuseSeconds);

    public sealed record CountRequest(long Value, int Count);

    public sealed record ClosureRequest(long Added, long Withdrawn);

    public sealed record MaintenanceRequest(long NotesLeft);

    public static IEndpointRouteBuilder MapSimulatorControl(this IEndpointRouteBuilder app)
    {
        // Probes for ./fidpass up: alive = the program runs; health = the TCP port is open (a "not running" fault makes it red).
        app.MapGet("/alive", () => Results.Ok(new { status = "Healthy" }));
        app.MapGet("/health", (CashlogySimulator sim) => sim.IsListening
            ? Results.Ok(new { status = "Healthy", port = sim.Port })
            : Results.Json(new { status = "Unhealthy", port = sim.Port }, statusCode: 503));
        var control = app.MapGroup("/control");
        control.MapGet("/state", (CashlogySimulator sim) => Results.Ok(sim.Snapshot()));
        control.MapGet("/log", (CashlogySimulator sim) => Results.Text(string.Join('\n', sim.Transcript) + "\n"));
        control.MapGet("/received", (CashlogySimulator sim) => Results.Ok(sim.Received));
        control.MapPost("/insert", (CashlogySimulator sim, InsertRequest body) =>
            (body.Pieces is { Length: > 0 } pieces ? sim.Insert(pieces) : body.Amount is > 0 and var amount && sim.InsertAmount(amount))
                ? Results.NoContent() : Results.Conflict(new { error = "No inlet open or unknown denomination." }));
        control.MapPost("/manual", (CashlogySimulator sim, AmountRequest body) => Outcome(sim.DeclareManual(body.Amount)));
        control.MapPost("/accept", (CashlogySimulator sim) => Outcome(sim.PressAccept()));
        control.MapPost("/cancel", (CashlogySimulator sim) => Outcome(sim.PressCancel()));
        control.MapPost("/back-office/close", (CashlogySimulator sim, BackOfficeRequest body) => Outcome(sim.CloseBackOffice(body.Inserted, body.Returned)));
        control.MapPost("/closure/close", (CashlogySimulator sim, ClosureRequest body) => Outcome(sim.CloseDay(body.Added, body.Withdrawn)));
        control.MapPut("/maintenance", (CashlogySimulator sim, MaintenanceRequest body) =>
        {
            sim.MaintenanceNotesLeft = Math.Max(0, body.NotesLeft);
            return Results.NoContent();
        });
        control.MapPut("/inventory", (CashlogySimulator sim, CountRequest[] counts) =>
        {
            if (counts.Any(c => !CashMachine.IsKnown(c.Value) || c.Count < 0))
            {
                return Results.BadRequest(new { error = "Unknown denomination or negative count." });
            }

            foreach (var c in counts)
            {
                sim.Machine.SetCount(c.Value, c.Count);
            }

            return Results.NoContent();
        });
        control.MapPut("/options", (CashlogySimulator sim, SimulatorOptions options) =>
        {
            sim.Options.Version = options.Version;
            sim.Options.UnknownCommandReply = options.UnknownCommandReply;
            sim.Options.CancelAbortsExpressCharge = options.CancelAbortsExpressCharge;
            sim.Options.CancelEmitsOwnReply = options.CancelEmitsOwnReply;
            sim.Options.ChargeContinuesAfterDisconnect = options.ChargeContinuesAfterDisconnect;
            sim.Options.AllowConcurrentClients = options.AllowConcurrentClients;
            sim.Options.SupportsExtendedCommands = options.SupportsExtendedCommands;
            sim.Options.RepeatedInitIsBusy = options.RepeatedInitIsBusy;
            sim.Options.InitDuration = options.InitDuration;
            sim.Options.ScreensEnabled = options.ScreensEnabled;
            sim.Options.ChangeShortReplyCode = options.ChangeShortReplyCode;
            sim.Options.HasSafeBox = options.HasSafeBox;
            return Results.NoContent();
        });
        control.MapPut("/faults", (CashlogySimulator sim, SimulatorFaults faults) =>
        {
            sim.Faults.Busy = faults.Busy;
            sim.Faults.MachineOff = faults.MachineOff;
            sim.Faults.DoorOpen = faults.DoorOpen;
            sim.Faults.JamAfterItems = faults.JamAfterItems;
            sim.Faults.ReplyDelay = faults.ReplyDelay;
            sim.Faults.SplitRepliesEvery = faults.SplitRepliesEvery;
            sim.Faults.DropNextReplyAfterBytes = faults.DropNextReplyAfterBytes;
            sim.Faults.SwallowNextReply = faults.SwallowNextReply;
            sim.Faults.SwallowNextReplyTo = faults.SwallowNextReplyTo;
            sim.Faults.ForceNextCode = faults.ForceNextCode;
            sim.Faults.ForceNextCodeFor = faults.ForceNextCodeFor;
            sim.Faults.StaleFrameBeforeNextReply = faults.StaleFrameBeforeNextReply;
            sim.Faults.LoseInitializationBefore = faults.LoseInitializationBefore;
            return Results.NoContent();
        });
        control.MapPost("/errors/{code}", (CashlogySimulator sim, string code) =>
        {
            sim.RaiseError(code);
            return Results.NoContent();
        });
        control.MapDelete("/errors", (CashlogySimulator sim) =>
        {
            sim.ClearErrors();
            return Results.NoContent();
        });
        control.MapPost("/disconnect", (CashlogySimulator sim) =>
        {
            sim.DropClients();
            return Results.NoContent();
        });
        control.MapPost("/restart", (CashlogySimulator sim, RestartRequest body) =>
        {
            _ = sim.RestartAsync(TimeSpan.FromSeconds(Math.Clamp(body.RefuseSeconds, 0, 600)));
            return Results.Accepted();
        });
        control.MapPost("/reset-machine", (CashlogySimulator sim) =>
        {
            sim.ResetMachine();
            return Results.NoContent();
        });
        control.MapPost("/stop", (CashlogySimulator sim) =>
        {
            sim.StopListening();
            return Results.NoContent();
        });
        control.MapPost("/start", async (CashlogySimulator sim) =>
        {
            await sim.StartListeningAsync();
            return Results.NoContent();
        });
        return app;
    }

    private static IResult Outcome(bool done) =>
        done ? Results.NoContent() : Results.Conflict(new { error = "Nothing on screen for this action." });
}
