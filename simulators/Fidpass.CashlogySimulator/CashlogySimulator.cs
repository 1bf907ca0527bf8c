using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Fidpass.CashlogySimulator;

/// <summary>The Connector's session state (spec 5.4).</summary>
public enum SimulatorState
{
    NotInitialized,
    Initializing,
    Idle,
    Charging,
    Accepting,
    BackOffice,

    /// <summary>The close-of-day screen (<c>#F#1#</c>) is open, waiting for the operator.</summary>
    Closing,
    Ended,
}

/// <summary>
/// A fake CashlogyConnector: a TCP server speaking the <c>#CMD#…#</c> protocol (Latin-1, CRLF
/// tolerated) over a <see cref="CashMachine"/>. Screen commands (<c>#C#</c>, <c>#G#</c>) block until
/// the test, or the control API, plays the customer or operator. Usable in-process by tests and as a
/// standalone program for integrators without hardware.
/// </summary>
public sealed class CashlogySimulator : IAsyncDisposable
{
    private static readonly Encoding Latin1 = Encoding.Latin1;

    private static readonly Dictionary<string, int> Arity = new(StringComparer.Ordinal)
    {
        ["I"] = 1,
        ["E"] = 0,
        ["C"] = 4,
        ["G"] = 6,
        ["B"] = 0,
        ["Q"] = 1,
        ["J"] = 1,
        ["P"] = 2,
        ["A"] = 0,
        ["U"] = 1,
        ["U2"] = 1,
        ["S"] = 1,
        ["T"] = 2,
        ["T2"] = 4,
        ["Y"] = 2,
        ["Y2"] = 4,
        ["X2"] = 4,
        ["GC"] = 2,
        ["GC2"] = 2,
        ["GI"] = 2,
        ["GV"] = 1,
        ["?"] = 1,
        ["W"] = 1,
        ["K"] = 2,
        ["RI"] = 6,
        ["V"] = 1,
        ["V2"] = 1,
        ["F"] = 3,
        ["!"] = 0,
        ["Z"] = 0,
    };

    private static readonly Dictionary<string, (int Min, int Max)> Parameters = new(StringComparer.Ordinal)
    {
        ["C"] = (3, 11),
        ["G"] = (0, 15),
        ["B"] = (0, 3),
        ["P"] = (1, 4),
        ["A"] = (1, 1),
        ["U"] = (1, 4),
        ["U2"] = (1, 4),
        ["S"] = (0, 1),
        ["X2"] = (1, 1),
        ["GV"] = (0, 1),
        ["?"] = (0, 2),
        ["W"] = (0, 1),
        ["K"] = (0, 1),
        ["RI"] = (0, 3),
        ["V"] = (0, 4),
        ["V2"] = (0, 4),
        ["F"] = (0, 1),
    };

    private static readonly Dictionary<string, (int Type, string Title, string Message)> ErrorCatalog = new(StringComparer.Ordinal)
    {
        ["1075"] = (2, "Machine éteinte", "La machine ne répond pas. Vérifiez qu'elle est allumée."),
        ["1120"] = (1, "Retirez le stacker", "Le stacker est plein : retirez-le et videz-le."),
        ["1131"] = (2, "Porte du lecteur de billets ouverte", "Fermez la porte du lecteur de billets."),
        ["6120"] = (0, "Monnaie insuffisante", "Pas assez de pièces pour rendre la monnaie."),
        ["6131"] = (2, "Billet bloqué à l'admission", "Possible écart de caisse : un billet est resté bloqué."),
        ["1315"] = (0, "Maintenance préventive", "Entretien des courroies à prévoir."),
    };

    private readonly object _gate = new();
    private readonly List<Client> _clients = [];
    private readonly List<string> _received = [];
    private readonly List<string> _transcript = [];
    private readonly HashSet<string> _errors = new(StringComparer.Ordinal);
    private TcpListener? _listener;
    private CancellationTokenSource _lifetime = new();
    private ActiveCharge? _charge;
    private Client? _backOfficeClient;
    private long _accepted;

    public CashlogySimulator(SimulatorOptions? options = null, int port = 0, IPAddress? address = null)
    {
        Options = options ?? new SimulatorOptions();
        Port = port;
        Address = address ?? IPAddress.Loopback;
    }

    /// <summary>Loopback by default; a container listens on every interface so the edge can reach it.</summary>
    public IPAddress Address { get; }

    public SimulatorOptions Options { get; }

    public SimulatorFaults Faults { get; } = new();

    public CashMachine Machine { get; } = new();

    public int Port { get; private set; }

    public SimulatorState State { get; private set; } = SimulatorState.NotInitialized;

