using Fidpass.Contracts.Loyalty;
using Fidpass.Contracts.Merchants;
using Fidpass.Wallet.Google;
using Marten;
using MassTransit;

namespace Fidpass.Wallet.Passes;

/// <summary>The merchant's name on its customers' passes, until it chooses its own branding.</summary>
public sealed class MerchantRegisteredConsumer(IDocumentStore store, GoogleWalletSync google) : IConsumer<MerchantRegistered>
{
    public async Task Consume(ConsumeContext<MerchantRegistered> context)
    {
        var e = context.Message;
        await using var session = store.LightweightSession();
        var known = await session.LoadAsync<WalletMerchant>(e.MerchantId, context.CancellationToken);
        // A branding that overtook the registration keeps its name.
        var merchant = (known ?? WalletMerchant.Unknown(e.MerchantId)) with
        {
            Slug = e.Slug,
            Name = known is { BrandingAt: var at } && at != default ? known.Name : e.Name,
        };
        session.Store(merchant);
        await session.SaveChangesAsync(context.CancellationToken);
        // The shop's class at Google (a card enrolled first made it « Fidpass »); a failure waits for the next change.
        await google.SyncClassAsync(merchant, context.CancellationToken);
    }
}

/// <summary>
/// The shop's name, colours and logo on its customers' cards (newest <c>OccurredAt</c> wins). At
/// Google the branding lives in the merchant's class: one patch reaches every card. An Apple pass
/// carries it in its own files: only passes with a registered iPhone get a new revision and a
/// push (the others are built with the new branding when downloaded), see <see cref="MerchantPasses"/>.
/// </summary>
public sealed class MerchantBrandingChangedConsumer(IDocumentStore store, MerchantPasses passes, GoogleWalletSync google)
    : IConsumer<MerchantBrandingChanged>
{
    public async Task Consume(ConsumeContext<MerchantBrandingChanged> context)
    {
        var e = context.Message;
        var ct = context.CancellationToken;
        WalletMerchant merchant;
        await using (var session = store.LightweightSession())
        {
            var known = await session.LoadAsync<WalletMerchant>(e.MerchantId, ct) ?? WalletMerchant.Unknown(e.MerchantId);
            if (known.BrandingAt > e.OccurredAt)
            {
                return; // an older branding arriving late
            }

            merchant = known with
            {
                Slug = e.Slug,
                Name = e.Name,
                BackgroundColor = WalletMerchant.Rgb(e.BackgroundColor),
                ForegroundColor = WalletMerchant.Rgb(e.ForegroundColor),
                LabelColor = WalletMerchant.Rgb(e.ForegroundColor),
                LogoPngBase64 = e.LogoPngBase64,
                BrandingAt = e.OccurredAt,
            };
            if (merchant != known)
            {
                session.Store(merchant);
                await session.SaveChangesAsync(ct);
            }
        }

        // Also on a redelivery (each step is idempotent): the first delivery may have stored the branding and then failed.
        await passes.RefreshAsync(e.MerchantId, PassRefresh.Branding, ct);
        if (!await google.SyncClassAsync(merchant, ct))
        {
            throw new InvalidOperationException($"Google Wallet class of merchant {merchant.Id} not updated; the bus retries");
        }
    }
}

/// <summary>
/// A reward of the catalogue added, changed or withdrawn (newest <c>OccurredAt</c> wins per reward):
/// the passes whose next reward it changes get a new revision (Apple push, Google patch).
/// </summary>
public sealed class RewardOfferChangedConsumer(IDocumentStore store, MerchantPasses passes) : IConsumer<RewardOfferChanged>
{
    public async Task Consume(ConsumeContext<RewardOfferChanged> context)
    {
        var e = context.Message;
        var ct = context.CancellationToken;
        await using (var session = store.LightweightSession())
        {
            var known = await session.LoadAsync<WalletReward>(e.RewardId, ct);
            if (known is not null && (known.OccurredAt > e.OccurredAt || known.MerchantId != e.MerchantId))
            {
                return;
            }

            var reward = new WalletReward(e.RewardId, e.MerchantId, e.Name, e.Points, e.Withdrawn, e.OccurredAt);
            if (reward != known)
            {
                session.Store(reward);
                await session.SaveChangesAsync(ct);
            }
        }

        // Also on a redelivery: only passes whose next reward differs change, so a second run changes nothing.

        await passes.RefreshAsync(e.MerchantId, PassRefresh.NextReward, ct);
    }
}
