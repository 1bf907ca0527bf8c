using Fidpass.Wallet.Apple;

namespace Fidpass.Wallet.Passes;

/// <summary>
/// What a member's wallet pass shows, kept from loyalty's events (document id = member UUID = the
/// pass's serial number and barcode). <see cref="Revision"/> counts the changes a phone must learn
/// about; <see cref="NotifiedRevision"/> is the last one pushed, so a change whose pushes failed is
/// pushed again by <see cref="PendingNotifications"/> and a redelivered event, which changes
/// nothing, pushes nothing.
/// </summary>
/// <param name="MemberName">The member's first name (never the e-mail); empty once erased.</param>
/// <param name="BalanceAt">When the balance was true: an older event arriving late does not overwrite it.</param>
/// <param name="LastChange">The last change, as the phone announces it (« +12 points »).</param>
/// <param name="UpdatedAt">When the pass last changed, exactly: the PassKit web service's update tag.</param>
/// <param name="LastModified">Whole seconds, strictly increasing per pass: HTTP dates have no finer precision.</param>
/// <param name="AuthenticationToken">The pass's own secret, which phones present (<c>ApplePass …</c>).</param>
/// <param name="LastChangeId">The operation behind <paramref name="LastChange"/> (Google's message id: announced once).</param>
/// <param name="GoogleRevision">The last revision Google Wallet's object shows (<see cref="NotifiedRevision"/>'s counterpart).</param>
/// <param name="BrandingAt">The merchant branding the registered iPhones were told about (<see cref="MerchantPasses"/>).</param>
/// <param name="NextReward">What the member can aim for next (<see cref="PassDecisions.NextReward"/>); null without a catalogue.</param>
public sealed record WalletPass(
    Guid Id,
    Guid MerchantId,
    string MemberName,
    long Balance,
    DateTimeOffset BalanceAt,
    string? LastChange,
    DateTimeOffset UpdatedAt,
    DateTimeOffset LastModified,
    long Revision,
    long NotifiedRevision,
    string AuthenticationToken,
    bool Erased,
    Guid? LastChangeId = null,
    long GoogleRevision = 0,
    string? NextReward = null,
    DateTimeOffset BrandingAt = default)
{
    public long UpdateTag => UpdatedAt.UtcTicks;
}

/// <summary>
/// The merchant as its customers' passes show it (document id = merchant id): its name from
/// <c>MerchantRegistered</c>, then its name, colours and logo from <c>MerchantBrandingChanged</c>
/// (the newest <see cref="BrandingAt"/> wins).
/// </summary>
/// <param name="BackgroundColor">CSS <c>rgb(r, g, b)</c>, as Apple's pass.json wants it.</param>
/// <param name="LogoPngBase64">The shop's own logo; null until it chooses one (a square in its colours is drawn).</param>
public sealed record WalletMerchant(Guid Id, string Slug, string Name, string BackgroundColor, string ForegroundColor, string LabelColor,
    string? LogoPngBase64 = null, DateTimeOffset BrandingAt = default)
{
    public const string DefaultBackground = "rgb(31, 58, 96)";
    public const string DefaultForeground = "rgb(255, 255, 255)";
    public const string DefaultLabel = "rgb(190, 214, 240)";

    public static WalletMerchant Unknown(Guid id) => new(id, "", "Fidpass", DefaultBackground, DefaultForeground, DefaultLabel);

    /// <summary>The shop's logo (PNG): its own, or a square drawn in its colours.</summary>
    public byte[] Logo() => LogoPngBase64 is { Length: > 0 } logo ? Convert.FromBase64String(logo) : PassImages.Square(100, BackgroundColor, ForegroundColor);

    /// <summary><c>#RRGGBB</c> (the contracts' notation) → <c>rgb(r, g, b)</c>.</summary>
    public static string Rgb(string hex)
    {
        var value = Convert.FromHexString(hex.TrimStart('#'));
        return $"rgb({value[0]}, {value[1]}, {value[2]})";
    }
}

/// <summary>A reward of a merchant's catalogue (document id = reward id), from loyalty's <c>RewardOfferChanged</c>.</summary>
public sealed record WalletReward(Guid Id, Guid MerchantId, string Name, long Points, bool Withdrawn, DateTimeOffset OccurredAt);

