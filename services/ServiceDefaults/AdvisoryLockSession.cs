using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Fidpass.ServiceDefaults;

/// <summary>
/// A PostgreSQL session of its own (never pooled) that holds session-level advisory locks: what
/// makes one replica of a service the only one doing something (running the daemon, talking to a
/// cash machine). When the process dies, even by <c>kill -9</c>, PostgreSQL ends the session and
/// every lock it held, so another replica can take over. A holder calls <see cref="CheckAsync"/>
/// every <see cref="CheckInterval"/> and gives up what it owns when it throws: the session is gone
/// and another replica may hold the locks already. A new holder waits <see cref="TakeoverDelay"/>
/// before acting on a lock another replica may have held, so such a replica has noticed by then.
/// Commands are serialised: one connection runs one command at a time.
/// </summary>
public sealed class AdvisoryLockSession : IAsyncDisposable
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan TakeoverDelay = CheckInterval + CheckTimeout + TimeSpan.FromSeconds(1);

    private readonly NpgsqlConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private AdvisoryLockSession(NpgsqlConnection connection) => _connection = connection;

    /// <summary>The lock key of a name: the same in every replica, different per name.</summary>
    public static long Key(string name) => BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes(name)), 0);

    /// <summary>Opens the session; <paramref name="applicationName"/> shows in <c>pg_stat_activity</c> who holds what.</summary>
    public static async Task<AdvisoryLockSession> OpenAsync(string connectionString, string applicationName, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            ApplicationName = applicationName,
            CommandTimeout = 0,
        }.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return new AdvisoryLockSession(connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until this session holds the lock (PostgreSQL queues the waiters).</summary>
    public Task WaitAsync(long key, CancellationToken cancellationToken) =>
        RunAsync("SELECT pg_advisory_lock(@key)", key, 0, cancellationToken);

    /// <summary>Takes the lock if no other session holds it.</summary>
    public async Task<bool> TryAcquireAsync(long key, CancellationToken cancellationToken) =>
        await RunAsync("SELECT pg_try_advisory_lock(@key)", key, (int)CheckTimeout.TotalSeconds, cancellationToken) is true;

    public Task ReleaseAsync(long key, CancellationToken cancellationToken) =>
        RunAsync("SELECT pg_advisory_unlock(@key)", key, (int)CheckTimeout.TotalSeconds, cancellationToken);

    /// <summary>Throws when the session (and with it every lock) is gone or does not answer in time.</summary>
    public Task CheckAsync(CancellationToken cancellationToken) =>
        RunAsync("SELECT 1", null, (int)CheckTimeout.TotalSeconds, cancellationToken);

    private async Task<object?> RunAsync(string sql, long? key, int timeoutSeconds, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var command = new NpgsqlCommand(sql, _connection) { CommandTimeout = timeoutSeconds };
            if (key is { } value)
            {
                command.Parameters.AddWithValue("key", value);
            }

            return await command.ExecuteScalarAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        _gate.Dispose();
    }
}
