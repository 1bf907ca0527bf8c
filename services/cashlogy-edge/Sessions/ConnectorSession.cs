using System.Net.Sockets;
using Fidpass.CashlogyEdge.Protocol;

namespace Fidpass.CashlogyEdge.Sessions;

/// <summary>What the edge knows about a Connector right now.</summary>
public enum SessionStatus
{
    Offline,
    Initializing,
    Ready,
    Busy,
    Error,
}

/// <summary>Nothing was sent: the Connector is not connected, or the session is taken by another operation.</summary>
public sealed class ConnectorUnavailableException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>The command left, but no complete reply came back (timeout, connection lost): the outcome is unknown.</summary>
public sealed class ReplyLostException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Where a session connects and how it behaves; <c>Cashlogy:*</c> configuration plus the machine's address.</summary>
public sealed record SessionSettings(string Host, int Port, CashlogyTimeouts Timeouts, TimeSpan HealthPollInterval, TimeSpan ReconnectDelay, TimeSpan MaxReconnectDelay,
    TimeSpan MaintenanceCheckInterval, Machines.MachineNetworks? Networks = null);

/// <summary>
/// The one owner of the TCP connection to a CashlogyConnector (spec 5.1): strictly one command at a
/// time, per-command arity and timeouts, stale frames dropped before each command, automatic
/// <c>#I#</c> after every (re)connection and on <c>ER:ILLEGAL</c> to any command (then that command is
/// sent once more), and idle health polling with <c>#?#</c>. Nothing else
/// touches the socket. A command that may have reached the Connector but got no reply surfaces as
/// <see cref="ReplyLostException"/>, never as a retry.
/// </summary>
public sealed class ConnectorSession : IAsyncDisposable
{
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly Lock _reservation = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly FrameAssembler _assembler = new();
    private readonly byte[] _readBuffer = new byte[4096];
    private readonly ILogger _logger;
    private readonly Func<SessionStatus, string?, Task> _statusChanged;
    private readonly Func<ConnectorSession, Task> _ready;
    private TcpClient? _tcp;
    private NetworkStream? _stream;
    private Task<int>? _pendingRead;
    private Task? _loop;
    private IReadOnlyList<string> _errorCodes = [];
    private bool _initPending;
    private DateTimeOffset _nextMaintenanceCheck = DateTimeOffset.MinValue;
    private volatile bool _connectionReady;
    private volatile bool _initialisedAgain;

    public ConnectorSession(Guid machineId, SessionSettings settings, ILogger logger, Func<SessionStatus, string?, Task> statusChanged, Func<ConnectorSession, Task> ready)
    {
        MachineId = machineId;
        Settings = settings;
        _logger = logger;
        _statusChanged = statusChanged;
        _ready = ready;
    }

    public Guid MachineId { get; }

    public SessionSettings Settings { get; }

    public SessionStatus Status { get; private set; } = SessionStatus.Offline;

    public string? StatusDetail { get; private set; }

    public string? Version { get; private set; }

    public IReadOnlyList<DeviceError> Errors { get; private set; } = [];

    public DateTimeOffset? LastSeen { get; private set; }

    /// <summary>Notes the machine can still handle before its preventive maintenance (<c>#W#0#</c>), null until known or when the Connector has no <c>#W#</c>.</summary>
    public long? MaintenanceNotesLeft { get; private set; }

    /// <summary>The vendor's threshold: warn the merchant when fewer notes than this are left before maintenance.</summary>
    public const long MaintenanceWarningBelow = 10;

    public bool MaintenanceDue => MaintenanceNotesLeft is < MaintenanceWarningBelow;

    /// <summary>The money operation holding the machine (at most one; a second charge is refused before anything is sent).</summary>
    public Guid? ActiveOperation { get; private set; }

    /// <summary>Live progress of the active headless acceptance (cents inserted so far).</summary>
    public long? Progress { get; set; }

    /// <summary>Set by a cancel request; the running headless flow stops and gives the money back.</summary>
    public bool CancelRequested { get; set; }

    /// <summary>Set when the till says the operator finished loading change (add float).</summary>
    public bool FinishRequested { get; set; }

    public bool IsConnected => _stream is not null;