/// <summary>A loyalty operation already applied (document id = the event's operation id): its redelivery is a no-op.</summary>
public sealed record AppliedOperation(Guid Id, Guid MemberId, DateTimeOffset AppliedAt);

/// <summary>One of loyalty's member events, as it touches a pass.</summary>
/// <param name="OperationId">The event's own id (deduplication key); null for events whose effect is idempotent by itself (enrolment, erasure).</param>
/// <param name="NewBalance">The balance after it, when it is a balance change.</param>
/// <param name="Delta">Signed points change (0 when none).</param>
/// <param name="FirstName">Set by an enrolment.</param>
public sealed record PassChange(
    Guid? OperationId,
    Guid MemberId,
    Guid MerchantId,
    long? NewBalance,
    long Delta,
    string? FirstName,
    bool Erase,
    DateTimeOffset OccurredAt);

public static class PassDecisions
{
    /// <summary>
    /// The pass after <paramref name="change"/>, or null when nothing a phone shows changes (an
    /// event about an erased member, an enrolment seen twice). A pass is created by whichever
    /// event comes first, so a credit that overtakes its enrolment still shows.
    /// </summary>
    public static WalletPass? Evolve(WalletPass? pass, PassChange change, IReadOnlyList<WalletReward> rewards, DateTimeOffset now, Func<string> newToken)
    {
        if (pass is { Erased: true })
        {
            return null;
        }

        var current = pass ?? new WalletPass(change.MemberId, change.MerchantId, "", 0, DateTimeOffset.MinValue, null,
            DateTimeOffset.MinValue, DateTimeOffset.MinValue, 0, 0, newToken(), false);
        WalletPass next;
        if (change.Erase)
        {
            next = current with { MemberName = "", LastChange = null, LastChangeId = null, Erased = true };
        }
        else
        {
            next = current;
            if (change.FirstName is { Length: > 0 } name && name != current.MemberName)
            {
                next = next with { MemberName = name };
            }

            if (change.NewBalance is { } balance && change.OccurredAt >= current.BalanceAt)
            {
                next = next with { Balance = balance, BalanceAt = change.OccurredAt, LastChange = DescribeDelta(change.Delta), LastChangeId = change.OperationId };
            }
        }

        if (!next.Erased)
        {
            next = next with { NextReward = NextReward(rewards, next.Balance) };
        }

        return pass is not null && next == pass ? null : Touched(current, next, now);
    }

    /// <summary>
    /// The cheapest reward of the catalogue the member cannot afford yet (« Café offert : encore 30
    /// points »), « Récompense disponible » when every reward is within reach, null without a catalogue.
    /// </summary>
    public static string? NextReward(IReadOnlyList<WalletReward> rewards, long balance)
    {
        var offered = rewards.Where(r => !r.Withdrawn && r.Points > 0).ToList();
        if (offered.Count == 0)
        {
            return null;
        }

        var next = offered.Where(r => r.Points > balance).OrderBy(r => r.Points).ThenBy(r => r.Name, StringComparer.Ordinal).FirstOrDefault();
        return next is null ? "Récompense disponible" : $"{next.Name} : encore {next.Points - balance} {(next.Points - balance == 1 ? "point" : "points")}";
    }

    /// <summary><paramref name="next"/> as a new revision of <paramref name="current"/>: the phones and Google must learn about it.</summary>
    public static WalletPass Touched(WalletPass current, WalletPass next, DateTimeOffset now)
    {
        var lastModified = TruncateToSecond(now);
        if (lastModified <= current.LastModified)
        {
            lastModified = current.LastModified.AddSeconds(1);
        }

        return next with
        {
            UpdatedAt = now > current.UpdatedAt ? now : current.UpdatedAt.AddTicks(1),
            LastModified = lastModified,
            Revision = current.Revision + 1,
        };
    }

    /// <summary>« +12 points », « -50 points », as the phone announces the change.</summary>
    public static string? DescribeDelta(long delta) => delta switch
    {
        0 => null,
        1 => "+1 point",
        -1 => "-1 point",
        > 0 => $"+{delta} points",
        _ => $"{delta} points",
    };

    private static DateTimeOffset TruncateToSecond(DateTimeOffset at) =>
        new(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
