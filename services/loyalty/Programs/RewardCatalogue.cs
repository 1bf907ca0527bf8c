using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Members;

namespace Fidpass.Loyalty.Programs;

// Events of a merchant's reward catalogue (one stream per merchant, id = RewardCatalogue.StreamId).
// Each names the whole reward, so the relay maps it to RewardOfferChanged without reading state.

public sealed record RewardAdded(Guid RewardId, Guid MerchantId, string Name, long Points, DateTimeOffset At);

public sealed record RewardChanged(Guid RewardId, Guid MerchantId, string Name, long Points, DateTimeOffset At);

/// <summary>The reward as it was when withdrawn; its id stays known (a redemption of it is a 409, not a 404).</summary>
public sealed record RewardWithdrawn(Guid RewardId, Guid MerchantId, string Name, long Points, DateTimeOffset At);

public sealed record Reward(Guid Id, string Name, long Points);

/// <summary>
/// The rewards a merchant offers, kept as an inline snapshot of its stream: the write model (its
/// version guards concurrent edits) and what redemptions and lookups read, in the same transaction
/// as a member's event.
/// </summary>
public sealed record RewardCatalogue(Guid Id, Guid MerchantId, Reward[] Rewards, Guid[] Withdrawn)
{
    public const int MaxRewards = 50;
    public const int MaxNameLength = 200;

    public static Guid StreamId(Guid merchantId) => Uuid.V5(Uuid.LoyaltyNamespace, "reward-catalogue:" + merchantId);

    public static RewardCatalogue Empty(Guid merchantId) => new(StreamId(merchantId), merchantId, [], []);

    public static RewardCatalogue Create(RewardAdded e) => Empty(e.MerchantId).Apply(e);

    public RewardCatalogue Apply(RewardAdded e) => this with { Rewards = Sorted([.. Rewards, new Reward(e.RewardId, e.Name, e.Points)]) };

    public RewardCatalogue Apply(RewardChanged e) =>
        this with { Rewards = Sorted(Rewards.Select(r => r.Id == e.RewardId ? r with { Name = e.Name, Points = e.Points } : r)) };

    public RewardCatalogue Apply(RewardWithdrawn e) =>
        this with { Rewards = [.. Rewards.Where(r => r.Id != e.RewardId)], Withdrawn = [.. Withdrawn, e.RewardId] };

    public RewardCatalogue Fold(object e) => e switch
    {
        RewardAdded a => Apply(a),
        RewardChanged c => Apply(c),
        RewardWithdrawn w => Apply(w),
        _ => this,
    };

    /// <summary>The reward a member may take, or why not (unknown: 404, withdrawn: 409).</summary>
    public (Reward? Reward, Refusal? Refusal) Find(Guid rewardId) =>
        Rewards.FirstOrDefault(r => r.Id == rewardId) is { } reward ? (reward, null)
        : Withdrawn.Contains(rewardId) ? (null, RewardCatalogueRules.IsWithdrawn) : (null, RewardCatalogueRules.NotFound);

    /// <summary>What a balance can take now, and the cheapest reward still out of reach with the points missing.</summary>
    public (Reward[] Available, Reward? Next, long Missing) Reach(long balance)
    {
        var next = Rewards.FirstOrDefault(r => r.Points > balance);
        return ([.. Rewards.Where(r => r.Points <= balance)], next, next is null ? 0 : next.Points - balance);
    }

    // Cheapest first: what a till shows, and what « the next reward » means.
    private static Reward[] Sorted(IEnumerable<Reward> rewards) => [.. rewards.OrderBy(r => r.Points).ThenBy(r => r.Name, StringComparer.Ordinal)];
}

/// <summary>Pure decisions on the catalogue: each returns the event to append, none when nothing changes, or a refusal.</summary>
public static class RewardCatalogueRules
{
    public static readonly Refusal NotFound = new(404, "REWARD_NOT_FOUND", "Récompense introuvable dans le catalogue de ce commerce.");
    public static readonly Refusal IsWithdrawn = new(409, "REWARD_WITHDRAWN", "Cette récompense a été retirée du catalogue.");
    public static readonly Refusal Full = new(409, "REWARD_CATALOGUE_FULL",
        $"Le catalogue compte déjà {RewardCatalogue.MaxRewards} récompenses : retirez-en une avant d'en ajouter.");

    public static (object? Event, Refusal? Refusal) Add(RewardCatalogue catalogue, Guid rewardId, string name, long points, DateTimeOffset now) =>
        catalogue.Rewards.Length >= RewardCatalogue.MaxRewards
            ? (null, Full)
            : (new RewardAdded(rewardId, catalogue.MerchantId, name, points, now), null);

    public static (object? Event, Refusal? Refusal) Change(RewardCatalogue catalogue, Guid rewardId, string name, long points, DateTimeOffset now)
    {
        var (reward, refusal) = catalogue.Find(rewardId);
        if (reward is null)
        {
            return (null, refusal);
        }

        return reward.Name == name && reward.Points == points
            ? (null, null)
            : (new RewardChanged(rewardId, catalogue.MerchantId, name, points, now), null);
    }

    /// <summary>Withdrawing twice changes nothing the second time (no second message).</summary>
    public static (object? Event, Refusal? Refusal) Withdraw(RewardCatalogue catalogue, Guid rewardId, DateTimeOffset now)
    {
        var (reward, refusal) = catalogue.Find(rewardId);
        return reward is not null ? (new RewardWithdrawn(rewardId, catalogue.MerchantId, reward.Name, reward.Points, now), null)
            : refusal == IsWithdrawn ? (null, null)
            : (null, refusal);
    }
}