    /// <summary>Connected and initialised on the current connection: inventory figures can be trusted.</summary>
    public bool IsReady => _connectionReady && _stream is not null;

    public void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    public bool TryReserve(Guid operationId)
    {
        lock (_reservation)
        {
            if (ActiveOperation is not null)
            {
                return false;
            }

            ActiveOperation = operationId;
            Progress = null;
            CancelRequested = false;
            FinishRequested = false;
            return true;
        }
    }

    public void Release(Guid operationId)
    {
        lock (_reservation)
        {
            if (ActiveOperation == operationId)
            {
                ActiveOperation = null;
                Progress = null;
                CancelRequested = false;
            }
        }
    }

    /// <summary>
    /// Sends one command and waits for its reply. <paramref name="beforeSend"/> runs once the session
    /// is ours and connected, just before the bytes leave (the journal write of money commands): if it
    /// throws, nothing is sent. <paramref name="waitForTurn"/> bounds the wait behind another command
    /// (null: as long as it takes); past it the session answers "busy" without sending anything.
    /// </summary>
    public async Task<CashlogyReply> SendAsync(CommandSpec spec, IReadOnlyList<string> parameters, CancellationToken cancellationToken,
        Func<string, Task>? beforeSend = null, TimeSpan? waitForTurn = null, TimeSpan? timeout = null)
    {
        var frame = FrameCodec.Format(spec.Code, parameters);
        if (!await _turn.WaitAsync(waitForTurn ?? Timeout.InfiniteTimeSpan, cancellationToken))
        {
            throw new ConnectorUnavailableException("machine_busy", "La machine traite déjà une autre opération.");
        }

        try
        {
            var limit = timeout ?? CommandCatalog.TimeoutOf(spec.Timeout, Settings.Timeouts);
            var reply = await ExchangeAsync(spec, frame, limit, beforeSend, cancellationToken);
            if (reply.Code == CashlogyReply.Illegal && spec.Code is not ("I" or "E") && await InitializeAgainAsync(cancellationToken))
            {
                // Refused as "not initialised", so nothing moved: the one retry the spec allows, journaled again.
                reply = await ExchangeAsync(spec, frame, limit, beforeSend, cancellationToken);
            }

            return reply;
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>
    /// The Connector lost its initialisation while connected (machine reset behind it): <c>#I#</c> at once,
    /// within the caller's turn, rather than letting the till's command fail until the next idle health check.
    /// </summary>
    private async Task<bool> InitializeAgainAsync(CancellationToken cancellationToken)
    {
        _logger.LogWarning("Connector {MachineId} answered ER:ILLEGAL: initialising again", MachineId);
        _connectionReady = false;
        await SetStatusAsync(SessionStatus.Initializing, null);
        var init = await ExchangeAsync(CommandCatalog.Initialize, FrameCodec.Format(CommandCatalog.Initialize.Code, []),
            CommandCatalog.TimeoutOf(CommandCatalog.Initialize.Timeout, Settings.Timeouts), null, cancellationToken);
        if (!init.IsSuccess)
        {
            Version = null;
            _initPending = true;
            await SetStatusAsync(init.Code == CashlogyReply.Busy ? SessionStatus.Busy : SessionStatus.Error, init.Code);
            return false;
        }

        Version = init.Text(0);
        _connectionReady = true;
        _initialisedAgain = true;
        await SetStatusAsync(SessionStatus.Ready, null);
        return true;
    }

    /// <summary>
    /// <c>#!#</c> while a command runs: written outside the turn (the running command holds it). Its own
    /// reply, if the Connector sends one, is a stray frame the running command's decoder skips.
    /// </summary>
    public async Task SendCancelAsync(CancellationToken cancellationToken)
    {
        var stream = _stream ?? throw new ConnectorUnavailableException("machine_offline", "La machine n'est pas connectée.");
        await stream.WriteAsync(FrameCodec.Encode(CommandCatalog.Cancel.Code), cancellationToken);
    }

    private async Task<CashlogyReply> ExchangeAsync(CommandSpec spec, string frame, TimeSpan timeout, Func<string, Task>? beforeSend, CancellationToken cancellationToken)
    {
        var stream = _stream ?? throw new ConnectorUnavailableException("machine_offline", "La machine n'est pas connectée.");
        await DropStaleAsync();
        if (beforeSend is not null)
        {
            await beforeSend(frame);
        }

        try
        {
            await stream.WriteAsync(FrameCodec.Latin1.GetBytes(frame), cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            Disconnect("write failed");
            throw new ReplyLostException($"Connection lost while sending {Sanitize(frame)}.", ex);
        }

        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var remaining = deadline - DateTimeOffset.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                // The stream may still deliver this reply later: it would be stale for the next command.
                Disconnect($"no reply to #{spec.Code}# within {timeout}");
                throw new ReplyLostException($"No reply to #{spec.Code}# within {timeout}.");
            }

            _pendingRead ??= stream.ReadAsync(_readBuffer, CancellationToken.None).AsTask();
            var quiet = Task.Delay(remaining < Settings.Timeouts.Quiet ? remaining : Settings.Timeouts.Quiet, cancellationToken);
            var first = await Task.WhenAny(_pendingRead, quiet);
            cancellationToken.ThrowIfCancellationRequested();
            if (first == _pendingRead)
            {
                int read;
                try
                {
                    read = await _pendingRead;
                }
                catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
                {
                    _pendingRead = null;
                    Disconnect("read failed");
                    throw new ReplyLostException($"Connection lost while waiting for the reply to #{spec.Code}#.", ex);
                }

                _pendingRead = null;
                if (read == 0)
                {
                    Disconnect("closed by the Connector");
                    throw new ReplyLostException($"The Connector closed the connection before replying to #{spec.Code}#.");
                }

                _assembler.Append(_readBuffer.AsSpan(0, read));
                var taken = _assembler.TryTake(spec, quiet: false);
                if (Complete(taken, spec) is { } reply)
                {
                    return reply;
                }
            }
            else
            {
                var taken = _assembler.TryTake(spec, quiet: true);
                if (Complete(taken, spec) is { } reply)
                {
                    return reply;
                }
            }
        }
    }

    private CashlogyReply? Complete(DecodeResult taken, CommandSpec spec)
    {
        if (taken.Skipped.Length > 0)
        {
            _logger.LogWarning("Stale bytes dropped before the reply to #{Command}#: {Frame}", spec.Code, Sanitize(taken.Skipped));
        }

        if (taken.Status != DecodeStatus.Complete)
        {
            return null;
        }

        LastSeen = DateTimeOffset.UtcNow;
        return taken.Reply;
    }

    /// <summary>Bytes that arrived while no command was pending can only be a late reply: drop them.</summary>
    private async Task DropStaleAsync()
    {
        if (_pendingRead is { IsCompleted: true } done)
        {
            _pendingRead = null;
            var read = done.IsCompletedSuccessfully ? done.Result : 0;
            if (read > 0)
            {
                _assembler.Append(_readBuffer.AsSpan(0, read));
            }
        }

        while (_stream is { DataAvailable: true } stream && _pendingRead is null)
        {
            var read = await stream.ReadAsync(_readBuffer);
            if (read <= 0)
            {
                break;
            }

            _assembler.Append(_readBuffer.AsSpan(0, read));
        }

        var stale = _assembler.DiscardStale();
        if (stale.Length > 0)
        {
            _logger.LogWarning("Stale frame dropped: {Frame}", Sanitize(stale));
        }
    }

    private void Disconnect(string reason)
    {
        if (_tcp is null)
        {
            return;
        }

        _connectionReady = false;
        _logger.LogWarning("Connector {MachineId} disconnected: {Reason}", MachineId, reason);
        _tcp.Dispose();
        _tcp = null;
        _stream = null;
        _pendingRead = null;
        _assembler.DiscardStale();
    }

    // ---- connection and health loop ----

    private async Task RunAsync(CancellationToken stop)
    {
        var delay = Settings.ReconnectDelay;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (!IsConnected)
                {
                    await ConnectAndInitializeAsync(stop);
                    delay = Settings.ReconnectDelay;
                }
                else
                {
                    await PollHealthAsync(stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Whatever failed (the Connector, the network, a bug), the loop must go on: a session whose
                // loop died would look connected for ever and never reconnect.
                if (ex is not (SocketException or IOException or ReplyLostException or ConnectorUnavailableException or TimeoutException or OperationCanceledException))
                {
                    _logger.LogError(ex, "Session of machine {MachineId} failed: reconnecting", MachineId);
                }

                await _turn.WaitAsync(stop);
                try
                {
                    Disconnect(ex.Message);
                }
                finally
                {
                    _turn.Release();
                }

                await SetStatusAsync(SessionStatus.Offline, "Connector injoignable");
                await Task.Delay(delay, stop);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, Settings.MaxReconnectDelay.Ticks));
                continue;
            }

            await Task.Delay(Settings.HealthPollInterval, stop);
        }
    }

    private async Task ConnectAndInitializeAsync(CancellationToken stop)
    {
        await _turn.WaitAsync(stop);
        try
        {
            var tcp = new TcpClient { NoDelay = true };
            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                connectTimeout.CancelAfter(Settings.Timeouts.Connect);
                try
                {
                    // Checked again on every connection: a host name may point elsewhere since it was registered.
                    // Refused like a closed port, so the answer tells nothing about what is there.
                    if (Settings.Networks is { } networks)
                    {
                        var addresses = await networks.ResolveAllowedAsync(Settings.Host, connectTimeout.Token)
                            ?? throw new SocketException((int)SocketError.AccessDenied);
                        await tcp.ConnectAsync(addresses, Settings.Port, connectTimeout.Token);
                    }
                    else
                    {
                        await tcp.ConnectAsync(Settings.Host, Settings.Port, connectTimeout.Token);
                    }
                }
                catch
                {
                    tcp.Dispose();
                    throw;
                }
            }

            _tcp = tcp;
            _stream = tcp.GetStream();
            _errorCodes = [];
        }
        finally
        {
            _turn.Release();
        }

        await SetStatusAsync(SessionStatus.Initializing, null);
        await InitializeAsync(stop);
    }

    /// <summary><c>#I#</c> after every connection (and when the Connector says it lost its initialisation).</summary>
    private async Task InitializeAsync(CancellationToken stop)
    {
        var reply = await SendAsync(CommandCatalog.Initialize, [], stop);
        if (reply.IsSuccess)
        {
            Version = reply.Text(0);
            _connectionReady = true;
            await SetStatusAsync(SessionStatus.Ready, null);
            await ReadyAsync();
            return;
        }

        // ER:BUSY: a screen is still open (perhaps the sale whose reply was lost) or it is initialising.
        // Never #Z# here: it would abort a customer's sale on screen. Retry on the next round.
        await SetStatusAsync(reply.Code == CashlogyReply.Busy ? SessionStatus.Busy : SessionStatus.Error, reply.Code);
        Version = null;
        _initPending = true;
    }

    /// <summary>
    /// Operator recovery from a stuck machine (spec 2.5.3 <c>#Z#</c>): reset, initialise again, then the
    /// ready callback reconciles what was left unknown. Refused while this edge runs an operation on the
    /// machine: a reset would abort the customer's sale.
    /// </summary>
    public async Task<CashlogyReply> RecoverAsync(TimeSpan waitForTurn, CancellationToken cancellationToken)
    {
        if (ActiveOperation is not null)
        {
            throw new ConnectorUnavailableException("machine_busy", "Une opération est en cours : annulez-la avant de réinitialiser la machine.");
        }

        var reset = await SendAsync(CommandCatalog.Reset, [], cancellationToken, waitForTurn: waitForTurn);
        if (reset.IsSuccess)
        {
            _initPending = false;
            await SetStatusAsync(SessionStatus.Initializing, null);
            await InitializeAsync(cancellationToken);
        }

        return reset;
    }

    private async Task PollHealthAsync(CancellationToken stop)
    {
        if (_initPending || Status is SessionStatus.Initializing)
        {
            _initPending = false;
            await InitializeAsync(stop);
            return;
        }

        CashlogyReply reply;
        try
        {
            reply = await SendAsync(CommandCatalog.Errors, [], stop, waitForTurn: TimeSpan.Zero);
        }
        catch (ConnectorUnavailableException ex) when (ex.Code == "machine_busy")
        {
            return;
        }

        if (_initialisedAgain)
        {
            // Initialised again inside a command's turn: settle what the reset left unknown, outside it.
            _initialisedAgain = false;
            await ReadyAsync();
        }

        if (reply.Code == CashlogyReply.Illegal)
        {
            // The Connector (or the machine) was reset: initialise again (non-money, safe).
            await SetStatusAsync(SessionStatus.Initializing, null);
            await InitializeAsync(stop);
            return;
        }

        if (reply.Code == CashlogyReply.Busy)
        {
            await SetStatusAsync(SessionStatus.Busy, "La machine est occupée (écran ouvert).");
            return;
        }

        var codes = DeviceError.ParseCodes(reply.Text(0));
        if (!codes.SequenceEqual(_errorCodes))
        {
            _errorCodes = codes;
            if (codes.Count == 0)
            {
                Errors = [];
            }
            else
            {
                var details = await SendAsync(CommandCatalog.ErrorDetails(codes.Count), [string.Join(',', codes), "1"], stop, waitForTurn: TimeSpan.Zero);
                Errors = details.IsSuccess ? details.Values.Select(DeviceError.Parse).ToList() : codes.Select(c => new DeviceError(c, false, c, "", "")).ToList();
            }
        }

        var blocking = Errors.Where(e => !e.IsWarning).ToList();
        if (blocking.Count > 0)
        {
            await SetStatusAsync(SessionStatus.Error, string.Join(" ; ", blocking.Select(e => $"{e.Code} {e.Title}")));
        }
        else
        {
            await SetStatusAsync(SessionStatus.Ready, null);
        }

        if (DateTimeOffset.UtcNow >= _nextMaintenanceCheck)
        {
            await CheckMaintenanceAsync(TimeSpan.Zero, stop);
        }
    }

    /// <summary>
    /// <c>#W#0#</c>, roughly hourly from the health loop (spec 2.7), or <c>#W#1#</c> / <c>#W#2#</c> when the
    /// operator resets the counter or registers a belt cleaning. A Connector without <c>#W#</c> (it changed
    /// in manual v2.3) leaves the figure unknown.
    /// </summary>
    public async Task<CashlogyReply> CheckMaintenanceAsync(TimeSpan waitForTurn, CancellationToken cancellationToken, string action = "0")
    {
        CashlogyReply reply;
        try
        {
            reply = await SendAsync(CommandCatalog.Maintenance, [action], cancellationToken, waitForTurn: waitForTurn);
        }
        catch (ConnectorUnavailableException ex) when (ex.Code == "machine_busy" && action == "0")
        {
            return new CashlogyReply(CashlogyReply.Busy, []);
        }

        _nextMaintenanceCheck = DateTimeOffset.UtcNow + Settings.MaintenanceCheckInterval;
        MaintenanceNotesLeft = reply.IsSuccess ? reply.Cents(0) : reply.IsRejection && reply.Code != CashlogyReply.Busy ? null : MaintenanceNotesLeft;
        return reply;
    }

    /// <summary>
    /// The ready callback settles operations left unknown. Its failure (the store out of reach) says
    /// nothing about the Connector: the session stays up, and the next health poll tries again.
    /// </summary>
    private async Task ReadyAsync()
    {
        try
        {
            await _ready(this);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !_stop.IsCancellationRequested)
        {
            _logger.LogError(ex, "Could not settle the pending operations of machine {MachineId}: trying again on the next health poll", MachineId);
            _initialisedAgain = true;
        }
    }

    private async Task SetStatusAsync(SessionStatus status, string? detail)
    {
        if (status == Status && detail == StatusDetail)
        {
            return;
        }

        Status = status;
        StatusDetail = detail;
        try
        {
            await _statusChanged(status, detail);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Could not record the status of machine {MachineId}", MachineId);
        }
    }

    /// <summary>Frames are logged as LogCom does; they carry amounts and references, never secrets.</summary>
    private static string Sanitize(string frame) => frame.Length > 300 ? frame[..300] + "…" : frame;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            try
            {
                await _loop;
            }
            catch (Exception)
            {
                // Stopping; whatever ended the loop was logged there.
            }
        }

        _tcp?.Dispose();
        _stop.Dispose();
        _turn.Dispose();
    }
}
