using Fidpass.Wallet.Apple;
using JasperFx;
using Marten;

namespace Fidpass.Wallet.Passes;

/// <summary>What changed for every card of a merchant.</summary>
public enum PassRefresh
{
    /// <summary>Name, colours or logo: only passes with a registered iPhone need a new revision (Google's class was patched).</summary>
    Branding,

    /// <summary>The reward catalogue: every pass whose next reward differs.</summary>
    NextReward,
}

/// <summary>
/// Gives the passes of one merchant a new revision after a merchant-wide change, 200 at a time
/// (one transaction each, then their phones and Google are told). Idempotent: a pass already
/// showing the change is left alone, so a redelivered message changes nothing. For a big merchant
/// this is one push per registered iPhone and one Google patch per changed next reward; the bus
/// delivers the message once it is all done.
/// </summary>
public sealed class MerchantPasses(IDocumentStore store, PassNotifier notifier, TimeProvider time)
{
    private const int Page = 200;

    public async Task RefreshAsync(Guid merchantId, PassRefresh refresh, CancellationToken ct)
    {
        WalletMerchant merchant;
        IReadOnlyList<Guid> candidates;
        await using (var query = store.QuerySession())
        {
            merchant = await query.LoadAsync<WalletMerchant>(merchantId, ct) ?? WalletMerchant.Unknown(merchantId);
            if (refresh == PassRefresh.Branding)
            {
                var brandingAt = merchant.BrandingAt;
                Guid[] stale = [.. await query.Query<WalletPass>().Where(p => p.MerchantId == merchantId && !p.Erased && p.BrandingAt < brandingAt)
                    .Select(p => p.Id).ToListAsync(ct)];
                candidates = stale.Length == 0 ? [] : await query.Query<AppleRegistration>().Where(r => r.SerialNumber.IsOneOf(stale))
                    .Select(r => r.SerialNumber).Distinct().ToListAsync(ct);
            }
            else
            {
                candidates = await query.Query<WalletPass>().Where(p => p.MerchantId == merchantId && !p.Erased).Select(p => p.Id).ToListAsync(ct);
            }
        }

        foreach (var page in candidates.Chunk(Page))
        {
            foreach (var id in await RefreshPageAsync(page, merchant, refresh, ct))
            {
                await notifier.NotifyAsync(id, ct);
            }
        }
    }

    /// <summary>
    /// One transaction per page. A member event committed meanwhile on one of these passes fails it
    /// (version): the page is read again and recomputed, here rather than by the bus, whose few
    /// retries a busy merchant could use up.
    /// </summary>
    private async Task<List<Guid>> RefreshPageAsync(Guid[] page, WalletMerchant merchant, PassRefresh refresh, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var changed = new List<Guid>();
            await using var session = store.LightweightSession();
            var now = time.GetUtcNow();
            var passes = await session.LoadManyAsync<WalletPass>(ct, page);
            // Read after the passes: a reward stored before a pass we hold was last written is seen
            // here, and a pass written after our read fails the save (another reward racing this one).
            var rewards = await PassUpdates.RewardsAsync(session, merchant.Id, ct);
            foreach (var pass in passes)
            {
                var next = refresh == PassRefresh.Branding
                    ? pass with { BrandingAt = pass.BrandingAt > merchant.BrandingAt ? pass.BrandingAt : merchant.BrandingAt }
                    : pass with { NextReward = PassDecisions.NextReward(rewards, pass.Balance) };
                if (!pass.Erased && next != pass)
                {
                    session.Update(PassDecisions.Touched(pass, next, now));
                    changed.Add(pass.Id);
                }
            }

            try
            {
                await session.SaveChangesAsync(ct);
                return changed;
            }
            catch (ConcurrencyException) when (attempt < 20)
            {
                // read the page again
            }
        }
    }
}
