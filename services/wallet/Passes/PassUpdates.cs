using System.Security.Cryptography;
using Fidpass.Wallet.Apple;
using Fidpass.Wallet.Google;
using JasperFx;
using Marten;

namespace Fidpass.Wallet.Passes;

/// <summary>
/// Applies a member event to its pass and tells the phones. The applied operation and the new pass
/// are one transaction: a redelivered event finds its operation applied and does nothing, pushes
/// nothing. Two events of one member racing conflict on the pass's version (or on its insert) and
/// the loser is retried by the bus with the winner's pass.
/// </summary>
public sealed class PassUpdates(IDocumentStore store, PassNotifier notifier, TimeProvider time)
{
    public async Task ApplyAsync(PassChange change, CancellationToken ct)
    {
        WalletPass? next;
        await using (var session = store.LightweightSession())
        {
            if (change.OperationId is { } applied && await session.LoadAsync<AppliedOperation>(applied, ct) is not null)
            {
                return;
            }

            var pass = await session.LoadAsync<WalletPass>(change.MemberId, ct);
            if (pass is not null && pass.MerchantId != change.MerchantId)
            {
                return; // a member UUID belongs to one merchant; anything else is not this pass
            }

            next = PassDecisions.Evolve(pass, change, await RewardsAsync(session, change.MerchantId, ct), time.GetUtcNow(), NewAuthenticationToken);
            if (change.OperationId is { } operation)
            {
                session.Insert(new AppliedOperation(operation, change.MemberId, time.GetUtcNow()));
            }

            if (next is not null && pass is null)
            {
                session.Insert(next);
            }
            else if (next is not null)
            {
                session.Update(next);
            }

            try
            {
                await session.SaveChangesAsync(ct);
            }
            catch (DocumentAlreadyExistsException) when (change.OperationId is null && pass is null)
            {
                return; // the same enrolment, delivered twice at once: the other delivery created the pass
            }
        }

        if (next is not null)
        {
            await notifier.NotifyAsync(next.Id, ct);
        }
    }

    /// <summary>The merchant's reward catalogue, withdrawn rewards included (they are filtered where the next reward is chosen).</summary>
    public static async Task<IReadOnlyList<WalletReward>> RewardsAsync(IQuerySession session, Guid merchantId, CancellationToken ct) =>
        await session.Query<WalletReward>().Where(r => r.MerchantId == merchantId).ToListAsync(ct);

    /// <summary>Apple asks for at least 16 characters; 32 random bytes, URL-safe.</summary>
    public static string NewAuthenticationToken() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>
/// Tells the phones holding a pass that it changed: an APNs push to every Apple device registered
/// for it, and Google Wallet's object updated. Marks the revision each of them has afterwards, so
/// what failed is retried by <see cref="PendingNotifications"/> (Google down does not push the
/// iPhones twice, and the reverse).
/// </summary>
public sealed class PassNotifier(IDocumentStore store, ApplePushes apple, GoogleWalletSync google, ILogger<PassNotifier> log)
{
    public async Task NotifyAsync(Guid passId, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        var pass = await session.LoadAsync<WalletPass>(passId, ct);
        if (pass is null || (pass.NotifiedRevision >= pass.Revision && pass.GoogleRevision >= pass.Revision))
        {
            return;
        }

        var appleDone = pass.NotifiedRevision >= pass.Revision || await apple.PushAsync(pass, ct);
        var googleDone = pass.GoogleRevision >= pass.Revision
            || await google.SyncAsync(pass, await session.LoadAsync<WalletMerchant>(pass.MerchantId, ct) ?? WalletMerchant.Unknown(pass.MerchantId), ct);
        if (!appleDone && !googleDone)
        {
            return;
        }

        session.Update(pass with
        {
            NotifiedRevision = appleDone ? pass.Revision : pass.NotifiedRevision,
            GoogleRevision = googleDone ? pass.Revision : pass.GoogleRevision,
        });
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (ConcurrencyException)
        {
            // The newer change tells the phones again.
            log.LogDebug("Pass changed while its phones were told");
        }
    }
}

/// <summary>
/// Pushes again what a failed push left behind (APNs down, a crash between commit and push): every
/// few seconds, passes whose last change is older than a grace period and not yet pushed.
/// </summary>
public sealed class PendingNotifications(IDocumentStore store, PassNotifier notifier, TimeProvider time, IConfiguration configuration,
    ILogger<PendingNotifications> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(configuration.GetValue("Wallet:RetryPushSeconds", 15));
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var before = time.GetUtcNow() - interval;
                await using var session = store.QuerySession();
                var pending = await session.Query<WalletPass>()
                    .Where(p => (p.NotifiedRevision < p.Revision || p.GoogleRevision < p.Revision) && p.UpdatedAt < before)
                    .Select(p => p.Id).Take(500).ToListAsync(stoppingToken);
                foreach (var id in pending)
                {
                    await notifier.NotifyAsync(id, stoppingToken);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogWarning(e, "Pending pass pushes not sent this round");
            }
        }
    }
}