    /// <summary>Notes the machine may still handle before preventive maintenance (<c>#W#0#</c>); every note in or out counts one.</summary>
    public long MaintenanceNotesLeft { get; set; } = 5000;

    public bool IsListening => _listener is not null;

    /// <summary>Every request frame received, in order (what the edge really sent).</summary>
    public IReadOnlyList<string> Received
    {
        get
        {
            lock (_gate)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>LogCom-like transcript: <c>dd/MM/yyyy HH:mm:ss.fff,&lt;frame&gt;</c>, requests and replies.</summary>
    public IReadOnlyList<string> Transcript
    {
        get
        {
            lock (_gate)
            {
                return [.. _transcript];
            }
        }
    }

    public int ConnectedClients
    {
        get
        {
            lock (_gate)
            {
                return _clients.Count;
            }
        }
    }

    public static async Task<CashlogySimulator> StartAsync(SimulatorOptions? options = null, int port = 0, IPAddress? address = null)
    {
        var simulator = new CashlogySimulator(options, port, address);
        await simulator.StartListeningAsync();
        return simulator;
    }

    public Task StartListeningAsync()
    {
        lock (_gate)
        {
            if (_listener is not null)
            {
                return Task.CompletedTask;
            }

            _lifetime = new CancellationTokenSource();
            var listener = new TcpListener(Address, Port);
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
            _listener = listener;
            _ = AcceptLoopAsync(listener, _lifetime.Token);
        }

        return Task.CompletedTask;
    }

    /// <summary>"Connector not running": the port is closed and every client is cut.</summary>
    public void StopListening()
    {
        lock (_gate)
        {
            _lifetime.Cancel();
            _listener?.Stop();
            _listener = null;
            foreach (var client in _clients.ToList())
            {
                client.Close();
            }

            _clients.Clear();
        }
    }

    /// <summary>
    /// Connector crash/restart: sockets closed, the port refused for <paramref name="refuseFor"/>, then
    /// the Connector is back but not initialised (every command <c>ER:ILLEGAL</c> until <c>#I#</c>).
    /// A sale open on screen is lost; the cash already inserted stays in the machine.
    /// </summary>
    public async Task RestartAsync(TimeSpan refuseFor)
    {
        StopListening();
        lock (_gate)
        {
            _charge = null;
            _backOfficeClient = null;
            State = SimulatorState.NotInitialized;
        }

        await Task.Delay(refuseFor);
        await StartListeningAsync();
    }

    /// <summary>
    /// The machine was reset (power cut, service) while the Connector kept running and the client stays
    /// connected: every command but <c>#I#</c> now answers <c>ER:ILLEGAL</c> (spec 5.3 "not initialised").
    /// </summary>
    public void ResetMachine()
    {
        lock (_gate)
        {
            _charge = null;
            _backOfficeClient = null;
            _accepted = 0;
            State = SimulatorState.NotInitialized;
            Log("; Machine reset: not initialised");
        }
    }

    /// <summary>Cuts the current client connections (cable pulled, Wi-Fi lost) without changing the machine.</summary>
    public void DropClients()
    {
        List<Client> clients;
        lock (_gate)
        {
            clients = [.. _clients];
        }

        foreach (var client in clients)
        {
            client.Close();
        }
    }

    // ---- the customer and the operator (control API) ----

    /// <summary>The customer inserts coins/notes. False when no inlet is open or a piece is not a euro denomination.</summary>
    public bool Insert(params long[] pieces)
    {
        (Client Client, string Reply)? done = null;
        lock (_gate)
        {
            if (pieces.Length == 0 || pieces.Any(p => !CashMachine.IsKnown(p)) || (_charge is null && State != SimulatorState.Accepting))
            {
                return false;
            }

            foreach (var piece in pieces)
            {
                Machine.Deposit(piece);
            }

            CountNotes(pieces.Count(p => !CashMachine.Coins.Contains(p)));

            if (_charge is { } charge)
            {
                charge.Inserted += pieces.Sum();
                if (!charge.AcceptButton && charge.Inserted + charge.Manual >= charge.Due)
                {
                    done = FinishCharge(cancelled: false);
                }
            }
            else
            {
                _accepted += pieces.Sum();
            }
        }

        Deliver(done);
        return true;
    }

    /// <summary>Inserts an amount as the fewest euro coins/notes.</summary>
    public bool InsertAmount(long cents) => Insert(Pieces(cents));

    private static long[] Pieces(long cents)
    {
        var pieces = new List<long>();
        foreach (var value in CashMachine.Notes.Concat(CashMachine.Coins).OrderByDescending(v => v))
        {
            while (cents >= value)
            {
                pieces.Add(value);
                cents -= value;
            }
        }

        return [.. pieces];
    }

    private void CountNotes(int notes) => MaintenanceNotesLeft = Math.Max(0, MaintenanceNotesLeft - notes);

    /// <summary>The operator declares cash taken by hand (allowed when <c>#C#</c> parameter 10/11 is set).</summary>
    public bool DeclareManual(long cents)
    {
        (Client, string)? done = null;
        lock (_gate)
        {
            if (_charge is not { } charge || cents <= 0)
            {
                return false;
            }

            charge.Manual += cents;
            if (!charge.AcceptButton && charge.Inserted + charge.Manual >= charge.Due)
            {
                done = FinishCharge(cancelled: false);
            }
        }

        Deliver(done);
        return true;
    }

    /// <summary>Presses Accept on the payment screen: completes when paid, or with less when partial payment is allowed.</summary>
    public bool PressAccept()
    {
        (Client, string)? done = null;
        lock (_gate)
        {
            if (_charge is not { } charge || (!charge.AllowPartial && charge.Inserted + charge.Manual < charge.Due))
            {
                return false;
            }

            done = FinishCharge(cancelled: false);
        }

        Deliver(done);
        return true;
    }

    /// <summary>Presses Cancel on the payment screen: the cash inserted is given back and <c>#C#</c> ends <c>WR:CANCEL</c>.</summary>
    public bool PressCancel()
    {
        (Client, string)? done = null;
        lock (_gate)
        {
            if (_charge is null)
            {
                return false;
            }

            done = FinishCharge(cancelled: true);
        }

        Deliver(done);
        return true;
    }

    /// <summary>The operator closes the back office after taking <paramref name="inserted"/> in and giving <paramref name="returned"/> out.</summary>
    public bool CloseBackOffice(long inserted = 0, long returned = 0)
    {
        (Client, string)? done;
        lock (_gate)
        {
            if (State != SimulatorState.BackOffice || _backOfficeClient is null)
            {
                return false;
            }

            var before = Machine.RecyclersTotal + Machine.StackerTotal;
            var after = before + inserted - returned;
            State = SimulatorState.Idle;
            done = (_backOfficeClient, Frame("0", before, after, inserted, returned, 0, 0));
            _backOfficeClient = null;
        }

        Deliver(done);
        return true;
    }

    /// <summary>
    /// The operator closes the close-of-day screen after loading <paramref name="added"/> and taking
    /// <paramref name="withdrawn"/> out of the recyclers (the machine pays out what it really can).
    /// <c>#F#</c> answers <c>#0#total_before#added#total_after#</c>.
    /// </summary>
    public bool CloseDay(long added = 0, long withdrawn = 0)
    {
        (Client, string)? done;
        lock (_gate)
        {
            if (State != SimulatorState.Closing || _backOfficeClient is null || added < 0 || withdrawn < 0)
            {
                return false;
            }

            var before = Machine.RecyclersTotal + Machine.StackerTotal;
            foreach (var piece in Pieces(added))
            {
                Machine.Deposit(piece);
            }

            Machine.Dispense(withdrawn);
            var after = Machine.RecyclersTotal + Machine.StackerTotal;
            State = SimulatorState.Idle;
            Log("; frmClosure.cmdOk_Click");
            done = (_backOfficeClient, Frame("0", before, added, after));
            _backOfficeClient = null;
        }

        Deliver(done);
        return true;
    }

    public void RaiseError(string code)
    {
        lock (_gate)
        {
            _errors.Add(code);
        }
    }

    public void ClearErrors()
    {
        lock (_gate)
        {
            _errors.Clear();
            Faults.DoorOpen = false;
            Faults.MachineOff = false;
        }
    }

    /// <summary>What the control API shows.</summary>
    public object Snapshot()
    {
        lock (_gate)
        {
            return new
            {
                port = Port,
                listening = _listener is not null,
                state = State.ToString(),
                clients = _clients.Count,
                charge = _charge is null ? null : new { due = _charge.Due, inserted = _charge.Inserted, manual = _charge.Manual, operation = _charge.Operation },
                accepted = _accepted,
                recyclers = Machine.RecyclerList(),
                stacker = Machine.StackerList(),
                recyclersTotal = Machine.RecyclersTotal,
                stackerTotal = Machine.StackerTotal,
                errors = CurrentErrors(),
                options = Options,
                faults = Faults,
            };
        }
    }

    // ---- TCP ----

    private async Task AcceptLoopAsync(TcpListener listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient tcp;
            try
            {
                tcp = await listener.AcceptTcpClientAsync(stop);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            var client = new Client(tcp);
            lock (_gate)
            {
                if (_clients.Count > 0 && !Options.AllowConcurrentClients)
                {
                    // One Winsock control: a second client is not served.
                    client.Close();
                    continue;
                }

                _clients.Add(client);
                Log("; Winsock.Event(ConnectionRequest, IP=127.0.0.1)");
            }

            _ = ServeAsync(client, stop);
        }
    }

    private async Task ServeAsync(Client client, CancellationToken stop)
    {
        var buffer = new StringBuilder();
        var bytes = new byte[4096];
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var read = await client.Stream.ReadAsync(bytes, stop);
                if (read == 0)
                {
                    break;
                }

                buffer.Append(Latin1.GetString(bytes, 0, read));
                buffer.Replace("\r", "").Replace("\n", "");
                while (TryTakeRequest(buffer, out var command, out var parameters))
                {
                    await HandleAsync(client, command, parameters);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away; handled below.
        }
        finally
        {
            Disconnected(client);
        }
    }

    private void Disconnected(Client client)
    {
        lock (_gate)
        {
            _clients.Remove(client);
            client.Close();
            Log("; Winsock.IsClose()");
            if (_charge is { } charge && charge.Client == client && !Options.ChargeContinuesAfterDisconnect)
            {
                FinishCharge(cancelled: true);
            }
        }
    }

    private static bool TryTakeRequest(StringBuilder buffer, out string command, out string[] parameters)
    {
        command = "";
        parameters = [];
        var text = buffer.ToString();
        var start = text.IndexOf('#', StringComparison.Ordinal);
        if (start < 0)
        {
            buffer.Clear();
            return false;
        }

        text = text[start..];
        var fields = text[1..].Split('#');
        var complete = fields.Length - 1;
        if (complete < 1 || fields[0].Length == 0)
        {
            if (complete >= 1)
            {
                // "##": drop one '#' and look again.
                buffer.Clear().Append(text[1..]);
                return buffer.Length > 0 && TryTakeRequest(buffer, out command, out parameters);
            }

            buffer.Clear().Append(text);
            return false;
        }

        command = fields[0];
        var (min, max) = Parameters.TryGetValue(command, out var range) ? range : Arity.ContainsKey(command) ? (0, 0) : (0, int.MaxValue);
        var available = complete - 1;
        if (available < min)
        {
            buffer.Clear().Append(text);
            return false;
        }

        var take = Math.Min(available, max);
        parameters = fields.Skip(1).Take(take).ToArray();
        var consumed = 1 + fields.Take(1 + take).Sum(f => f.Length + 1);
        buffer.Clear().Append(text[consumed..]);
        return true;
    }

    // ---- commands ----

    private async Task HandleAsync(Client client, string command, string[] p)
    {
        var frame = "#" + command + "#" + string.Concat(p.Select(x => x + "#"));
        string? reply;
        (Client, string)? cancelledCharge = null;
        lock (_gate)
        {
            _received.Add(frame);
            Log(frame);
            reply = Decide(client, command, p, ref cancelledCharge);
        }

        Deliver(cancelledCharge);
        if (reply is not null)
        {
            await SendAsync(client, reply, command);
        }
    }

    private string? Decide(Client client, string command, string[] p, ref (Client, string)? interrupted)
    {
        if (Faults.LoseInitializationBefore == command && State == SimulatorState.Idle)
        {
            Faults.LoseInitializationBefore = null;
            _accepted = 0;
            State = SimulatorState.NotInitialized;
            Log("; Machine reset just before this command: not initialised");
        }

        if (Faults.ForceNextCode is { } forced && (Faults.ForceNextCodeFor is null || Faults.ForceNextCodeFor == command))
        {
            Faults.ForceNextCode = null;
            Faults.ForceNextCodeFor = null;
            return Frame(forced, new long[Arity.GetValueOrDefault(command)]);
        }

        if (command == "!")
        {
            return Cancel(ref interrupted);
        }

        if (command == "Z")
        {
            if (_charge is not null)
            {
                interrupted = FinishCharge(cancelled: true);
            }

            _backOfficeClient = null;
            _accepted = 0;
            State = SimulatorState.NotInitialized;
            return "#0#";
        }

        if (!Arity.TryGetValue(command, out var arity))
        {
            return Frame(Options.UnknownCommandReply);
        }

        if (!Options.SupportsExtendedCommands && command is "T2" or "Y2" or "X2" or "GC2" or "U2" or "V2")
        {
            return Frame(Options.UnknownCommandReply);
        }

        if (State == SimulatorState.Initializing || (Faults.Busy && command != "?"))
        {
            return "#ER:BUSY#";
        }

        // While a sale or the back office is on screen, even #I# waits: the screen must be closed first.
        if (State is SimulatorState.Charging or SimulatorState.BackOffice or SimulatorState.Closing && command is not ("?" or "Q"))
        {
            return "#ER:BUSY#";
        }

        if (command == "I")
        {
            return Initialize(client);
        }

        if (State is SimulatorState.NotInitialized or SimulatorState.Ended)
        {
            return Frame("ER:ILLEGAL", new long[arity]);
        }

        return command switch
        {
            "E" => End(),
            "C" => StartCharge(client, p),
            "G" => OpenBackOffice(client),
            "B" => StartAcceptance(),
            "Q" => Frame("0", _charge?.Inserted ?? _accepted),
            "J" => StopAcceptance(),
            "P" => Dispense(p),
            "A" => StartAcceptance(),
            "U" or "U2" => DispenseByDenomination(command, p),
            "S" => CollectStacker(),
            "T" => Frame("0", Machine.RecyclersTotal, Machine.StackerTotal),
            "T2" => Frame("0", Machine.RecyclersTotal, 0, Machine.StackerTotal, 0),
            "Y" => $"#0#{Machine.RecyclerList()}#{Machine.StackerList()}#",
            "Y2" => $"#0#{Machine.RecyclerList()}#;#{Machine.StackerList()}#;#",
            "X2" => CountOf(p),
            "GC" or "GC2" => Levels(),
            "GI" => "#0#SIM-0001#" + string.Join(',', CashMachine.Coins.Select(c => $"{c}:3")) + ";" +
                string.Join(',', CashMachine.Notes.Select(n => $"{n}:{(CashMachine.IsRecyclable(n) ? 3 : 1)}")) + "#",
            "GV" => $"#0#{{\"software\":\"CashlogyConnector simulator\",\"version\":\"{Options.Version}\"}}#",
            "?" => Errors(p),
            "W" => Maintenance(p),
            "K" => Frame("0", Machine.RecyclersTotal, Machine.RecyclersTotal),
            "RI" => ResolveIncidents(p),
            // Complete emptying: the screen variant (#V#1#) is answered as if the operator confirmed at once.
            "V" or "V2" => Frame("0", Machine.Dispense(Machine.RecyclersTotal)),
            "F" => OpenClosure(client, p),
            _ => Frame(Options.UnknownCommandReply),
        };
    }

    private string? Initialize(Client client)
    {
        if (State == SimulatorState.Idle && Options.RepeatedInitIsBusy)
        {
            return "#ER:BUSY#";
        }

        if (Options.InitDuration <= TimeSpan.Zero || State == SimulatorState.Idle)
        {
            State = SimulatorState.Idle;
            return $"#0#{Options.Version}#";
        }

        State = SimulatorState.Initializing;
        _ = Task.Delay(Options.InitDuration).ContinueWith(_ =>
        {
            lock (_gate)
            {
                State = SimulatorState.Idle;
            }

            return SendAsync(client, $"#0#{Options.Version}#", "I");
        }, TaskScheduler.Default);
        return null;
    }

    private string End()
    {
        State = SimulatorState.Ended;
        return "#0#";
    }

    private string? StartCharge(Client client, string[] p)
    {
        if (!Options.ScreensEnabled)
        {
            return Frame("ER:ILLEGAL", 0, 0, 0, 0);
        }

        if (!TryCents(p[2], out var due) || due <= 0)
        {
            return Frame("ER:BAD_DATA", 0, 0, 0, 0);
        }

        if (Faults.MachineOff || Faults.DoorOpen)
        {
            return Frame("ER:GENERIC", 0, 0, 0, 0);
        }

        string Flag(int i) => i < p.Length ? p[i] : "0";
        _charge = new ActiveCharge(client, p[0], due, AcceptButton: Flag(6) == "1", AllowPartial: Flag(7) == "1");
        State = SimulatorState.Charging;
        Log("; frmCharge._Load");
        return null;
    }

    /// <summary>Ends the open sale; returns the reply for the client that sent <c>#C#</c>. Caller holds the lock.</summary>
    private (Client, string)? FinishCharge(bool cancelled)
    {
        var charge = _charge!;
        _charge = null;
        State = SimulatorState.Idle;
        if (cancelled)
        {
            Log("; frmCharge.cmdCancel_Click");
            var given = Machine.Dispense(charge.Inserted);
            return (charge.Client, Frame("WR:CANCEL", charge.Inserted, given, 0, 0));
        }

        var change = Math.Max(0, charge.Inserted + charge.Manual - charge.Due);
        var returned = Machine.Dispense(change, maxItems: TakeJam());
        string code;
        if (returned < change)
        {
            _errors.Add("6120");
            Log(string.Create(CultureInfo.GetCultureInfo("es-ES"), $"; INCAPAZ DE PAGAR {(change - returned) / 100m:0.00} €"));
            code = Options.ChangeShortReplyCode;
        }
        else
        {
            code = "0";
        }

        if (code == "0" && Machine.AnyLevelWarning)
        {
            code = "WR:LEVEL";
        }

        return (charge.Client, Frame(code, charge.Inserted, returned, charge.Manual, 0));
    }

    private string? Cancel(ref (Client, string)? interrupted)
    {
        if (_charge is not null)
        {
            if (Options.CancelAbortsExpressCharge)
            {
                interrupted = FinishCharge(cancelled: true);
            }

            return Options.CancelEmitsOwnReply ? "#0#" : null;
        }

        if (State is SimulatorState.BackOffice or SimulatorState.Closing && _backOfficeClient is not null)
        {
            interrupted = (_backOfficeClient, Frame("WR:CANCEL", new long[State == SimulatorState.Closing ? 3 : 6]));
            _backOfficeClient = null;
            State = SimulatorState.Idle;
            return Options.CancelEmitsOwnReply ? "#0#" : null;
        }

        return "#0#";
    }

    private string? OpenBackOffice(Client client)
    {
        if (!Options.ScreensEnabled)
        {
            return Frame("ER:ILLEGAL", new long[6]);
        }

        State = SimulatorState.BackOffice;
        _backOfficeClient = client;
        return null;
    }

    /// <summary><c>#S#</c>: the stacker is taken out, emptied and put back; "please remove the stacker" (1120) clears.</summary>
    private string CollectStacker()
    {
        _errors.Remove("1120");
        return Frame("0", Machine.EmptyStacker());
    }

    /// <summary>
    /// <c>#RI#self_protection#accounting_mismatch#mode#</c>: the operator confirms the machine was checked;
    /// a stuck note (6131) leaves self-protection, accounting errors (1002, 1014) clear with the mismatch flag.
    /// </summary>
    private string ResolveIncidents(string[] p)
    {
        string Flag(int i) => i < p.Length ? p[i] : "0";
        if (Flag(0) is not ("0" or "1") || Flag(1) is not ("0" or "1"))
        {
            return Frame("ER:BAD_DATA", new long[6]);
        }

        if (Flag(0) == "1" || Flag(1) == "1")
        {
            _errors.Remove("6131");
        }

        if (Flag(1) == "1")
        {
            _errors.Remove("1002");
            _errors.Remove("1014");
        }

        var total = Machine.RecyclersTotal + Machine.StackerTotal;
        return Frame("0", total, total, 0, 0, 0, 0);
    }

    private string? OpenClosure(Client client, string[] p)
    {
        if (!Options.ScreensEnabled)
        {
            return Frame("ER:ILLEGAL", 0, 0, 0);
        }

        if (p.Length > 0 && p[0] != "1")
        {
            return Frame("ER:BAD_DATA", 0, 0, 0);
        }

        if (Faults.MachineOff || Faults.DoorOpen)
        {
            return Frame("ER:GENERIC", 0, 0, 0);
        }

        State = SimulatorState.Closing;
        _backOfficeClient = client;
        Log("; frmClosure._Load");
        return null;
    }

    private string StartAcceptance()
    {
        if (Faults.MachineOff || Faults.DoorOpen)
        {
            return "#ER:GENERIC#";
        }

        State = SimulatorState.Accepting;
        _accepted = 0;
        return "#0#";
    }

    private string StopAcceptance()
    {
        var total = _accepted;
        _accepted = 0;
        if (State == SimulatorState.Accepting)
        {
            State = SimulatorState.Idle;
        }

        return Frame("0", total);
    }

    private string Dispense(string[] p)
    {
        if (!TryCents(p[0], out var amount))
        {
            return Frame("ER:BAD_DATA", 0, 0);
        }

        if (Faults.MachineOff || Faults.DoorOpen)
        {
            return Frame("ER:GENERIC", 0, 0);
        }

        var coinsOnly = p.Length >= 4 ? p[3] == "1" : p.Length == 3 && p[2] == "1";
        var paid = Machine.Dispense(amount, coinsOnly, TakeJam());
        if (paid < amount)
        {
            _errors.Add("6120");
            Log(string.Create(CultureInfo.GetCultureInfo("es-ES"), $"; INCAPAZ DE PAGAR {(amount - paid) / 100m:0.00} €"));
            return Frame("ER:GENERIC", paid, 0);
        }

        return Frame(Machine.AnyLevelWarning ? "WR:LEVEL" : "0", paid, 0);
    }

    /// <summary>
    /// <c>#U#coins;notes#notes_to_stacker#s1#s2#</c> / <c>#U2#list#dest#0#0#</c> (dest 0 outlet, 1 stacker,
    /// 2 safe box): gives what the recyclers hold of each value and lists it; <c>WR:LEVEL</c> when a value
    /// was short, <c>ER:GENERIC</c> with zero counts when nothing could be given.
    /// </summary>
    private string DispenseByDenomination(string command, string[] p)
    {
        var destination = p.Length > 1 ? p[1] : "0";
        if (destination is not ("0" or "1" or "2") || (destination == "2" && (command == "U" || !Options.HasSafeBox)))
        {
            return "#ER:BAD_DATA#";
        }

        var asked = new List<(long Value, int Count)>();
        foreach (var pair in p[0].Replace(';', ',').Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split(':');
            if (parts.Length != 2 || !TryCents(parts[0], out var value) || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count) ||
                !CashMachine.IsKnown(value))
            {
                return "#ER:BAD_DATA#";
            }

            asked.Add((value, count));
        }

        string List(IEnumerable<(long Value, int Count)> items) =>
            string.Join(',', items.Where(i => CashMachine.Coins.Contains(i.Value)).Select(i => $"{i.Value}:{i.Count}")) + ";" +
            string.Join(',', items.Where(i => !CashMachine.Coins.Contains(i.Value)).Select(i => $"{i.Value}:{i.Count}"));
        if (Faults.MachineOff || Faults.DoorOpen)
        {
            return $"#ER:GENERIC#{List(asked.Select(a => (a.Value, 0)))}#";
        }

        var itemsLeft = TakeJam();
        var given = new List<(long Value, int Count)>();
        foreach (var (value, count) in asked)
        {
            var available = Machine.Recyclers.GetValueOrDefault(value);
            var give = Math.Min(Math.Min(available, count), itemsLeft);
            itemsLeft -= give;
            Machine.SetCount(value, available - give);
            if (destination != "0" && !CashMachine.Coins.Contains(value))
            {
                // Moved inside the machine: the notes leave the recycler for the stacker (or safe box).
                Machine.ToStacker(value, give);
            }
            else
            {
                CountNotes(CashMachine.Coins.Contains(value) ? 0 : give);
            }

            given.Add((value, give));
        }

        var code = given.All(g => g.Count == 0) ? "ER:GENERIC" : given.Zip(asked).Any(x => x.First.Count < x.Second.Count) ? "WR:LEVEL" : "0";
        return $"#{code}#{List(given)}#";
    }

    private string CountOf(string[] p)
    {
        if (!TryCents(p[0], out var value) || !CashMachine.IsKnown(value))
        {
            return Frame("ER:BAD_DATA", 0, 0, 0, 0);
        }

        return Frame("0", Machine.Recyclers.GetValueOrDefault(value), 0, Machine.Stacker.GetValueOrDefault(value), 0);
    }

    private string Levels()
    {
        var states = Machine.Recyclers.Keys.Order().Select(v => (v, Machine.StateOf(v))).ToList();
        string Group(Func<long, bool> isGroup, Func<long, string> value) =>
            string.Join(',', states.Where(s => isGroup(s.v)).Select(s => $"{s.v}:{value(s.v)}"));
        var stateList = Group(CashMachine.Coins.Contains, v => Machine.StateOf(v).ToString(CultureInfo.InvariantCulture)) + ";" +
            Group(CashMachine.RecyclableNotes.Contains, v => Machine.StateOf(v).ToString(CultureInfo.InvariantCulture));
        var percent = Group(CashMachine.Coins.Contains, v => (Machine.Recyclers[v] * 100 / Machine.RecyclerCapacity).ToString(CultureInfo.InvariantCulture)) + ";" +
            Group(CashMachine.RecyclableNotes.Contains, v => (Machine.Recyclers[v] * 100 / Machine.RecyclerCapacity).ToString(CultureInfo.InvariantCulture));
        return $"#0#{stateList}#{percent}#";
    }

    private List<string> CurrentErrors()
    {
        var errors = new List<string>(_errors);
        if (Faults.MachineOff)
        {
            errors.Add("1075");
        }

        if (Faults.DoorOpen)
        {
            errors.Add("1131");
        }

        if (MaintenanceNotesLeft < 10)
        {
            errors.Add("1315");
        }

        return errors.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    private string Errors(string[] p)
    {
        if (p.Length == 0 || p[0].Length == 0)
        {
            return $"#0#{string.Join(',', CurrentErrors())}#";
        }

        var details = p[0].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(code =>
            ErrorCatalog.TryGetValue(code, out var e)
                ? $"{code}|{e.Type}|{e.Title}|{e.Message}||videos\\{code}.mp4|images\\{code}.png"
                : $"{code}|1|Erreur {code}|Erreur inconnue|||");
        return "#0#" + string.Concat(details.Select(d => d + "#"));
    }

    /// <summary><c>#W#0#</c> query, <c>#W#1#</c> counter reset, <c>#W#2#</c> belts cleaned: <c>#0#notes_left#</c>.</summary>
    private string Maintenance(string[] p)
    {
        var action = p.Length > 0 ? p[0] : "0";
        if (action is not ("0" or "1" or "2"))
        {
            return Frame("ER:BAD_DATA", 0);
        }

        if (action != "0")
        {
            MaintenanceNotesLeft = 5000;
        }

        return Frame("0", MaintenanceNotesLeft);
    }

    private int TakeJam()
    {
        if (Faults.JamAfterItems is { } items)
        {
            Faults.JamAfterItems = null;
            _errors.Add("6131");
            return items;
        }

        return int.MaxValue;
    }

    // ---- replies ----

    private void Deliver((Client Client, string Reply)? done)
    {
        if (done is { } d)
        {
            _ = SendAsync(d.Client, d.Reply, "C");
        }
    }

    private async Task SendAsync(Client client, string reply, string command)
    {
        string? stale;
        int? cutAfter;
        bool swallow;
        TimeSpan delay;
        int? split;
        lock (_gate)
        {
            stale = Faults.StaleFrameBeforeNextReply;
            Faults.StaleFrameBeforeNextReply = null;
            cutAfter = Faults.DropNextReplyAfterBytes;
            Faults.DropNextReplyAfterBytes = null;
            swallow = Faults.SwallowNextReply || Faults.SwallowNextReplyTo == command;
            Faults.SwallowNextReply = false;
            if (Faults.SwallowNextReplyTo == command)
            {
                Faults.SwallowNextReplyTo = null;
            }

            delay = Faults.ReplyDelay;
            split = Faults.SplitRepliesEvery;
            Log(swallow ? $"; Response to #{command}# swallowed" : reply);
        }

        if (swallow)
        {
            return;
        }

        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay);
        }

        var bytes = Latin1.GetBytes((stale ?? "") + reply);
        try
        {
            await client.WriteLock.WaitAsync();
            try
            {
                if (cutAfter is { } cut)
                {
                    await client.Stream.WriteAsync(bytes.AsMemory(0, Math.Min(cut, bytes.Length)));
                    await client.Stream.FlushAsync();
                    client.Close();
                    return;
                }

                if (split is { } every and > 0)
                {
                    for (var offset = 0; offset < bytes.Length; offset += every)
                    {
                        await client.Stream.WriteAsync(bytes.AsMemory(offset, Math.Min(every, bytes.Length - offset)));
                        await client.Stream.FlushAsync();
                        await Task.Delay(30);
                    }

                    return;
                }

                await client.Stream.WriteAsync(bytes);
                await client.Stream.FlushAsync();
            }
            finally
            {
                client.WriteLock.Release();
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            lock (_gate)
            {
                Log($"; Winsock.IsClose() - Response lost: {reply}");
            }
        }
    }

    private void Log(string line) =>
        _transcript.Add($"\"{DateTime.Now.ToString("dd/MM/yyyy HH:mm:ss.fff", CultureInfo.InvariantCulture)},{line}\"");

    private static string Frame(string code, params long[] values) =>
        "#" + code + "#" + string.Concat(values.Select(v => v.ToString(CultureInfo.InvariantCulture) + "#"));

    private static bool TryCents(string text, out long cents) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out cents);

    public async ValueTask DisposeAsync()
    {
        StopListening();
        _lifetime.Dispose();
        await Task.CompletedTask;
    }

    private sealed record ActiveCharge(Client Client, string Operation, long Due, bool AcceptButton, bool AllowPartial)
    {
        public long Inserted { get; set; }

        public long Manual { get; set; }
    }

    private sealed class Client(TcpClient tcp)
    {
        public NetworkStream Stream { get; } = tcp.GetStream();

        public SemaphoreSlim WriteLock { get; } = new(1, 1);

        public void Close()
        {
            try
            {
                tcp.Client.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Already closed.
            }

            tcp.Dispose();
        }
    }
}
