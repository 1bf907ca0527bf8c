using JasperFx;
using Npgsql;

namespace Fidpass.Loyalty.Members;

/// <summary>
/// Optimistic concurrency: a writer that lost the race (stream version moved, or a unique key was
/// taken) starts over from fresh state. Nothing was written by the losing transaction.
/// </summary>
public static class Conflicts
{
    public const int MaxAttempts = 100;

    public static bool IsConflict(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            // A new stream started by two writers at once (the first reward of a catalogue): the second finds it taken.
            if (e is ConcurrencyException or DocumentAlreadyExistsException or Marten.Exceptions.ExistingStreamIdCollisionException)
            {
                return true;
            }

            if (e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                return true;
            }
        }

        return false;
    }

    public static Task BackOffAsync(int attempt, CancellationToken ct) =>
        Task.Delay(Random.Shared.Next(1, 3 + Math.Min(attempt, 25)), ct);
}
