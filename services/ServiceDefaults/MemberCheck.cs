using Fidpass.Contracts.Loyalty;
using MassTransit;
using Microsoft.Extensions.Configuration;

namespace Fidpass.ServiceDefaults;

/// <summary>
/// What a till is told about the card attached to a sale: whether the sale will earn points and, if
/// not, why (French, for the cashier). <see cref="CreditsPoints"/> is null when loyalty could not be
/// asked in time: the payment still credits the card later if it is valid.
/// </summary>
public sealed record LoyaltyNotice(bool? CreditsPoints, string Code, string? Message);

/// <summary>
/// Asks loyalty (request/response on the bus, <see cref="CheckMember"/>) where a card stands before a
/// sale starts. Shared by every service that collects money with a card attached (cash, card), so they
/// say the same thing; the sale goes ahead whatever the answer.
/// </summary>
public static class MemberCheck
{
    /// <summary>Bounded: a sale never waits long on loyalty (<see cref="TimeoutKey"/>, 1 s by default).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(1);

    public const string TimeoutKey = "Loyalty:MemberCheckTimeout";

    public static readonly LoyaltyNotice Unavailable = new(null, "loyalty_unavailable",
        "Le service fidélité ne répond pas : la carte n'a pas pu être vérifiée. Les points seront crédités si elle est valide.");

    /// <summary>Registers the request client; call it in the service's <c>AddFidpassMessaging</c> configuration.</summary>
    public static void AddMemberCheck(this IBusRegistrationConfigurator bus, IConfiguration configuration) =>
        bus.AddRequestClient<CheckMember>(RequestTimeout.After(ms: (int)(configuration.GetValue<TimeSpan?>(TimeoutKey) ?? DefaultTimeout).TotalMilliseconds));

    public static async Task<LoyaltyNotice> AskAsync(this IRequestClient<CheckMember> client, Guid merchantId, Guid memberId, CancellationToken ct)
    {
        try
        {
            var answer = await client.GetResponse<MemberChecked>(new CheckMember(merchantId, memberId), ct);
            return Notice(answer.Message.Standing);
        }
        catch (RequestTimeoutException)
        {
            return Unavailable;
        }
    }

    public static LoyaltyNotice Notice(MemberStanding standing) => standing switch
    {
        MemberStanding.Active => new(true, "member_active", null),
        MemberStanding.Erased => new(false, "member_erased",
            "Cette carte de fidélité a été supprimée : la vente est encaissée, mais aucun point ne sera crédité."),
        MemberStanding.OtherMerchant => new(false, "member_of_another_merchant",
            "Cette carte appartient au programme de fidélité d'un autre commerce : la vente est encaissée, mais aucun point ne sera crédité."),
        _ => new(false, "member_unknown", "Carte de fidélité inconnue : la vente est encaissée, mais aucun point ne sera crédité."),
    };
}
